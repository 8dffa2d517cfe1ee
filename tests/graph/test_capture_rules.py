"""The rules of the write path (graph/capture_rules.py) without a database: a Ledger gets the state a capture
would read and says what it would write, refuse or warn about."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from graph import ownership
from graph.capture_rules import CaptureJob, Held, Ledger, Policy, content_hash, lineage
from graph.errors import Forbidden
from gs1.epcis import context_prefixes, normalize_event
from gs1.identifiers import Ref
from tests.capture.helpers import commission, event_id, loc, lot_uri, ship

FARM, MILL, SHOP = "6901234000009", "6901234000016", "6901234000023"
GTIN, RICE = "06901234000108", "06901234000207"
NOW = datetime(2026, 9, 25, tzinfo=UTC)
PRODUCER = Policy(role="producer", party_gln=FARM, strict=True)
ADMIN = Policy()


def key(gtin: str, lot: str) -> str:
    return Ref("lot", gtin=gtin, lot=lot).key


def lot_state(owner: str | None, holders: dict[str, Held], status: str = "active", first: datetime | None = None):
    return {"status": status, "first_time": first, "holders": holders, "exists": True, "owner": owner,
            "lot_owner": None}


def ledger(raws: list[dict], policy: Policy = PRODUCER, state: dict | None = None, existing: dict | None = None,
           reach: dict | None = None) -> tuple[Ledger, CaptureJob]:
    events = []
    for i, raw in enumerate(raws):
        ev = normalize_event(raw, "", context_prefixes())
        ev.event_id = raw.get("eventID") or f"urn:test:{i}"
        events.append((i, ev))
    job = CaptureJob("cap-test")
    products = {GTIN: ownership.Product(FARM), RICE: ownership.Product(MILL)}
    book = Ledger(events, policy, job, existing or {}, copy.deepcopy(state or {}), products, {FARM, MILL, SHOP},
                  reach or {}, NOW)
    book.run()
    return book, job


def codes(job: CaptureJob) -> list[str]:
    return [e["code"] for e in job.errors]


def test_a_commission_then_a_shipment_moves_custody_in_one_document():
    book, job = ledger([commission(FARM, GTIN, "L1", 10), ship(FARM, MILL, GTIN, "L1", 4)])
    assert job.errors == []
    deltas = {k: v[:3] for k, v in book.deltas.items()}
    assert deltas == {(FARM, key(GTIN, "L1")): [6.0, 0.0, 0.0], (MILL, key(GTIN, "L1")): [0.0, 4.0, 0.0]}
    assert book.deltas[(FARM, key(GTIN, "L1"))][4] == 2  # two custody entries touched the farm's edge


def test_shipping_more_than_held_is_an_error_for_a_producer_and_a_warning_for_an_admin():
    state = {key(GTIN, "L1"): lot_state(FARM, {FARM: Held(own=10.0)})}
    _, job = ledger([ship(FARM, MILL, GTIN, "L1", 15)], state=state)
    assert codes(job) == ["mass_balance"]
    assert job.errors[0]["message"] == (f"party {FARM} holds 10 of lot L1 of GTIN {GTIN} and cannot ship, consume "
                                        "or destroy 15")
    book, job = ledger([ship(FARM, MILL, GTIN, "L1", 15)], policy=ADMIN, state=state)
    assert job.errors == [] and [w["code"] for w in job.warnings] == ["mass_balance"]
    assert len(book.good) == 1


def test_a_receipt_of_what_was_never_shipped_is_refused():
    raw = ship(FARM, MILL, GTIN, "L1", 3, bizStep="receiving", disposition="in_progress")
    raw["readPoint"] = loc(MILL)
    state = {key(GTIN, "L1"): lot_state(FARM, {FARM: Held(own=10.0), MILL: Held(shipped_in=2.0)})}
    _, job = ledger([raw], policy=Policy(role="producer", party_gln=MILL, strict=True), state=state)
    assert codes(job) == ["receipt"]
    assert "only 2 was shipped to it" in job.errors[0]["message"]


def test_using_a_lot_before_it_existed_is_a_time_error():
    state = {key(GTIN, "L1"): lot_state(FARM, {FARM: Held(own=10.0)}, first=datetime(2026, 9, 22, tzinfo=UTC))}
    _, job = ledger([ship(FARM, MILL, GTIN, "L1", 1)], state=state)  # shipped 2026-09-21
    assert codes(job) == ["time"] and job.errors[0]["location"] == "eventTime"


def test_an_event_far_in_the_future_is_a_time_error():
    _, job = ledger([commission(FARM, GTIN, "L1", 1, when="2026-09-25T00:10:00+00:00")])
    assert codes(job) == ["time"]
    _, job = ledger([commission(FARM, GTIN, "L1", 1, when="2026-09-25T00:04:00+00:00")])
    assert job.errors == []


@pytest.mark.parametrize("status", ["recalled", "on_hold"])
def test_a_blocked_lot_may_be_destroyed_but_not_shipped(status):
    state = {key(GTIN, "L1"): lot_state(FARM, {FARM: Held(own=10.0)}, status=status)}
    _, job = ledger([ship(FARM, MILL, GTIN, "L1", 1)], state=state)
    assert codes(job) == ["lot_status"]
    destroy = commission(FARM, GTIN, "L1", 1, when="2026-09-21T08:00:00+08:00", action="DELETE",
                         bizStep="destroying", disposition="destroyed")
    book, job = ledger([destroy], state=state)
    assert job.errors == [] and book.deltas[(FARM, key(GTIN, "L1"))][0] == -1.0


def transform(inputs, outputs, gln=MILL, when="2026-09-22T08:00:00+08:00") -> dict:
    return {"type": "TransformationEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "readPoint": loc(gln),
            "inputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": q, "uom": "KGM"} for g, lt, q in inputs],
            "outputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": q, "uom": "KGM"} for g, lt, q in outputs]}


def test_outputs_beyond_the_yield_tolerance_are_refused():
    mill = Policy(role="producer", party_gln=MILL, strict=True)
    state = {key(GTIN, "P1"): lot_state(FARM, {MILL: Held(received=100.0, shipped_in=100.0)})}
    _, job = ledger([transform([(GTIN, "P1", 100)], [(RICE, "R1", 106)])], policy=mill, state=state)
    assert codes(job) == ["mass_balance"]
    book, job = ledger([transform([(GTIN, "P1", 100)], [(RICE, "R1", 105)])], policy=mill, state=state)
    assert job.errors == [] and lineage(book.good[0][1]) == [(key(GTIN, "P1"), key(RICE, "R1"))]


def test_a_cycle_through_stored_lineage_is_refused():
    reach = {key(RICE, "R1"): {key(GTIN, "P1")}}  # R1 already leads to P1 downstream in the store
    _, job = ledger([transform([(GTIN, "P1", 1)], [(RICE, "R1", 1)])], policy=ADMIN, reach=reach)
    assert codes(job) == ["cycle"]
    _, job = ledger([transform([(GTIN, "P1", 1)], [(RICE, "R1", 1)]),
                     transform([(RICE, "R1", 1)], [(GTIN, "P1", 1)], when="2026-09-23T08:00:00+08:00")],
                    policy=ADMIN)
    assert codes(job) == ["cycle"]


def test_a_resend_is_a_duplicate_and_a_changed_one_a_conflict():
    raw = commission(FARM, GTIN, "L1", 10)
    stored = {raw["eventID"]: {"content_hash": content_hash(raw), "erroneous": False, "custody": "[]",
                               "recorded_by": FARM}}
    book, job = ledger([raw], existing=stored)
    assert job.duplicates == [raw["eventID"]] and book.good == []
    changed = {**raw, "eventTime": "2026-09-20T09:00:00+08:00"}
    _, job = ledger([changed], existing=stored)
    assert codes(job) == ["conflict"] and job.errors[0]["location"] == "eventID"


def stored_shipment(raw: dict, recorder: str, custody: list) -> dict:
    return {raw["eventID"]: {"content_hash": content_hash(raw), "erroneous": False, "custody": json.dumps(custody),
                             "recorded_by": recorder, "eid": "4:x:1"}}


def test_a_declaration_reverses_the_custody_the_event_applied():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    custody = [[FARM, key(GTIN, "L1"), -4.0, 0.0, 0.0], [MILL, key(GTIN, "L1"), 0.0, 4.0, 0.0]]
    state = {key(GTIN, "L1"): lot_state(FARM, {FARM: Held(own=6.0), MILL: Held(shipped_in=4.0)})}
    declared = {**raw, "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00Z"}}
    book, job = ledger([declared], state=state, existing=stored_shipment(raw, FARM, custody))
    assert job.errors == [] and [ev.event_id for _, ev, _ in book.declared] == [raw["eventID"]]
    assert {k: v[:3] + [v[4]] for k, v in book.deltas.items()} == {
        (FARM, key(GTIN, "L1")): [4.0, 0.0, 0.0, -1], (MILL, key(GTIN, "L1")): [0.0, -4.0, 0.0, -1]}


def test_a_declaration_of_a_received_shipment_is_refused_until_the_receipt_is_declared():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    custody = [[FARM, key(GTIN, "L1"), -4.0, 0.0, 0.0], [MILL, key(GTIN, "L1"), 0.0, 4.0, 0.0]]
    state = {key(GTIN, "L1"): lot_state(FARM, {FARM: Held(own=6.0), MILL: Held(shipped_in=4.0, received=4.0)})}
    declared = {**raw, "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00Z"}}
    book, job = ledger([declared], state=state, existing=stored_shipment(raw, FARM, custody))
    assert codes(job) == ["mass_balance"] and book.declared == []


def test_only_the_recorder_declares_and_only_the_event_unchanged():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    stored = stored_shipment(raw, FARM, [])
    declared = {**raw, "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00Z"}}
    mill_at_farm = Policy(role="producer", party_gln=MILL, strict=True)
    with pytest.raises(Forbidden, match="only the party that recorded an event"):
        ledger([{**declared, "readPoint": loc(MILL)}], policy=mill_at_farm, existing=stored)
    altered = {**declared, "disposition": "destroyed"}
    _, job = ledger([altered], existing=stored)
    assert codes(job) == ["conflict"] and job.errors[0]["location"] == "errorDeclaration"


def test_a_declaration_in_the_same_document_replaces_the_event():
    raw = commission(FARM, GTIN, "L1", 10)
    declared = {**raw, "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00Z"}}
    book, job = ledger([raw, declared])
    assert job.errors == []
    assert [plan.get("declared") for _, _, _, plan in book.good] == [True]
    assert all(abs(v[0]) < 1e-9 and v[4] == 0 for v in book.deltas.values())


def test_a_denial_refuses_the_whole_document():
    with pytest.raises(Forbidden) as refused:
        ledger([commission(FARM, GTIN, "L1", 10), commission(FARM, RICE, "X", 1)])
    assert refused.value.details == {"json": {"events": [
        f"party {FARM} may not commission lot X of GTIN {RICE}: GTIN {RICE} belongs to {MILL} and is not licensed "
        f"to {FARM}"]}}
