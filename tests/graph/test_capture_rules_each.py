"""The write path's rules one by one (graph/capture_rules.py), without a database: every error and warning a capture
job reports is compared whole (index, eventID, code, message, location), since a client reads all of it; the custody
deltas, the simulated state and the lineage edges are compared exactly. Boundaries: the future limit, time order,
EPSILON and the yield tolerance. tests/graph/test_capture_rules.py tells the main stories."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from graph import capture_rules as cr
from graph import ownership
from graph.capture_rules import CaptureJob, Held, Ledger, Policy
from graph.errors import Forbidden, RuleViolation
from gs1.epcis import EPCQuantity, context_prefixes, normalize_event
from gs1.identifiers import Ref
from tests.capture.helpers import commission, event_id, loc, lot_uri, ship

FARM, MILL, SHOP = "6901234000009", "6901234000016", "6901234000023"
GTIN, RICE = "06901234000108", "06901234000207"
NOW = datetime(2026, 9, 25, tzinfo=UTC)
ADMIN = Policy()
STRICT_ADMIN = Policy(strict=True)
FARM_P = Policy(role="producer", party_gln=FARM, strict=True)
MILL_P = Policy(role="producer", party_gln=MILL, strict=True)
SSCC = "urn:epc:id:sscc:6901234.0000000017"
FIRST = 7  # the document index of the first event: not its position in the time order


def sscc_key() -> str:
    raw = commission(FARM, GTIN, "L1", 1)
    raw.pop("quantityList")
    raw["epcList"] = [SSCC]
    return normalize_event(raw, "", context_prefixes()).objects[0].ref.key


def key(gtin: str, lot: str) -> str:
    return Ref("lot", gtin=gtin, lot=lot).key


def lot_name(gtin: str, lot: str) -> str:
    return f"lot {lot} of GTIN {gtin}"


def node(owner: str | None = None, holders: dict | None = None, status: str = "active", first=None,
         exists: bool = True) -> dict:
    return {"status": status, "first_time": first, "holders": holders or {}, "exists": exists, "owner": owner,
            "lot_owner": None}


def run(raws: list[dict], policy: Policy = ADMIN, state: dict | None = None, existing: dict | None = None,
        reach: dict | None = None, products: dict | None = None) -> tuple[Ledger, CaptureJob]:
    events = []
    for i, raw in enumerate(raws):
        ev = normalize_event(raw, "", context_prefixes())
        ev.event_id = raw.get("eventID") or f"urn:test:{i}"
        events.append((FIRST + i, ev))
    job = CaptureJob("cap-test")
    products = products or {GTIN: ownership.Product(FARM), RICE: ownership.Product(MILL)}
    book = Ledger(events, policy, job, existing or {}, copy.deepcopy(state or {}), products, {FARM, MILL, SHOP},
                  reach or {}, NOW)
    book.run()
    return book, job


def entry(index: int, raw: dict, code: str, message: str, location: str | None = None) -> dict:
    out = {"eventIndex": index, "eventID": raw["eventID"], "code": code, "message": message}
    if location:
        out["location"] = location
    return out


def deltas(book: Ledger) -> dict:
    return {k: list(v) for k, v in book.deltas.items()}


def transform(inputs, outputs, gln=MILL, when="2026-09-22T08:00:00+08:00", uom="KGM") -> dict:
    return {"type": "TransformationEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "readPoint": loc(gln),
            "inputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": q, "uom": uom} for g, lt, q in inputs],
            "outputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": q, "uom": uom} for g, lt, q in outputs]}


def observe(gln: str, gtin: str, lot: str, quantity: float, when: str = "2026-09-21T08:00:00+08:00", **extra):
    raw = commission(gln, gtin, lot, quantity, when=when, action="OBSERVE", bizStep="inspecting",
                     disposition="active")
    raw.update(extra)
    return raw


def declaration(raw: dict) -> dict:
    return {**raw, "errorDeclaration": {"declarationTime": "2026-09-23T08:00:00Z"}}


# -- small pieces --

def test_an_error_entry_names_index_event_code_message_and_location_when_given():
    assert cr.error(3, "urn:e", "time", "late") == {"eventIndex": 3, "eventID": "urn:e", "code": "time",
                                                    "message": "late"}
    assert cr.error(None, None, "c", "m", "eventTime") == {"eventIndex": None, "eventID": None, "code": "c",
                                                            "message": "m", "location": "eventTime"}


def test_the_first_error_is_raised_with_every_problem():
    job = CaptureJob("cap-x")
    assert cr.raise_first_error(job) is None and job.success
    job.errors = [cr.error(0, "a", "time", "first"), cr.error(1, "b", "cycle", "second")]
    assert not job.success
    with pytest.raises(RuleViolation) as raised:
        cr.raise_first_error(job)
    assert raised.value.message == "first"
    assert raised.value.details == {"json": {"events": ["first", "second"]}}


def test_a_capture_job_starts_empty():
    job = CaptureJob("cap-1")
    assert (job.capture_id, job.error_behaviour, job.created_at, job.finished_at, job.event_count) == (
        "cap-1", "rollback", "", "", 0)
    assert job.captured == job.duplicates == job.errors == job.warnings == [] and job.audit_seq is None


def test_capture_ids_and_times():
    a, b = cr.new_capture_id(), cr.new_capture_id()
    assert re.fullmatch(r"cap-[0-9a-f]{32}", a) and a != b
    now = cr.now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now)
    assert abs(datetime.fromisoformat(now.replace("Z", "+00:00")) - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_content_hash_is_sha256_of_the_sorted_compact_utf8_json_without_record_time_and_id():
    raw = {"type": "ObjectEvent", "b": "产地", "a": [1, {"y": 2, "x": 1}], "eventID": "urn:1", "recordTime": "t"}
    text = '{"a":[1,{"x":1,"y":2}],"b":"产地","type":"ObjectEvent"}'
    assert cr.content_hash(raw) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert cr.content_hash({**raw, "eventID": "urn:2", "recordTime": "u"}) == cr.content_hash(raw)
    assert cr.content_hash({**raw, "eventTime": "x"}) != cr.content_hash(raw)


def test_times_read_back_in_every_stored_form():
    when = datetime(2026, 9, 20, 8, 0, 0, 250000, tzinfo=UTC)
    assert cr._dt(None) is None
    assert cr._dt(int(when.timestamp() * 1000)) == when
    assert cr._dt(int(when.timestamp() * 1000)).tzinfo == UTC
    assert cr._dt("2026-09-20T08:00:00.250Z") == when
    assert cr._dt("2026-09-20T16:00:00.250+08:00") == when

    class Neo4jTime:
        def to_native(self):
            return when

    assert cr._dt(Neo4jTime()) is when


def eq(kind: str, quantity=None, uom=None, **ids) -> EPCQuantity:
    return EPCQuantity(Ref(kind, **ids), quantity, uom)


def test_how_much_an_entry_names():
    assert cr._amount(eq("item", gtin=GTIN, serial="S")) == 1.0
    assert cr._amount(eq("sscc", sscc="069012340000000017")) == 1.0
    assert cr._amount(eq("lot", 2, "KGM", gtin=GTIN, lot="L")) == 2.0
    assert isinstance(cr._amount(eq("lot", 2, "KGM", gtin=GTIN, lot="L")), float)
    assert cr._amount(eq("lot", None, gtin=GTIN, lot="L")) is None


def test_the_lot_number_an_ilmd_declares():
    ev = normalize_event(commission(FARM, GTIN, "L1", 1), "", context_prefixes())
    assert cr._ilmd_lot(ev) is None
    for name in ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda#lotNumber", "https://ref.gs1.org/cbv/MDA#lotNumber",
                 "lotNumber"):
        ev.ilmd = {"cbvmda:other": "X", name: "L7"}
        assert cr._ilmd_lot(ev) == "L7"
    ev.ilmd = {"cbvmda:lotNumber": 7}
    assert cr._ilmd_lot(ev) is None
    ev.ilmd = {"cbvmda:lotNumberish": "L7"}
    assert cr._ilmd_lot(ev) is None


def test_the_acting_party_is_the_business_locations_else_the_read_points():
    raw = commission(FARM, GTIN, "L1", 1)
    raw["bizLocation"] = loc(MILL)
    ev = normalize_event(raw, "", context_prefixes())
    assert cr._here(ev) == MILL
    ev.biz_location = None
    assert cr._here(ev) == FARM
    ev.read_point = Ref("other", uri="urn:x")
    assert cr._here(ev) is None
    ev.read_point = None
    assert cr._here(ev) is None


def test_held_quantity_and_pending():
    held = Held()
    assert (held.own, held.shipped_in, held.received, held.unit) == (0.0, 0.0, 0.0, None)
    held = Held(own=2.0, shipped_in=5.0, received=3.0, unit="KGM")
    assert held.quantity == 7.0 and held.pending == 2.0 and held.unit == "KGM"
    assert Held(received=4.0, shipped_in=1.0).quantity == 4.0 and Held(received=4.0, shipped_in=1.0).pending == 0.0
    held.add(1.0, 2.0, 4.0)
    assert (held.own, held.shipped_in, held.received) == (3.0, 7.0, 7.0)


def test_legacy_custody_entries_read_as_five_deltas():
    assert cr.legacy_custody([FARM, "k", 1.0, 2.0, 3.0]) == (FARM, "k", 1.0, 2.0, 3.0)
    assert cr.legacy_custody([MILL, "k", 4.0, 4.0]) == (MILL, "k", 0.0, 4.0, 0.0)  # shipped to it
    assert cr.legacy_custody([MILL, "k", 3.0, -3.0]) == (MILL, "k", 3.0, 0.0, 3.0)  # received
    assert cr.legacy_custody([FARM, "k", -2.0, 0.0]) == (FARM, "k", -2.0, 0.0, 0.0)


def test_lineage_edges_of_transformations_packing_and_lot_items():
    def edges(raw):
        return cr.lineage(normalize_event(raw, "", context_prefixes()))

    raw = transform([(GTIN, "P1", 1), (GTIN, "P2", 1)], [(RICE, "R1", 1)])
    raw["inputQuantityList"].append({"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1})
    raw["outputQuantityList"].append({"epcClass": f"https://id.gs1.org/01/{RICE}", "quantity": 1})
    assert edges(raw) == [(key(GTIN, "P1"), key(RICE, "R1")), (key(GTIN, "P2"), key(RICE, "R1"))]
    sscc = SSCC
    unit = sscc_key()
    pack = {"type": "AggregationEvent", "eventTime": "2026-09-22T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "action": "ADD", "bizStep": "packing", "parentID": sscc, "readPoint": loc(FARM),
            "childEPCs": [f"https://id.gs1.org/01/{GTIN}/10/L1/21/S1"],
            "childQuantityList": [{"epcClass": lot_uri(GTIN, "L2"), "quantity": 1},
                                  {"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1}]}
    item = Ref("item", gtin=GTIN, serial="S1").key
    assert edges(pack) == [(item, unit), (key(GTIN, "L2"), unit), (key(GTIN, "L1"), item)]
    assert edges({**pack, "action": "DELETE"}) == [(key(GTIN, "L1"), item)]
    assert edges({**pack, "action": "OBSERVE"}) == [(key(GTIN, "L1"), item)]
    no_parent = {k: v for k, v in pack.items() if k != "parentID"}
    assert edges(no_parent) == [(key(GTIN, "L1"), item)]
    loose = commission(FARM, GTIN, "L1", 1)
    loose.pop("quantityList")
    loose["epcList"] = [f"https://id.gs1.org/01/{GTIN}/21/S2", f"https://id.gs1.org/01/{GTIN}/10/L3/21/S3"]
    assert edges(loose) == [(key(GTIN, "L3"), Ref("item", gtin=GTIN, serial="S3").key)]
    made = transform([(GTIN, "P1", 1)], [])
    made["outputEPCList"] = [f"https://id.gs1.org/01/{RICE}/10/R9/21/S4"]
    made_item = Ref("item", gtin=RICE, serial="S4").key
    assert edges(made) == [(key(GTIN, "P1"), made_item), (key(RICE, "R9"), made_item)]


def test_policies():
    assert not ADMIN.checks_master_data and Policy(require_known=True).checks_master_data
    assert FARM_P.checks_master_data and Policy(role="lab", party_gln=FARM).checks_master_data
    assert (ADMIN.role, ADMIN.party_gln, ADMIN.strict, ADMIN.max_yield, ADMIN.max_future) == (
        "admin", None, False, 1.05, timedelta(minutes=5))


# -- custody planning: the deltas a document leaves --

def test_a_commission_adds_to_the_place_in_its_unit_and_makes_the_lot_the_places():
    raw = commission(FARM, GTIN, "L1", 10)
    raw["bizLocation"] = loc(MILL)
    book, job = run([raw])
    assert job.errors == job.warnings == []
    assert deltas(book) == {(MILL, key(GTIN, "L1")): [10.0, 0.0, 0.0, "KGM", 1]}
    state = book.state[key(GTIN, "L1")]
    assert (state["exists"], state["owner"], state["first_time"]) == (True, MILL, datetime(2026, 9, 20, tzinfo=UTC))
    assert state["holders"][MILL].unit == "KGM" and state["holders"][MILL].quantity == 10.0
    assert book.good == [(FIRST, book.good[0][1], cr.content_hash(raw), {"custody": [
        [MILL, key(GTIN, "L1"), 10.0, 0.0, 0.0]]})]


def test_more_of_an_existing_lot_keeps_its_owner_and_first_time():
    first = datetime(2026, 9, 19, tzinfo=UTC)
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=1.0)}, first=first)}
    raw = commission(MILL, GTIN, "L1", 2)
    book, _ = run([raw], state=state)
    assert book.state[key(GTIN, "L1")]["owner"] == FARM and book.state[key(GTIN, "L1")]["first_time"] == first
    early = commission(FARM, GTIN, "L1", 2, when="2026-09-18T08:00:00+08:00")
    book, _ = run([early], state=state)
    assert book.state[key(GTIN, "L1")]["first_time"] == datetime(2026, 9, 18, tzinfo=UTC)


def test_a_new_item_or_unit_exists_without_an_owner():
    raw = commission(FARM, GTIN, "L1", 1)
    raw.pop("quantityList")
    raw["epcList"] = [f"https://id.gs1.org/01/{GTIN}/21/S1", SSCC]
    book, _ = run([raw])
    item, unit = Ref("item", gtin=GTIN, serial="S1").key, sscc_key()
    assert (book.state[item]["exists"], book.state[item]["owner"]) == (True, None)
    assert (book.state[unit]["exists"], book.state[unit]["owner"]) == (True, None)
    assert deltas(book) == {(FARM, item): [1.0, 0.0, 0.0, None, 1], (FARM, unit): [1.0, 0.0, 0.0, None, 1]}


def test_a_product_class_is_not_custody_and_does_not_exist():
    raw = commission(FARM, GTIN, "L1", 1)
    raw["quantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 4, "uom": "KGM"}]
    book, job = run([raw])
    assert deltas(book) == {} and job.warnings == [] and book.good[0][3] == {"custody": []}
    assert Ref("class", gtin=GTIN).key not in book.state


def test_a_transformation_moves_inputs_into_outputs_at_its_place():
    state = {key(GTIN, "P1"): node(FARM, {MILL: Held(own=10.0)})}
    raw = transform([(GTIN, "P1", 10)], [(RICE, "R1", 8)])
    raw["inputQuantityList"].append({"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 2, "uom": "KGM"})
    raw["outputQuantityList"].append({"epcClass": lot_uri(RICE, "R2")})  # no quantity: no custody
    book, job = run([raw], state=state)
    assert job.errors == job.warnings == []
    assert deltas(book) == {(MILL, key(GTIN, "P1")): [-10.0, 0.0, 0.0, "KGM", 1],
                            (MILL, key(RICE, "R1")): [8.0, 0.0, 0.0, "KGM", 1]}
    assert book.state[key(RICE, "R1")]["owner"] == MILL and book.state[key(RICE, "R2")]["exists"]
    nowhere = transform([(GTIN, "P1", 10)], [(RICE, "R1", 8)])
    nowhere.pop("readPoint")
    book, _ = run([nowhere], state=state)
    assert deltas(book) == {} and book.state[key(RICE, "R1")]["owner"] is None


def test_removals_take_from_the_place():
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)})}
    removals = [dict(action="DELETE", bizStep="inspecting", disposition="active"),
                dict(action="OBSERVE", bizStep="retail_selling", disposition="active"),
                dict(action="OBSERVE", bizStep="inspecting", disposition="dispensed"),
                dict(action="OBSERVE", bizStep=None, disposition="inactive")]
    for extra in removals:
        raw = observe(FARM, GTIN, "L1", 3, **extra)
        book, job = run([raw], state=state)
        assert job.errors == job.warnings == []
        assert deltas(book) == {(FARM, key(GTIN, "L1")): [-3.0, 0.0, 0.0, "KGM", 1]}, extra
    book, _ = run([observe(FARM, GTIN, "L1", 3)], state=state)  # an inspection moves nothing
    assert deltas(book) == {}
    nowhere = observe(FARM, GTIN, "L1", 3, action="DELETE")
    nowhere.pop("readPoint")
    nowhere.pop("bizLocation")
    book, _ = run([nowhere], state=state)
    assert deltas(book) == {}


def test_an_origin_without_a_place_moves_nothing():
    raw = commission(FARM, GTIN, "L1", 3)
    raw.pop("readPoint")
    raw.pop("bizLocation")
    book, _ = run([raw])
    assert deltas(book) == {} and book.state[key(GTIN, "L1")]["exists"]


def test_a_shipment_moves_from_the_source_into_transit_to_the_destination():
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0), SHOP: Held(own=5.0)})}
    book, _ = run([ship(FARM, MILL, GTIN, "L1", 4)], state=state)
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [-4.0, 0.0, 0.0, "KGM", 1],
                            (MILL, key(GTIN, "L1")): [0.0, 4.0, 0.0, "KGM", 1]}
    unnamed = ship(SHOP, MILL, GTIN, "L1", 2, bizStep="departing")
    unnamed.pop("sourceList")  # the place ships
    book, _ = run([unnamed], state=state)
    assert deltas(book) == {(SHOP, key(GTIN, "L1")): [-2.0, 0.0, 0.0, "KGM", 1],
                            (MILL, key(GTIN, "L1")): [0.0, 2.0, 0.0, "KGM", 1]}
    to_itself = ship(FARM, FARM, GTIN, "L1", 2)
    book, _ = run([to_itself], state=state)
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [-2.0, 0.0, 0.0, "KGM", 1]}
    nowhere = ship(FARM, MILL, GTIN, "L1", 2)
    nowhere.pop("destinationList")
    book, _ = run([nowhere], state=state)
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [-2.0, 0.0, 0.0, "KGM", 1]}


def test_a_receipt_is_received_by_the_destination_else_the_place():
    state = {key(GTIN, "L1"): node(FARM, {MILL: Held(shipped_in=4.0), SHOP: Held(shipped_in=4.0)})}
    raw = ship(FARM, MILL, GTIN, "L1", 4, bizStep="receiving", disposition="in_progress")
    raw["readPoint"] = loc(SHOP)
    book, job = run([raw], state=state)
    assert job.warnings == [] and deltas(book) == {(MILL, key(GTIN, "L1")): [0.0, 0.0, 4.0, "KGM", 1]}
    raw = ship(FARM, MILL, GTIN, "L1", 4, bizStep="arriving", disposition="in_progress")
    raw["readPoint"] = loc(SHOP)
    raw.pop("destinationList")
    book, job = run([raw], state=state)
    assert job.warnings == [] and deltas(book) == {(SHOP, key(GTIN, "L1")): [0.0, 0.0, 4.0, "KGM", 1]}
    held = book.state[key(GTIN, "L1")]["holders"][SHOP]
    assert (held.own, held.shipped_in, held.received) == (0.0, 4.0, 4.0)


def test_aggregations_and_associations_move_no_custody():
    sscc = "urn:epc:id:sscc:6901234.0000000017"
    pack = {"type": "AggregationEvent", "eventID": event_id(), "eventTime": "2026-09-22T08:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "ADD", "bizStep": "shipping", "parentID": sscc,
            "readPoint": loc(FARM), "childQuantityList": [{"epcClass": lot_uri(GTIN, "L1"), "quantity": 1}]}
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)})}
    book, job = run([pack], state=state)
    assert deltas(book) == {} and job.warnings == []
    assert dict(book.batch_edges) == {key(GTIN, "L1"): {sscc_key()}}


def test_deltas_sum_per_party_and_object_and_count_the_entries_that_moved_something():
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)})}
    book, _ = run([ship(FARM, MILL, GTIN, "L1", 4, when="2026-09-21T08:00:00+08:00"),
                   ship(FARM, MILL, GTIN, "L1", 1, when="2026-09-21T09:00:00+08:00"),
                   ship(FARM, MILL, GTIN, "L1", 0, when="2026-09-21T10:00:00+08:00")], state=state)
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [-5.0, 0.0, 0.0, "KGM", 2],
                            (MILL, key(GTIN, "L1")): [0.0, 5.0, 0.0, "KGM", 2]}
    receipt = ship(FARM, MILL, GTIN, "L1", 3, bizStep="receiving", when="2026-09-21T11:00:00+08:00")
    receipt["readPoint"] = loc(MILL)
    receipt["quantityList"][0].pop("uom")
    book, _ = run([receipt], state={key(GTIN, "L1"): node(FARM, {MILL: Held(shipped_in=5.0)})})
    assert deltas(book) == {(MILL, key(GTIN, "L1")): [0.0, 0.0, 3.0, None, 1]}
    book._delta(MILL, key(GTIN, "L1"), 0.0, 0.0, 1e-10, "KGM")
    book._delta(MILL, key(GTIN, "L1"), 0.0, -2.0, 0.0, "EA")
    assert deltas(book)[(MILL, key(GTIN, "L1"))] == [0.0, -2.0, 3.0 + 1e-10, "KGM", 2]
    book._delta(MILL, key(GTIN, "L1"), 0.0, 0.0, -1.0, None, reverse=True)
    assert deltas(book)[(MILL, key(GTIN, "L1"))][4] == 1


# -- rule problems, whole --

def test_the_future_limit():
    late = commission(FARM, GTIN, "L1", 1, when="2026-09-25T00:10:00+00:00")
    _, job = run([late], policy=STRICT_ADMIN)
    assert job.errors == [entry(FIRST, late, "time", "eventTime 2026-09-25T00:10:00.000Z is more than 5 minutes in "
                                                     "the future", "eventTime")]
    _, job = run([late])
    assert job.errors == [] and job.warnings == [entry(FIRST, late, "time", (
        "eventTime 2026-09-25T00:10:00.000Z is more than 5 minutes in the future"), "eventTime")]
    _, job = run([commission(FARM, GTIN, "L1", 1, when="2026-09-25T00:05:00+00:00")], policy=STRICT_ADMIN)
    assert job.errors == []
    _, job = run([commission(FARM, GTIN, "L1", 1, when="2026-09-25T00:05:00.001+00:00")], policy=STRICT_ADMIN)
    assert [e["code"] for e in job.errors] == ["time"]
    hour = Policy(strict=True, max_future=timedelta(minutes=90))
    _, job = run([late], policy=hour)
    assert job.errors == []
    later = commission(FARM, GTIN, "L1", 1, when="2026-09-25T02:00:00+00:00")
    _, job = run([later], policy=hour)
    assert job.errors[0]["message"] == "eventTime 2026-09-25T02:00:00.000Z is more than 90 minutes in the future"


def test_using_an_object_before_it_existed():
    first = datetime(2026, 9, 22, tzinfo=UTC)
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)}, first=first)}
    early = ship(FARM, MILL, GTIN, "L1", 1)  # 2026-09-21
    _, job = run([early], policy=STRICT_ADMIN, state=state)
    assert job.errors == [entry(FIRST, early, "time", (
        f"eventTime 2026-09-21T00:00:00.000Z is before {lot_name(GTIN, 'L1')} existed (2026-09-22T00:00:00Z)"),
        "eventTime")]
    _, job = run([early], state=state)
    assert job.errors == [] and [w["code"] for w in job.warnings] == ["time"]
    same = ship(FARM, MILL, GTIN, "L1", 1, when="2026-09-22T08:00:00+08:00")
    _, job = run([same], policy=STRICT_ADMIN, state=state)
    assert job.errors == []


def test_using_an_object_before_the_document_makes_it():
    made = commission(FARM, GTIN, "L1", 10, when="2026-09-22T08:00:00+08:00")
    early = ship(FARM, MILL, GTIN, "L1", 1)
    _, job = run([early, made], policy=STRICT_ADMIN)
    assert [(e["eventIndex"], e["code"], e["message"]) for e in job.errors] == [
        (FIRST, "time", f"eventTime 2026-09-21T00:00:00.000Z is before {lot_name(GTIN, 'L1')} existed "
                        "(2026-09-22T00:00:00Z)"),
        (FIRST, "mass_balance", f"party {FARM} holds 0 of {lot_name(GTIN, 'L1')} and cannot ship, consume or "
                                "destroy 1")]
    # two commissions: the earlier one is when it came into being
    again = commission(FARM, GTIN, "L1", 1, when="2026-09-20T08:00:00+08:00")
    _, job = run([made, again, ship(FARM, MILL, GTIN, "L1", 1)], policy=STRICT_ADMIN)
    assert job.errors == []
    # a declared commission makes nothing
    _, job = run([early, declaration(made)], policy=STRICT_ADMIN, existing={made["eventID"]: {
        "content_hash": cr.content_hash(made), "erroneous": False, "custody": "[]", "recorded_by": None}})
    assert [e["code"] for e in job.errors] == ["mass_balance"]


def test_events_are_checked_in_event_time_order_whatever_the_document_order():
    shipment = ship(FARM, MILL, GTIN, "L1", 4)
    made = commission(FARM, GTIN, "L1", 10)
    book, job = run([shipment, made], policy=STRICT_ADMIN)
    assert job.errors == []
    assert [index for index, *_ in book.good] == [FIRST + 1, FIRST]
    assert deltas(book)[(FARM, key(GTIN, "L1"))][:3] == [6.0, 0.0, 0.0]
    # same time: document order
    a = ship(FARM, MILL, GTIN, "L1", 1, when="2026-09-20T08:00:00+08:00")
    book, _ = run([made, a])
    assert [index for index, *_ in book.good] == [FIRST, FIRST + 1]


def test_a_blocked_input_of_a_transformation_is_a_strict_only_status_problem():
    state = {key(GTIN, "P1"): node(FARM, {MILL: Held(own=10.0)}, status="on_hold")}
    raw = transform([(GTIN, "P1", 10)], [(RICE, "R1", 8)])
    _, job = run([raw], policy=MILL_P, state=state)
    assert job.errors == [entry(FIRST, raw, "lot_status", f"{lot_name(GTIN, 'P1')} is on hold: it may not be consumed "
                                                          "as an input")]
    _, job = run([raw], state=state)
    assert job.errors == [] and [w["code"] for w in job.warnings] == ["lot_status"]


@pytest.mark.parametrize("extra", [dict(action="OBSERVE", bizStep="shipping", disposition="in_transit"),
                                   dict(action="OBSERVE", bizStep="retail_selling", disposition="active"),
                                   dict(action="OBSERVE", bizStep="inspecting", disposition="retail_sold"),
                                   dict(action="OBSERVE", bizStep="departing", disposition=None)])
def test_a_recalled_lot_may_not_be_shipped_or_sold_even_by_an_admin(extra):
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)}, status="recalled")}
    raw = observe(FARM, GTIN, "L1", 1, **{k: v for k, v in extra.items() if v is not None})
    if extra["disposition"] is None:
        raw.pop("disposition")
    _, job = run([raw], state=state)
    assert job.errors == [entry(FIRST, raw, "lot_status", (
        f"{lot_name(GTIN, 'L1')} is recalled: it may not be shipped, sold or consumed, only destroyed"))]


@pytest.mark.parametrize("extra", [dict(action="OBSERVE", bizStep="destroying"),
                                   dict(action="OBSERVE", bizStep="retail_selling", disposition="destroyed"),
                                   dict(action="OBSERVE", bizStep="disposing", disposition="inactive"),
                                   dict(action="OBSERVE", bizStep="inspecting", disposition="active")])
def test_a_recalled_lot_may_be_destroyed_or_inspected(extra):
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)}, status="recalled")}
    raw = observe(FARM, GTIN, "L1", 1, **extra)
    if "disposition" not in extra:
        raw.pop("disposition")
    _, job = run([raw], policy=FARM_P, state=state)
    assert job.errors == []


def test_unknown_objects_are_named_when_they_must_be_known():
    known = Policy(require_known=True)
    raw = ship(FARM, MILL, GTIN, "L1", 1)
    raw["quantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1},
                           {"epcClass": lot_uri(GTIN, "L1"), "quantity": 1},
                           {"epcClass": lot_uri(GTIN, "L2"), "quantity": 1}]
    _, job = run([raw], policy=known)
    assert job.errors == [entry(FIRST, raw, "not_found", f"no {lot_name(GTIN, 'L1')} registered"),
                          entry(FIRST, raw, "not_found", f"no {lot_name(GTIN, 'L2')} registered")]
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=1.0)}), key(GTIN, "L2"): node(FARM, {FARM: Held(own=1.0)})}
    _, job = run([raw], policy=known, state=state)
    assert job.errors == job.warnings == []
    _, job = run([commission(FARM, GTIN, "NEW", 1)], policy=known)
    assert job.errors == []  # an origin brings it into being


def test_unknown_master_data_is_a_not_found_problem_for_a_party_token():
    other = "06901234000306"
    raw = commission(FARM, other, "L1", 1)
    _, job = run([raw], policy=FARM_P)
    assert job.errors == [entry(FIRST, raw, "not_found", f"no product with GTIN {other} is registered; an admin "
                                                         "registers master data")]
    _, job = run([raw])
    assert job.errors == []


def test_a_producer_uses_only_what_it_holds():
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=cr.EPSILON), MILL: Held(own=0.0)})}
    raw = observe(FARM, GTIN, "L1", 1, action="DELETE", bizStep="destroying", disposition="destroyed")
    with pytest.raises(Forbidden) as refused:
        run([raw], policy=FARM_P, state=state)
    assert refused.value.message == f"party {FARM} does not hold {lot_name(GTIN, 'L1')}"
    state[key(GTIN, "L1")]["holders"][FARM] = Held(own=2 * cr.EPSILON)
    _, job = run([observe(FARM, GTIN, "L1", 1e-9, action="DELETE")], policy=FARM_P, state=state)
    assert job.errors == []
    shipment = ship(MILL, SHOP, GTIN, "L1", 1)
    with pytest.raises(Forbidden, match=f"party {MILL} does not hold"):
        run([shipment], policy=MILL_P, state=state)
    receipt = ship(FARM, MILL, GTIN, "L1", 1, bizStep="receiving")
    receipt["readPoint"] = loc(MILL)
    _, job = run([receipt], policy=MILL_P, state={key(GTIN, "L1"): node(FARM, {MILL: Held(shipped_in=1.0)})})
    assert job.errors == []  # a receipt is of what it does not hold yet
    _, job = run([ship(FARM, MILL, GTIN, "L1", 1)], policy=STRICT_ADMIN,
                 state={key(GTIN, "L1"): node(FARM, {FARM: Held(own=1.0)})})
    assert job.errors == []  # an admin is not held to it


def test_every_refused_event_of_a_document_is_named_and_nothing_applied():
    state = {key(GTIN, "L1"): node(FARM, {}), key(GTIN, "L2"): node(FARM, {})}
    a, b = ship(FARM, MILL, GTIN, "L1", 1), ship(FARM, MILL, GTIN, "L2", 1, when="2026-09-21T09:00:00+08:00")
    with pytest.raises(Forbidden) as refused:
        run([a, b], policy=FARM_P, state=state)
    assert refused.value.details == {"json": {"events": [f"party {FARM} does not hold {lot_name(GTIN, 'L1')}",
                                                         f"party {FARM} does not hold {lot_name(GTIN, 'L2')}"]}}


def test_mass_balance_of_a_removal_and_its_boundary():
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)})}
    raw = observe(FARM, GTIN, "L1", 15, action="DELETE", bizStep="destroying")
    _, job = run([raw], policy=STRICT_ADMIN, state=state)
    assert job.errors == [entry(FIRST, raw, "mass_balance", (
        f"party {FARM} holds 10 of {lot_name(GTIN, 'L1')} and cannot ship, consume or destroy 15"))]
    _, job = run([ship(FARM, MILL, GTIN, "L1", 10)], policy=STRICT_ADMIN, state=state)
    assert job.errors == []
    _, job = run([ship(FARM, MILL, GTIN, "L1", 10.00001)], policy=STRICT_ADMIN, state=state)
    assert [e["code"] for e in job.errors] == ["mass_balance"]
    # what is added to a party that somehow holds less than nothing is no mass-balance problem
    negative = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=-5.0), MILL: Held(own=-5.0, shipped_in=3.0)})}
    _, job = run([commission(FARM, GTIN, "L1", 0.5)], policy=STRICT_ADMIN, state=negative)
    assert job.errors == []
    receipt = ship(FARM, MILL, GTIN, "L1", 3, bizStep="receiving")
    receipt["readPoint"] = loc(MILL)
    _, job = run([receipt], policy=STRICT_ADMIN, state=negative)
    assert job.errors == []


def test_a_receipt_of_more_than_was_shipped_and_its_boundary():
    state = {key(GTIN, "L1"): node(FARM, {MILL: Held(shipped_in=3.0, received=1.0)})}
    receipt = ship(FARM, MILL, GTIN, "L1", 2.5, bizStep="receiving")
    receipt["readPoint"] = loc(MILL)
    _, job = run([receipt], policy=STRICT_ADMIN, state=state)
    assert job.errors == [entry(FIRST, receipt, "receipt", (
        f"party {MILL} receives 2.5 of {lot_name(GTIN, 'L1')} but only 2 was shipped to it and not yet received"))]
    _, job = run([receipt], state=state)
    assert job.errors == [] and [w["code"] for w in job.warnings] == ["receipt"]
    receipt["quantityList"][0]["quantity"] = 2
    _, job = run([receipt], policy=STRICT_ADMIN, state=state)
    assert job.errors == []
    receipt["quantityList"][0]["quantity"] = 0.5
    _, job = run([receipt], policy=STRICT_ADMIN, state={})
    assert [e["code"] for e in job.errors] == ["receipt"]


def test_outputs_within_the_yield_tolerance_summed_per_unit():
    state = {key(GTIN, "P1"): node(FARM, {MILL: Held(own=50.0)}), key(GTIN, "P2"): node(FARM, {MILL: Held(own=50.0)})}
    raw = transform([(GTIN, "P1", 50), (GTIN, "P2", 50)], [(RICE, "R1", 60), (RICE, "R2", 45)])
    _, job = run([raw], policy=MILL_P, state=state)
    assert job.errors == []
    over = transform([(GTIN, "P1", 50), (GTIN, "P2", 50)], [(RICE, "R1", 60), (RICE, "R2", 46)])
    _, job = run([over], policy=MILL_P, state=state)
    assert job.errors == [entry(FIRST, over, "mass_balance", (
        "outputs total 106 KGM but inputs only 100: more than the yield tolerance x1.05"))]
    _, job = run([over], state=state)
    assert job.errors == [] and [w["code"] for w in job.warnings] == ["mass_balance"]
    loose = Policy(role="producer", party_gln=MILL, strict=True, max_yield=1.2)
    _, job = run([over], policy=loose, state=state)
    assert job.errors == []
    worse = transform([(GTIN, "P1", 50)], [(RICE, "R1", 70)])
    _, job = run([worse], policy=loose, state=state)
    assert job.errors[0]["message"] == "outputs total 70 KGM but inputs only 50: more than the yield tolerance x1.2"


def test_the_yield_is_compared_per_unit_and_only_where_inputs_have_one():
    state = {key(GTIN, "P1"): node(FARM, {MILL: Held(own=50.0)})}
    raw = transform([(GTIN, "P1", 50)], [(RICE, "R1", 60)], uom=None)
    for q in (*raw["inputQuantityList"], *raw["outputQuantityList"]):
        q.pop("uom")
    _, job = run([raw], policy=MILL_P, state=state)
    assert [e["message"] for e in job.errors] == [
        "outputs total 60 but inputs only 50: more than the yield tolerance x1.05"]
    other_unit = transform([(GTIN, "P1", 50)], [(RICE, "R1", 60)])
    other_unit["outputQuantityList"][0]["uom"] = "EA"
    _, job = run([other_unit], policy=MILL_P, state=state)
    assert job.errors == []
    counted = transform([(GTIN, "P1", 50)], [(RICE, "R1", 60)])
    counted["outputEPCList"] = [f"https://id.gs1.org/01/{RICE}/21/S1"]
    counted["outputQuantityList"][0]["quantity"] = 52
    _, job = run([counted], policy=MILL_P, state=state)
    assert job.errors == []


def test_a_cycle_is_named_whole_and_a_product_class_makes_none():
    reach = {key(RICE, "R1"): {"lot:x:mid"}, "lot:x:mid": {key(GTIN, "P1")}}
    raw = transform([(GTIN, "P1", 1)], [(RICE, "R1", 1)])
    _, job = run([raw], reach=reach)
    assert job.errors == [entry(FIRST, raw, "cycle", (
        f"{lot_name(RICE, 'R1')} is already upstream of {lot_name(GTIN, 'P1')}: this transformation would make a "
        "cycle"))]
    same = transform([(GTIN, "P1", 1)], [(GTIN, "P1", 1)])
    _, job = run([same])
    assert [e["code"] for e in job.errors] == ["cycle"]
    classes = transform([], [])
    classes["inputQuantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1}]
    classes["outputQuantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1}]
    _, job = run([classes])
    assert job.errors == []
    mixed = transform([(GTIN, "P1", 1)], [])
    mixed["outputQuantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1}]
    _, job = run([mixed], reach={Ref("class", gtin=GTIN).key: {key(GTIN, "P1")}})
    assert job.errors == []
    two = transform([(GTIN, "P1", 1), (GTIN, "P2", 1)], [(RICE, "R1", 1)])
    _, job = run([two], reach={key(RICE, "R1"): {key(GTIN, "P2")}})
    assert [e["message"] for e in job.errors] == [
        f"{lot_name(RICE, 'R1')} is already upstream of {lot_name(GTIN, 'P2')}: this transformation would make a "
        "cycle"]


def test_reachability_walks_stored_and_document_edges_without_looping():
    book, _ = run([], reach={"a": {"b"}, "b": {"a", "c"}})
    book.batch_edges["c"].add("d")
    assert book._reaches("a", "d") and book._reaches("b", "d")
    assert not book._reaches("a", "e") and not book._reaches("d", "a")


# -- resends --

def test_a_resend_in_the_same_document():
    raw = commission(FARM, GTIN, "L1", 10)
    book, job = run([raw, copy.deepcopy(raw)])
    assert job.duplicates == [raw["eventID"]] and len(book.good) == 1
    changed = {**raw, "eventTime": "2026-09-20T09:00:00+08:00"}
    book, job = run([raw, changed])
    assert job.errors == [entry(FIRST + 1, raw, "conflict", (
        f"event {raw['eventID']} was captured before with different content; an eventID names one event"),
        "eventID")]
    assert len(book.good) == 1


def test_a_resend_of_a_stored_event():
    raw = commission(FARM, GTIN, "L1", 10)
    stored = {raw["eventID"]: {"content_hash": cr.content_hash(raw), "erroneous": False, "custody": "[]",
                               "recorded_by": FARM}}
    changed = {**raw, "quantityList": [{"epcClass": lot_uri(GTIN, "L1"), "quantity": 11, "uom": "KGM"}]}
    book, job = run([changed], existing=stored)
    assert job.errors == [entry(FIRST, raw, "conflict", (
        f"event {raw['eventID']} was captured before with different content; an eventID names one event"),
        "eventID")]
    assert book.good == [] and deltas(book) == {}


def test_an_event_without_an_eventid_is_a_duplicate_of_the_one_its_derived_id_names():
    raw = commission(FARM, GTIN, "L1", 10)
    raw.pop("eventID")
    derived = "urn:test:0"
    book, job = run([raw], existing={derived: {"content_hash": "other", "erroneous": False}})
    assert job.duplicates == [derived] and job.errors == [] and book.good == []


# -- declarations --

def stored(raw: dict, custody: list, recorder: str | None = FARM, **more) -> dict:
    return {raw["eventID"]: {"content_hash": cr.content_hash(raw), "erroneous": False,
                             "custody": json.dumps(custody), "recorded_by": recorder, **more}}


def test_declaring_a_stored_shipment_gives_the_custody_back_for_the_rest_of_the_document():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    custody = [[FARM, key(GTIN, "L1"), -4.0, 0.0, 0.0], [MILL, key(GTIN, "L1"), 0.0, 4.0, 0.0]]
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=6.0), MILL: Held(shipped_in=4.0)})}
    again = ship(FARM, SHOP, GTIN, "L1", 10, when="2026-09-24T08:00:00+08:00")
    book, job = run([declaration(raw), again], policy=FARM_P, state=state, existing=stored(raw, custody))
    assert job.errors == [] and [(i, ev.event_id) for i, ev, _ in book.declared] == [(FIRST, raw["eventID"])]
    assert book.declared[0][2] == cr.content_hash(declaration(raw))
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [-6.0, 0.0, 0.0, "KGM", 0],
                            (MILL, key(GTIN, "L1")): [0.0, -4.0, 0.0, None, -1],
                            (SHOP, key(GTIN, "L1")): [0.0, 10.0, 0.0, "KGM", 1]}
    mill = book.state[key(GTIN, "L1")]["holders"][MILL]
    assert (mill.own, mill.shipped_in, mill.received) == (0.0, 0.0, 0.0)


def test_declaring_a_received_receipt_gives_the_receipt_back():
    raw = ship(FARM, MILL, GTIN, "L1", 4, bizStep="receiving")
    raw["readPoint"] = loc(MILL)
    custody = [[MILL, key(GTIN, "L1"), 1.0, 0.0, 4.0]]
    state = {key(GTIN, "L1"): node(FARM, {MILL: Held(own=1.0, shipped_in=4.0, received=4.0)})}
    book, job = run([declaration(raw)], policy=MILL_P, state=state, existing=stored(raw, custody, MILL))
    assert job.errors == []
    mill = book.state[key(GTIN, "L1")]["holders"][MILL]
    assert (mill.own, mill.shipped_in, mill.received) == (0.0, 4.0, 0.0)
    assert deltas(book) == {(MILL, key(GTIN, "L1")): [-1.0, 0.0, -4.0, None, -1]}


def test_declaring_an_event_whose_custody_names_objects_not_read_is_no_problem():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    custody = [[FARM, "lot:gone:1", -4.0, 0.0, 0.0], [MILL, key(GTIN, "L1"), 0.0, 0.0, 0.0]]
    book, job = run([declaration(raw)], policy=STRICT_ADMIN, state={key(GTIN, "L1"): node(FARM, {})},
                    existing=stored(raw, custody))
    assert job.errors == [] and deltas(book) == {(FARM, "lot:gone:1"): [4.0, 0.0, 0.0, None, -1],
                                                 (MILL, key(GTIN, "L1")): [0.0, 0.0, 0.0, None, 0]}


def test_a_declaration_reads_legacy_custody_and_no_custody_at_all():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    legacy = [[FARM, key(GTIN, "L1"), -4.0, 0.0], [MILL, key(GTIN, "L1"), 4.0, 4.0]]
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=6.0), MILL: Held(shipped_in=4.0)})}
    book, job = run([declaration(raw)], state=state, existing=stored(raw, legacy))
    assert job.errors == job.warnings == []
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [4.0, 0.0, 0.0, None, -1],
                            (MILL, key(GTIN, "L1")): [0.0, -4.0, 0.0, None, -1]}
    prior = stored(raw, [])
    prior[raw["eventID"]].pop("custody")
    book, job = run([declaration(raw)], state=state, existing=prior)
    assert job.errors == [] and len(book.declared) == 1 and deltas(book) == {}


def test_a_declaration_that_would_leave_less_than_nothing():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    custody = [[FARM, key(GTIN, "L1"), -4.0, 0.0, 0.0], [MILL, key(GTIN, "L1"), 0.0, 4.0, 0.0]]
    received = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=6.0), MILL: Held(shipped_in=4.0, received=4.0)})}
    declared = declaration(raw)
    book, job = run([declared], policy=FARM_P, state=received, existing=stored(raw, custody))
    message = (f"declaring event {raw['eventID']} erroneous would leave party {MILL} with 4 of {key(GTIN, 'L1')} "
               "(4 received of 0 shipped to it): declare the events that used what it moved (a receipt, a shipment "
               "onward) erroneous first")
    assert job.errors == [entry(FIRST, raw, "mass_balance", message, "errorDeclaration")]
    assert book.declared == [] and deltas(book) == {}
    # an admin import is warned and the declaration applies
    book, job = run([declared], state=received, existing=stored(raw, custody))
    assert job.errors == [] and job.warnings == [entry(FIRST, raw, "mass_balance", message, "errorDeclaration")]
    assert len(book.declared) == 1
    # the farm used what came back: declaring the commission would leave it with less than nothing
    made = commission(FARM, GTIN, "L1", 10)
    used = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=6.0)})}
    _, job = run([declaration(made)], policy=FARM_P, state=used,
                 existing=stored(made, [[FARM, key(GTIN, "L1"), 10.0, 0.0, 0.0]]))
    assert [e["message"] for e in job.errors] == [
        f"declaring event {made['eventID']} erroneous would leave party {FARM} with -4 of {key(GTIN, 'L1')} "
        "(0 received of 0 shipped to it): declare the events that used what it moved (a receipt, a shipment "
        "onward) erroneous first"]
    # exactly nothing left is fine
    exact = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0), MILL: Held(shipped_in=4.0, received=4.0)})}
    _, job = run([declaration(made)], policy=FARM_P, state=exact,
                 existing=stored(made, [[FARM, key(GTIN, "L1"), 10.0, 0.0, 0.0]]))
    assert job.errors == []


def test_a_declaration_of_a_shipment_shows_what_remains_shipped():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    custody = [[MILL, key(GTIN, "L1"), 0.0, 4.0, 0.0]]
    state = {key(GTIN, "L1"): node(FARM, {MILL: Held(shipped_in=6.0, received=5.0)})}
    _, job = run([declaration(raw)], policy=STRICT_ADMIN, state=state, existing=stored(raw, custody))
    assert [e["message"] for e in job.errors] == [
        f"declaring event {raw['eventID']} erroneous would leave party {MILL} with 5 of {key(GTIN, 'L1')} "
        "(5 received of 2 shipped to it): declare the events that used what it moved (a receipt, a shipment "
        "onward) erroneous first"]


def test_a_declaration_names_who_recorded_the_event():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    declared = {**declaration(raw), "readPoint": loc(MILL)}
    for recorder, named in ((None, "an admin"), (SHOP, SHOP)):
        with pytest.raises(Forbidden) as refused:
            run([declared], policy=MILL_P, existing=stored(raw, [], recorder))
        assert refused.value.message == (
            f"event {raw['eventID']} was recorded by {named}: only the party that recorded an event (or an admin) "
            "may declare it erroneous")
    book, job = run([declaration(raw)], existing=stored(raw, [], SHOP))  # an admin declares anyone's
    assert job.errors == [] and len(book.declared) == 1


def test_a_declaration_is_also_held_to_the_place_rules():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    declared = {**declaration(raw), "readPoint": loc(SHOP)}
    with pytest.raises(Forbidden) as refused:
        run([declared], policy=FARM_P, existing=stored(raw, [], FARM))
    assert refused.value.details == {"json": {"events": [
        f"location {Ref('location', gln=SHOP).digital_link()} is not a location of party {FARM}"]}}


def test_a_declaration_that_changes_the_event_is_a_conflict():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    altered = {**declaration(raw), "disposition": "destroyed"}
    book, job = run([altered], existing=stored(raw, []))
    assert job.errors == [entry(FIRST, raw, "conflict", (
        f"an errorDeclaration repeats event {raw['eventID']} unchanged (EPCIS 2.0): this one differs from the event "
        "as captured; to say what really happened, capture corrective events and name them in correctiveEventIDs"),
        "errorDeclaration")]
    assert book.declared == []


def test_declaring_twice_is_a_duplicate():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    prior = stored(raw, [[FARM, key(GTIN, "L1"), -4.0, 0.0, 0.0]])
    prior[raw["eventID"]]["erroneous"] = True
    book, job = run([declaration(raw)], existing=prior)
    assert job.duplicates == [raw["eventID"]] and job.errors == [] and book.declared == [] and deltas(book) == {}
    made = commission(FARM, GTIN, "L1", 10)
    book, job = run([made, declaration(made), declaration(made)])
    assert job.duplicates == [made["eventID"]] and job.errors == []
    assert [plan for *_, plan in book.good] == [{"custody": [], "declared": True}]


def test_a_declaration_in_the_same_document_finds_its_own_event():
    other = commission(FARM, GTIN, "L0", 5)
    made = commission(FARM, GTIN, "L1", 10, when="2026-09-20T09:00:00+08:00")
    book, job = run([other, made, declaration(made)], policy=FARM_P)
    assert job.errors == []
    assert [(index, ev.event_id, plan) for index, ev, _, plan in book.good] == [
        (FIRST, other["eventID"], {"custody": [[FARM, key(GTIN, "L0"), 5.0, 0.0, 0.0]]}),
        (FIRST + 2, made["eventID"], {"custody": [], "declared": True})]
    assert book.good[1][2] == cr.content_hash(declaration(made))
    assert deltas(book)[(FARM, key(GTIN, "L1"))] == [0.0, 0.0, 0.0, "KGM", 0]
    assert book.declared == []


def test_an_event_declared_on_arrival_is_stored_and_counts_for_nothing():
    raw = declaration(ship(FARM, MILL, GTIN, "L1", 400))
    book, job = run([raw], policy=FARM_P)
    assert job.errors == job.warnings == [] and deltas(book) == {}
    assert [plan for *_, plan in book.good] == [{"custody": []}]
    made = declaration(commission(FARM, GTIN, "L1", 1))
    book, _ = run([made])
    assert book.state.get(key(GTIN, "L1"), {}).get("exists") is not True and dict(book.batch_edges) == {}


# -- what the first pass left standing (mutation testing) --

def test_an_event_after_a_resend_or_a_refused_event_is_still_checked_and_applied():
    made = commission(FARM, GTIN, "L1", 10)
    later = commission(FARM, GTIN, "L2", 5, when="2026-09-21T08:00:00+08:00")
    existing = {made["eventID"]: {"content_hash": cr.content_hash(made), "erroneous": False}}
    book, job = run([made, later], existing=existing)
    assert job.duplicates == [made["eventID"]] and [i for i, *_ in book.good] == [FIRST + 1]
    changed = {**made, "disposition": "in_progress"}
    book, job = run([changed, later], existing=existing)
    assert [e["code"] for e in job.errors] == ["conflict"] and [i for i, *_ in book.good] == [FIRST + 1]
    too_much = ship(FARM, MILL, GTIN, "L9", 3, when="2026-09-20T07:00:00+08:00")
    book, job = run([too_much, later], policy=STRICT_ADMIN)
    assert [e["code"] for e in job.errors] == ["mass_balance"] and [i for i, *_ in book.good] == [FIRST + 1]


def test_the_outputs_of_a_transformation_in_the_document_exist_from_its_time():
    state = {key(GTIN, "P1"): node(FARM, {MILL: Held(own=10.0)})}
    made = transform([(GTIN, "P1", 10)], [(RICE, "R1", 8)], when="2026-09-22T08:00:00+08:00")
    early = ship(MILL, SHOP, RICE, "R1", 1)  # 2026-09-21
    _, job = run([made, early], policy=STRICT_ADMIN, state=state)
    assert [(e["code"], e["message"]) for e in job.errors][0] == (
        "time", f"eventTime 2026-09-21T00:00:00.000Z is before {lot_name(RICE, 'R1')} existed (2026-09-22T00:00:00Z)")


def test_a_shipment_makes_nothing_exist():
    book, _ = run([ship(FARM, MILL, GTIN, "L1", 1)])
    state = book.state[key(GTIN, "L1")]
    assert (state["exists"], state["owner"], state["first_time"], state["status"]) == (False, None, None, "active")


def test_custody_is_planned_for_each_object_after_a_product_class():
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=10.0)})}
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    raw["quantityList"].insert(0, {"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1, "uom": "KGM"})
    book, _ = run([raw], state=state)
    assert deltas(book) == {(FARM, key(GTIN, "L1")): [-4.0, 0.0, 0.0, "KGM", 1],
                            (MILL, key(GTIN, "L1")): [0.0, 4.0, 0.0, "KGM", 1]}
    known = Policy(require_known=True, strict=True)
    raw["quantityList"].append({"epcClass": lot_uri(GTIN, "L2"), "quantity": 1})
    _, job = run([raw], policy=known, state=state)
    assert [e["message"] for e in job.errors] == [f"no {lot_name(GTIN, 'L2')} registered",
                                                  f"party {FARM} holds 0 of {lot_name(GTIN, 'L2')} and cannot ship, "
                                                  "consume or destroy 1"]


def test_packing_checks_the_children_status_time_and_custody():
    def pack(step: str = "packing", when: str = "2026-09-22T08:00:00+08:00") -> dict:
        return {"type": "AggregationEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
                "action": "ADD", "bizStep": step, "parentID": SSCC, "readPoint": loc(FARM),
                "childQuantityList": [{"epcClass": lot_uri(GTIN, "L1"), "quantity": 1, "uom": "KGM"}]}

    with pytest.raises(Forbidden, match=f"party {FARM} does not hold {lot_name(GTIN, 'L1')}"):
        run([pack()], policy=FARM_P, state={key(GTIN, "L1"): node(FARM, {SHOP: Held(own=1.0)})})
    recalled = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=1.0)}, status="recalled")}
    _, job = run([pack("shipping")], state=recalled)
    assert [e["code"] for e in job.errors] == ["lot_status"]
    later = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=1.0)}, first=datetime(2026, 9, 23, tzinfo=UTC))}
    _, job = run([pack()], policy=STRICT_ADMIN, state=later)
    assert [e["code"] for e in job.errors] == ["time"]
    associate = {**pack(), "type": "AssociationEvent"}
    _, job = run([associate], policy=STRICT_ADMIN, state=later)
    assert [e["code"] for e in job.errors] == ["time"]


def test_the_ownership_rules_see_the_simulated_state():
    theirs = {key(GTIN, "L1"): node(MILL, {MILL: Held(own=1.0)})}
    with pytest.raises(Forbidden) as refused:
        run([commission(FARM, GTIN, "L1", 1)], policy=FARM_P, state=theirs)
    assert refused.value.message == f"party {FARM} may not commission {lot_name(GTIN, 'L1')}: it belongs to {MILL}"
    item = commission(FARM, GTIN, "L1", 1)
    item.pop("quantityList")
    item["epcList"] = [f"https://id.gs1.org/01/{GTIN}/21/S1"]
    printed = {Ref("item", gtin=GTIN, serial="S1").key: {**node(None, {}), "lot_owner": MILL}}
    with pytest.raises(Forbidden, match=f"its lot belongs to {MILL}"):
        run([item], policy=FARM_P, state=printed)
    unit = {"type": "AggregationEvent", "eventID": event_id(), "eventTime": "2026-09-22T08:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "DELETE", "bizStep": "unpacking", "parentID": SSCC,
            "readPoint": loc(FARM)}
    with pytest.raises(Forbidden, match="may not pack into or unpack it"):
        run([unit], policy=FARM_P, state={sscc_key(): node(None, {MILL: Held(own=1.0)})})
    book, job = run([unit], policy=FARM_P, state={sscc_key(): node(None, {FARM: Held(own=1.0)})})
    assert job.errors == [] and len(book.good) == 1
    # a lot made earlier in the same document is the maker's
    book, _ = run([commission(MILL, GTIN, "L5", 1)])
    assert book.state[key(GTIN, "L5")]["owner"] == MILL


def test_a_cycle_through_a_product_class_input_is_not_one():
    raw = transform([], [(RICE, "R1", 1)])
    raw["inputQuantityList"] = [{"epcClass": f"https://id.gs1.org/01/{GTIN}", "quantity": 1}]
    _, job = run([raw], reach={key(RICE, "R1"): {Ref("class", gtin=GTIN).key}})
    assert job.errors == []
    after_class = transform([(GTIN, "P1", 1)], [(RICE, "R1", 1)])
    after_class["outputQuantityList"].insert(0, {"epcClass": f"https://id.gs1.org/01/{RICE}", "quantity": 1})
    _, job = run([after_class], reach={key(RICE, "R1"): {key(GTIN, "P1")}})
    assert [e["code"] for e in job.errors] == ["cycle"]


def test_reachability_ends_on_a_loop_that_does_not_reach_the_goal():
    book, _ = run([], reach={"a": {"b"}, "b": {"c"}, "c": {"b"}})
    assert not book._reaches("a", "z")


def test_epsilon_boundaries_of_custody():
    nothing = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=0.0), MILL: Held()})}
    _, job = run([ship(FARM, SHOP, GTIN, "L1", cr.EPSILON)], policy=STRICT_ADMIN, state=nothing)
    assert job.errors == []  # a shortfall of EPSILON is rounding
    receipt = ship(FARM, MILL, GTIN, "L1", cr.EPSILON, bizStep="receiving")
    receipt["readPoint"] = loc(MILL)
    _, job = run([receipt], policy=STRICT_ADMIN, state=nothing)
    assert job.errors == []
    book, _ = run([])
    book._delta(FARM, "k", cr.EPSILON, -cr.EPSILON, 0.0, None)
    assert book.deltas[(FARM, "k")][4] == 0  # moved nothing beyond rounding: no entry counted


def test_epsilon_boundaries_of_a_declaration():
    raw = ship(FARM, MILL, GTIN, "L1", 4)
    state = {key(GTIN, "L1"): node(FARM, {FARM: Held(own=0.0)})}
    _, job = run([declaration(raw)], policy=STRICT_ADMIN, state=state,
                 existing=stored(raw, [[FARM, key(GTIN, "L1"), cr.EPSILON, 0.0, 0.0]]))
    assert job.errors == []
    state = {key(GTIN, "L1"): node(FARM, {MILL: Held(shipped_in=4.0, received=cr.EPSILON)})}
    _, job = run([declaration(raw)], policy=STRICT_ADMIN, state=state,
                 existing=stored(raw, [[MILL, key(GTIN, "L1"), 0.0, 4.0, 0.0]]))
    assert job.errors == []
