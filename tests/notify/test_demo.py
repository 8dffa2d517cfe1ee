"""The demo's recall, as a drill (a real second case would change the demo's consumer pages): the same traversal
and holders as the demo's own case, exactly one notice per holder and channel, and a report that names what a real
recall would miss (the demo's parties have phones but no e-mail or webhook)."""

from __future__ import annotations

from collections import Counter

import pytest

from app import demo
from app.notify import run_worker
from graph import recalls
from gs1.identifiers import lot_key
from tests.factories import auth


@pytest.fixture(scope="module")
def province(app):
    return demo.load(app, only_if_empty=False)


def test_a_drill_of_the_demo_recall_notifies_each_holder_once_per_channel(client, graph, notify_app, province):
    gtin, lot = province["data"].lots["MHM2026-1016"]
    regulator = auth(province["tokens"]["regulator:regulator"])
    demo_case = recalls.get(graph, recalls.implicating(graph, lot_key(gtin, lot))[0])
    statuses = {a["key"]: a["status"] for a in demo_case["affected"]}
    answer = client.post("/api/v1/recalls", json={"lots": [{"gtin": gtin, "lot": lot}], "level": 2, "drill": True,
                                                   "reason": "演练：镉超标 drill: cadmium"}, headers=regulator)
    assert answer.status_code == 201, answer.json
    drill = answer.json
    assert {a["key"] for a in drill["affected"]} == set(statuses)  # the same traversal as the demo's own case
    holders = {h["party"]["gln"] for h in drill["holders"]}
    assert holders and holders >= {h["party"]["gln"] for h in demo_case["holders"]
                                   if any(q["quantity"] for q in h["held_at_opening"])}
    run_worker(notify_app, recall_id=drill["recall_id"], once=True)
    rows = graph.query("MATCH (n:Notification {recall_id: $id}) RETURN n.party_gln AS gln, n.channel AS channel, "
                       "n.state AS state", read=True, id=drill["recall_id"])
    assert Counter((r["gln"], r["channel"]) for r in rows) == Counter(
        (gln, c) for gln in holders for c in ("webhook", "email", "sms"))
    by_channel = {c: {r["state"] for r in rows if r["channel"] == c} for c in ("webhook", "email", "sms")}
    assert by_channel == {"webhook": {"no_address"}, "email": {"no_address"}, "sms": {"delivered"}}
    report = client.get(f"/api/v1/recalls/{drill['recall_id']}/report", headers=regulator).json
    assert report["holders_total"] == len(holders) and report["reached"]["24h"] == len(holders)
    assert all(h["channels"] == {"webhook": "no_address", "email": "no_address", "sms": "delivered"}
               for h in report["holders"])
    # the drill changed no status: the demo's lots are as its own case left them
    again = {a["key"]: a["status"] for a in recalls.get(graph, demo_case["recall_id"])["affected"]}
    assert again == statuses
