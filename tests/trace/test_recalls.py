"""Recall cases through the real app: affected set, recalled status and events, holders, acks, holds, exports."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import events, recall_rules, recalls, tokens
from gs1.epcis import parse_document
from tests.factories import auth, gtin, lot_code
from tests.trace import network
from tests.trace.arrange import capture
from tests.trace.reference import Reference


@pytest.fixture(scope="session")
def regulator(graph):
    """A regulator token."""
    return tokens.create(graph, "regulator", None, "tests")["token"]


@pytest.fixture
def net(graph, admin_token):
    """A small captured network."""
    n = network.generate(random.Random(5), farms=2, processors=2, retailers=2, errors=0)
    capture(graph, admin_token, n)
    return n


def _lot(key: str) -> dict:
    _, g, lot = key.split(":", 2)
    return {"gtin": g, "lot": lot}


def _open(client, token, keys, level=1, **extra):
    body = {"lots": [_lot(k) for k in keys], "reason": "cadmium above GB 2762 limit", "level": level, **extra}
    return client.post("/api/v1/recalls", json=body, headers=auth(token))


def test_recall_marks_the_forward_closure_and_reaches_every_holder(client, graph, net, regulator):
    ref = Reference.build(net.events)
    start = net.raw_lots[0]
    response = _open(client, regulator, [start])
    assert response.status_code == 201, response.json
    case = response.json
    want, _ = ref.trace(start)
    assert {a["key"] for a in case["affected"]} == want
    assert all(a["status"] == "recalled" for a in case["affected"] if a["kind"] in ("lot", "item"))
    notified = {h["party"]["gln"] for h in case["holders"]}
    assert ref.receivers(want) - _origins(net) <= notified
    # the record itself shows the recall: a `recalled` disposition on every affected object
    recorded = graph.query(
        """
        UNWIND $keys AS k
        MATCH (e:Event {disposition: 'recalled'})-[:OBJECT]->(n {key: k})
        RETURN collect(DISTINCT n.key) AS keys
        """, read=True, keys=sorted(want))[0]["keys"]
    assert set(recorded) == want
    got = client.get(f"/api/v1/recalls/{case['recall_id']}", headers=auth(regulator)).json
    assert got["effectiveness"]["holders_outstanding"] == sorted(notified)
    assert got["deadlines"]["start_by"] and got["deadlines"]["complete_by"]


def test_deadlines_follow_the_level_and_skip_weekends():
    friday = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)  # 18:00 in China, a Friday
    due = recalls.deadlines(friday, 1)
    assert due["start_by"] == datetime(2026, 5, 2, 10, 0, tzinfo=UTC)
    assert due["complete_by"] == datetime(2026, 5, 15, 10, 0, tzinfo=UTC)  # ten weekdays later
    assert recalls.deadlines(friday, 3)["start_by"] == datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    assert recall_rules.add_working_days(datetime(2026, 5, 2, 2, 0, tzinfo=UTC), 1).weekday() == 0  # Saturday -> Monday


def test_holders_acknowledge_and_the_case_closes(client, graph, net, regulator, factory):
    case = _open(client, regulator, [net.raw_lots[0]], level=2).json
    holder = case["holders"][0]["party"]["gln"]
    token = tokens.create(graph, "producer", holder, "t")["token"]
    url = f"/api/v1/recalls/{case['recall_id']}/acknowledgements"
    ack = {"party_gln": holder, "quantity_removed": 10, "quantity_recovered": 8, "unit": "KGM"}
    done = client.post(url, json=ack, headers=auth(token))
    assert done.status_code == 201, done.json
    assert [h["party"]["gln"] for h in done.json["holders"]] == [holder]  # a holder sees its own row only
    outsider = factory.party()
    stranger, other = outsider["gln"], outsider["token"]
    assert client.post(url, json=ack, headers=auth(other)).status_code == 403
    not_notified = client.post(url, json={**ack, "party_gln": stranger}, headers=auth(regulator))
    assert not_notified.status_code == 422
    assert "party_gln" in not_notified.json["error"]["errors"]["json"]
    shown = client.get(f"/api/v1/recalls/{case['recall_id']}", headers=auth(regulator)).json
    assert holder not in shown["effectiveness"]["holders_outstanding"]
    kgm = next(u for u in shown["effectiveness"]["by_unit"] if u["unit"] == "KGM")
    assert kgm["recovered"] == 8 and kgm["removed"] == 10
    closed = client.post(f"/api/v1/recalls/{case['recall_id']}/close", json={}, headers=auth(regulator))
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert client.post(url, json=ack, headers=auth(regulator)).status_code == 409
    again = client.post(f"/api/v1/recalls/{case['recall_id']}/close", json={}, headers=auth(regulator))
    assert again.status_code == 409


def test_a_recalled_or_held_lot_cannot_be_shipped(client, graph, net, regulator):
    held_key = net.raw_lots[-1]
    g, lot = held_key.split(":")[1:]
    held = client.post(f"/api/v1/lots/{g}/{lot}/hold", json={"reason": "sampling"}, headers=auth(regulator))
    assert held.status_code == 200, held.json
    assert held.json["status"] == "on_hold"
    farm = net.parties["farm"][0]
    ship = {"type": "ObjectEvent", "eventTime": "2026-09-01T00:00:00Z", "eventTimeZoneOffset": "+08:00",
            "eventID": f"urn:uuid:{uuid.uuid4()}", "action": "OBSERVE", "bizStep": "shipping",
            "readPoint": {"id": network.loc_uri(farm)},
            "quantityList": [{"epcClass": network.lot_uri(g, lot), "quantity": 1, "uom": "KGM"}]}
    job = events.CaptureJob(capture_id=events.new_capture_id())
    events.capture(graph, list(enumerate(parse_document(ship))), events.Policy(role="admin"), job)
    assert [e["code"] for e in job.errors] == ["lot_status"]
    released = client.post(f"/api/v1/lots/{g}/{lot}/release", json={}, headers=auth(regulator))
    assert released.json == {"key": held_key, "before": "on_hold", "status": "active"}
    _open(client, regulator, [held_key])
    assert client.post(f"/api/v1/lots/{g}/{lot}/release", json={}, headers=auth(regulator)).status_code == 409
    assert client.post(f"/api/v1/lots/{g}/{lot}/hold", json={}, headers=auth(regulator)).status_code == 409


def test_recall_input_errors_are_4xx_naming_the_field(client, graph, regulator, net):
    missing = _open(client, regulator, [f"lot:{gtin()}:{lot_code()}"])
    assert missing.status_code == 404
    assert "lots" in missing.json["error"]["errors"]["json"]
    bad_level = _open(client, regulator, [net.raw_lots[0]], level=4)
    assert bad_level.status_code == 422 and "level" in bad_level.json["error"]["errors"]["json"]
    backwards = _open(client, regulator, [net.raw_lots[0]],
                      window={"from": "2026-05-02T00:00:00Z", "to": "2026-05-01T00:00:00Z"})
    assert backwards.status_code == 422
    # a producer may recall only lots it owns (自主召回, tests/notify/test_cases.py): a retailer owns no raw lot
    producer = tokens.create(graph, "producer", net.parties["retailer"][0], "t")["token"]
    assert _open(client, producer, [net.raw_lots[0]]).status_code == 403
    assert client.get("/api/v1/recalls/RC-NOPE", headers=auth(regulator)).status_code == 404


def test_recall_spreadsheet_lists_every_shipment_of_the_affected_set(client, net, regulator):
    case = _open(client, regulator, [net.raw_lots[0]]).json
    response = client.get(f"/api/v1/recalls/{case['recall_id']}/export?format=csv", headers=auth(regulator))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    shipped = {r["Ship-To GLN"] for r in rows if r["Critical Tracking Event"] == "Shipping"}
    receivers = {h["party"]["gln"] for h in case["holders"] if any(o["shipments"] for o in h["objects"])}
    assert receivers <= shipped
    assert client.get(f"/api/v1/recalls/{case['recall_id']}/export?format=xlsx",
                      headers=auth(regulator)).status_code == 200


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), errors=st.integers(0, 3), pick=st.integers(0, 100))
def test_recall_never_misses_a_holder(graph, admin_token, seed, errors, pick):
    n = network.generate(random.Random(seed), farms=3, processors=2, retailers=2, errors=errors)
    capture(graph, admin_token, n)
    ref = Reference.build(n.events)
    start = n.raw_lots[pick % len(n.raw_lots)]
    case = recalls.open_case(graph, [start], 1, "property test")
    want, _ = ref.trace(start)
    assert {a["key"] for a in case["affected"]} == want
    holders = graph.query(
        """
        UNWIND $keys AS k
        MATCH (p:Party)-[h:HOLDS]->(n {key: k}) WHERE h.quantity > 0 OR h.pending > 0
        RETURN collect(DISTINCT p.gln) AS glns
        """, read=True, keys=sorted(want))[0]["glns"]
    notified = {h["party"]["gln"] for h in case["holders"]}
    assert set(holders) <= notified
    assert ref.receivers(want) - _origins(n) <= notified


def _origins(n) -> set[str]:
    """Farms and processors that made an object and no longer hold it need no notice; receivers always do."""
    return set(n.parties["farm"]) | set(n.parties["processor"])


def test_recalled_events_are_stored_like_captured_events(client, graph, net, regulator, admin_token):
    """The case's `recalled` events (written without the capture checks) read back as EPCIS events like any other:
    the same Event properties as a captured event, every affected object named once, valid through /epcis/events."""
    case = _open(client, regulator, [net.raw_lots[0]]).json
    stored = graph.query(
        """
        MATCH (r:Recall {recall_id: $id})
        MATCH (e:Event {capture_id: r.capture_id})-[:OBJECT]->(n)
        WITH e, collect(n.key) AS keys
        RETURN e.event_id AS id, keys, keys(e) AS props
        """, read=True, id=case["recall_id"])
    named = [k for row in stored for k in row["keys"]]
    assert sorted(named) == sorted(a["key"] for a in case["affected"])
    captured = graph.query("MATCH (e:Event) WHERE e.capture_id IS NOT NULL AND NOT e.disposition = 'recalled' "
                           "AND e.read_point IS NULL RETURN keys(e) AS props LIMIT 1", read=True)
    for row in stored:
        if captured:
            assert set(row["props"]) >= set(captured[0]["props"]) - {"read_point", "biz_location", "context"}
        got = client.get("/epcis/events/" + quote(row["id"], safe=""), headers=auth(admin_token))
        assert got.status_code == 200, got.json
        ev = got.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
        assert ev["disposition"] == "recalled" and ev["action"] == "OBSERVE"
        assert len(ev.get("epcList", [])) + len(ev.get("quantityList", [])) == len(row["keys"])
        assert case["recall_id"] in json.dumps(ev), ev
