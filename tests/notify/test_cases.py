"""Drills change no status; producers recall their own lots; the cases list filters, pages and authorises; silent
holders are escalated once; the public notice shows no holders or quantities."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from app.notify import notify_key, run_worker
from graph import recall_cases, recalls
from gs1.identifiers import lot_key
from tests.factories import auth
from tests.notify.arrange import shipped_lot


def _lots(graph, gtin):
    return {r["key"]: r["status"] for r in graph.query(
        "MATCH (l:Lot {gtin: $g}) RETURN l.key AS key, l.status AS status", read=True, g=gtin)}


def test_a_drill_leaves_every_lot_as_it_was_and_reports(client, graph, notify_app, chain, regulator):
    # a downstream lot made from the implicated one, so the drill walks more than one lot
    before = _lots(graph, chain["lot"]["gtin"])
    events_before = graph.query("MATCH (e:Event {disposition: 'recalled'})-[:OBJECT]->(:Lot {gtin: $g}) "
                                "RETURN count(e) AS n", read=True, g=chain["lot"]["gtin"])[0]["n"]
    answer = client.post("/api/v1/recalls", json={"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}],
                                                   "reason": "演练 drill", "level": 1, "drill": True},
                         headers=auth(regulator))
    assert answer.status_code == 201, answer.json
    case = answer.json
    assert case["drill"] is True and case["recall_id"].startswith("DR-")
    assert {h["party"]["gln"] for h in case["holders"]} == set(chain["held"])
    assert _lots(graph, chain["lot"]["gtin"]) == before  # statuses unchanged
    assert all(a["status"] != "recalled" for a in case["affected"])
    assert graph.query("MATCH (e:Event {disposition: 'recalled'})-[:OBJECT]->(:Lot {gtin: $g}) RETURN count(e) AS n",
                       read=True, g=chain["lot"]["gtin"])[0]["n"] == events_before
    # the notices go out, marked as a drill
    payloads = [json.loads(r["p"]) for r in graph.query(
        "MATCH (n:Notification {recall_id: $id}) RETURN n.payload AS p", read=True, id=case["recall_id"])]
    assert len(payloads) == 3 * len(chain["held"]) and all(p["drill"] for p in payloads)
    run_worker(notify_app, recall_id=case["recall_id"], once=True)
    report = client.get(f"/api/v1/recalls/{case['recall_id']}/report", headers=auth(regulator)).json
    assert report["holders_total"] == len(chain["held"])
    assert report["reached"]["24h"] == len(chain["held"]) and report["acknowledged"]["24h"] == 0
    assert report["missed"] == [] and report["trace_ms"] is not None
    # a drill is not on the public notice nor in the lot's recall cases
    assert client.get(f"/recall/{case['recall_id']}").status_code == 404
    assert case["recall_id"] not in recalls.implicating(graph, lot_key(chain["lot"]["gtin"], chain["lot"]["lot"]))


def test_a_producer_recalls_its_own_lot_and_no_other(client, graph, chain, regulator):
    producer, other = chain["producer"], chain["retailers"][0]
    lot = {"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}
    refused = client.post("/api/v1/recalls", json={"lots": [lot], "reason": "not mine", "level": 3},
                          headers=auth(other["token"]))
    assert refused.status_code == 403
    assert _lots(graph, lot["gtin"])[lot_key(lot["gtin"], lot["lot"])] in (None, "active")
    own = client.post("/api/v1/recalls", json={"lots": [lot], "reason": "自主召回 self-detected mould", "level": 2,
                                               "refund_contact": "400-800-1234"}, headers=auth(producer["token"]))
    assert own.status_code == 201, own.json
    case = own.json
    assert case["initiated_by"] == "producer" and case["opened_by_party"] == producer["gln"]
    assert {h["party"]["gln"] for h in case["holders"]} == set(chain["held"])
    assert _lots(graph, lot["gtin"])[lot_key(lot["gtin"], lot["lot"])] == "recalled"
    listed = client.get(f"/api/v1/recalls?party={producer['gln']}&limit=200", headers=auth(regulator)).json
    assert case["recall_id"] in [c["recall_id"] for c in listed["cases"]]  # regulators see it at once
    notices = graph.query("MATCH (n:Notification {recall_id: $id}) RETURN count(n) AS n", read=True,
                          id=case["recall_id"])[0]["n"]
    assert notices == 3 * len(chain["held"])


def test_the_cases_list_filters_pages_and_shows_a_party_only_its_cases(client, graph, regulator):
    a, b = shipped_lot(graph, 1), shipped_lot(graph, 1)
    ids = []
    for chain, level in ((a, 1), (b, 3)):
        r = client.post("/api/v1/recalls", json={"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}],
                                                 "reason": "list test", "level": level}, headers=auth(regulator))
        ids.append(r.json["recall_id"])
    by_gtin = client.get(f"/api/v1/recalls?gtin={a['lot']['gtin']}", headers=auth(regulator)).json
    assert [c["recall_id"] for c in by_gtin["cases"]] == [ids[0]]
    level3 = client.get(f"/api/v1/recalls?gtin={b['lot']['gtin']}&level=1", headers=auth(regulator)).json
    assert level3["cases"] == []
    # a holder in case a sees case a and not case b
    shop = a["retailers"][0]
    mine = client.get("/api/v1/recalls?limit=200", headers=auth(shop["token"])).json
    assert ids[0] in [c["recall_id"] for c in mine["cases"]] and ids[1] not in [c["recall_id"] for c in mine["cases"]]
    # keyset paging: pages of one, newest first, no case twice
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    seen, page = [], None
    for _ in range(50):
        q = {"from": since, "limit": 1, **({"page": page} if page else {})}
        got = client.get("/api/v1/recalls", query_string=q, headers=auth(regulator)).json
        seen += [c["recall_id"] for c in got["cases"]]
        page = got["next"]
        if not page:
            break
    assert len(seen) == len(set(seen)) and ids[1] in seen and ids[0] in seen
    assert seen.index(ids[1]) < seen.index(ids[0])
    assert client.get("/api/v1/recalls?page=garbage", headers=auth(regulator)).status_code == 400
    assert client.get("/api/v1/recalls?level=7", headers=auth(regulator)).status_code == 422
    assert client.get("/api/v1/recalls").status_code == 401


def test_a_holder_silent_past_the_start_deadline_is_escalated_once(app, graph, chain):
    key = notify_key(app)
    opened = datetime.now(UTC) - timedelta(hours=30)  # level 1: start within 24 h, so past it
    case = recalls.open_case(graph, [lot_key(chain["lot"]["gtin"], chain["lot"]["lot"])], 1, "escalation test",
                             now=opened, notify_key=key)
    shop = chain["retailers"][0]
    recalls.acknowledge(graph, case["recall_id"], {"party_gln": shop["gln"], "quantity_removed": 1.0,
                                                   "quantity_recovered": 0.0, "unit": "KGM", "note": None,
                                                   "lot_key": None, "token_id": None})
    raised = [r for r in recall_cases.escalate(graph, key, case["recall_id"]) if r["recall_id"] == case["recall_id"]]
    silent = set(chain["held"]) - {shop["gln"]}
    assert {r["party_gln"] for r in raised} == silent
    alerts = graph.query("MATCH (a:Alert {kind: 'recall_holder_silent'}) WHERE $k IN a.subject_keys "
                         "RETURN a.state AS state, a.subject_keys AS keys", read=True, k=f"recall:{case['recall_id']}")
    assert len(alerts) == len(silent) and all(a["state"] == "open" for a in alerts)
    reminders = graph.query("MATCH (n:Notification {recall_id: $id, kind: 'escalation'}) RETURN n.party_gln AS g",
                            read=True, id=case["recall_id"])
    assert sorted(r["g"] for r in reminders) == sorted(g for g in silent for _ in range(3))
    assert recall_cases.escalate(graph, key, case["recall_id"]) == []


def test_the_public_notice_shows_the_case_and_no_holder(client, graph, chain, regulator):
    body = {"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}], "reason": "黄曲霉毒素B1超标",
            "level": 1, "refund_contact": "400-123-4567"}
    r = client.post("/api/v1/recalls", json=body, headers=auth(regulator))
    page = client.get(f"/recall/{r.json['recall_id']}")
    assert page.status_code == 200
    assert "黄曲霉毒素B1超标" in page.text and chain["lot"]["lot"] in page.text and "长白山人参" in page.text
    assert "400-123-4567" in page.text and "12315" in page.text
    for shop in chain["retailers"]:
        assert shop["name_zh"] not in page.text and shop["gln"] not in page.text
    assert "KGM" not in page.text
    assert "Food recall notice" in client.get(f"/recall/{r.json['recall_id']}?lang=en").text
    # the consumer page of the recalled lot links the notice from its banner, with the reason
    scan = client.get(f"/01/{chain['lot']['gtin']}/10/{chain['lot']['lot']}", headers={"Accept": "text/html"})
    assert f"/recall/{r.json['recall_id']}" in scan.text and "黄曲霉毒素B1超标" in scan.text
    assert client.get("/recall/RC-NOPE").status_code == 404


def test_changing_and_closing_a_case_tell_every_holder_each_time(client, graph, chain, regulator):
    lot = {"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}
    case = client.post("/api/v1/recalls", json={"lots": [lot], "reason": "初判 first finding", "level": 3},
                       headers=auth(regulator)).json
    for level in (2, 1):
        changed = client.patch(f"/api/v1/recalls/{case['recall_id']}", json={"level": level}, headers=auth(regulator))
        assert changed.status_code == 200, changed.json
    opened = datetime.fromisoformat(case["opened_at"])
    assert datetime.fromisoformat(changed.json["deadlines"]["start_by"]) == opened + timedelta(hours=24)
    closed = client.post(f"/api/v1/recalls/{case['recall_id']}/close", json={}, headers=auth(regulator))
    assert closed.status_code == 200
    rows = graph.query("MATCH (n:Notification {recall_id: $id}) RETURN n.kind AS kind, n.delivery_id AS id, "
                       "n.payload AS p", read=True, id=case["recall_id"])
    per = len(chain["held"]) * 3
    kinds = sorted(r["kind"] for r in rows)
    assert kinds == sorted(["opened"] * per + ["changed"] * 2 * per + ["closed"] * per)
    assert len({r["id"] for r in rows}) == 4 * per  # every notice its own delivery ID
    levels = sorted(json.loads(r["p"])["level"] for r in rows if r["kind"] == "changed")
    assert levels == [1] * per + [2] * per
    assert client.patch(f"/api/v1/recalls/{case['recall_id']}", json={"level": 2},
                        headers=auth(regulator)).status_code == 409
