"""The one-time link in a notice acknowledges once, capped at what the holder had, and the case updates at once."""

from __future__ import annotations

import re

from app.notify import run_worker
from tests.factories import auth


def _link_of(mailbox, graph, recall_id, gln):
    ids = {r["id"] for r in graph.query("MATCH (n:Notification {recall_id: $id, party_gln: $g, channel: 'email'}) "
                                        "RETURN n.delivery_id AS id", read=True, id=recall_id, g=gln)}
    [mail] = mailbox.of(ids)
    return re.search(r"http://tg\.test(/recall-ack/[0-9a-f]{64})", mail["message"].get_content()).group(1)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_link_acknowledges_once_within_what_the_holder_had(app, graph, notify_app, mailbox, chain, regulator):
    client = app.test_client()
    opened = client.post("/api/v1/recalls", json={"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}],
                                                 "reason": "农药残留超标", "level": 2}, headers=auth(regulator))
    assert opened.status_code == 201, opened.json
    recall_id = opened.json["recall_id"]
    since = opened.json["opened_at"][:19]
    run_worker(notify_app, recall_id=recall_id, once=True)
    shop = chain["retailers"][0]
    path = _link_of(mailbox, graph, recall_id, shop["gln"])

    page = client.get(path)
    assert page.status_code == 200 and "召回确认" in page.text and "农药残留超标" in page.text
    assert client.get(path + "?lang=en").text.count("Recall confirmation") >= 1
    token = _csrf(page.text)
    # no CSRF token: refused, nothing recorded
    raw = path.rsplit("/", 1)[1]
    assert client.post("/recall-ack", data={"token": raw, "quantity_removed": "1", "unit": "KGM"}).status_code == 400
    # more than it had: its custody edge (quantity 2 + in transit 2) plus what the case's shipment sent it (2) is 6
    too_much = client.post("/recall-ack", data={"csrf_token": token, "token": raw, "quantity_removed": "6.5",
                                                "unit": "KGM"})
    assert too_much.status_code == 422 and "超过" in too_much.text
    case = client.get(f"/api/v1/recalls/{recall_id}", headers=auth(regulator)).json
    assert shop["gln"] in case["effectiveness"]["holders_outstanding"]

    done = client.post("/recall-ack", data={"csrf_token": token, "token": raw, "quantity_removed": "2", "unit": "KGM"})
    assert done.status_code == 200 and "已确认" in done.text
    case = client.get(f"/api/v1/recalls/{recall_id}", headers=auth(regulator)).json
    mine = next(h for h in case["holders"] if h["party"]["gln"] == shop["gln"])
    assert [a["quantity_removed"] for a in mine["acknowledgements"]] == [2.0]
    assert shop["gln"] not in case["effectiveness"]["holders_outstanding"]

    again = client.post("/recall-ack", data={"csrf_token": token, "token": raw, "quantity_removed": "0",
                                             "unit": "KGM"})
    assert again.status_code == 409 and "已使用" in again.text
    assert "已使用" in client.get(path).text
    case = client.get(f"/api/v1/recalls/{recall_id}", headers=auth(regulator)).json
    mine = next(h for h in case["holders"] if h["party"]["gln"] == shop["gln"])
    assert len(mine["acknowledgements"]) == 1
    # the token is not stored: only its hash is; nor is it in the audit trail of the posts
    assert graph.query("MATCH (a:AuditEntry) WHERE a.path STARTS WITH '/recall-ack' AND a.at >= $since "
                       "AND (a.body CONTAINS $t OR a.path CONTAINS $t) RETURN count(a) AS n", read=True,
                       t=raw, since=since)[0]["n"] == 0
    assert graph.query("MATCH (l:AckLink) WHERE l.token_hash = $t OR l.link_id = $t RETURN count(l) AS n",
                       read=True, t=raw)[0]["n"] == 0


def test_an_unknown_link_opens_nothing(client):
    assert client.get("/recall-ack/" + "0" * 64).status_code == 404
    assert client.get("/recall-ack/not-a-token").status_code == 404
