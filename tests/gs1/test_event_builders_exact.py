"""Every event gs1/event_builders.py writes, field by field: what is recorded is what a trading partner receives."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gs1 import event_builders as b
from gs1.epcis import normalize_event

FARM, SHOP, LAB = "6901234000016", "6901234000023", "6901234000030"
GTIN = "06901234000108"
AT = datetime(2026, 10, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
HERE = {"readPoint": {"id": f"https://id.gs1.org/414/{FARM}"}, "bizLocation": {"id": f"https://id.gs1.org/414/{FARM}"}}
WHEN = {"eventTime": "2026-10-01T09:30:00.000+08:00", "eventTimeZoneOffset": "+08:00"}


def _lot(lot="A1", quantity=5.0, unit="KGM"):
    return {"gtin": GTIN, "lot": lot, "quantity": quantity, "unit": unit}


def _qty(lot="A1", quantity=5.0, unit="KGM"):
    return {"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{lot}", "quantity": quantity, "uom": unit}


def test_identifier_builders():
    assert b.lot_uri(GTIN, "A/1") == f"https://id.gs1.org/01/{GTIN}/10/A%2F1"
    assert b.location_uri(FARM) == f"https://id.gs1.org/414/{FARM}"
    assert b.party_uri(FARM) == f"https://id.gs1.org/417/{FARM}"
    assert b.item_uri({"sscc": "106141412345678908", "gtin": GTIN}) == "https://id.gs1.org/00/106141412345678908"
    assert b.item_uri({"gtin": GTIN, "serial": "S/1"}) == f"https://id.gs1.org/01/{GTIN}/21/S%2F1"
    assert b.item_uri({"gtin": GTIN, "serial": "S1", "lot": "L 1"}) == f"https://id.gs1.org/01/{GTIN}/10/L%201/21/S1"
    assert b.animal_uri("CN 1/2") == "urn:tracegraph:animal:CN%201%2F2"
    assert b.certificate_uri(FARM, "Q 1/2") == f"urn:tracegraph:cert:{FARM}:Q%201%2F2"
    assert b.business_transaction(FARM, "PO 1/2") == f"urn:epcglobal:cbv:bt:{FARM}:PO%201%2F2"
    assert b.owning_parties(FARM, SHOP) == {
        "sourceList": [{"type": "owning_party", "source": f"https://id.gs1.org/417/{FARM}"}],
        "destinationList": [{"type": "owning_party", "destination": f"https://id.gs1.org/417/{SHOP}"}]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(AT, ("2026-10-01T09:30:00.000+08:00", "+08:00")),
     (datetime(2026, 1, 1, 9, 0, 0, 123456, tzinfo=UTC), ("2026-01-01T09:00:00.123+00:00", "+00:00")),
     (datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
      ("2026-01-01T09:00:00.000-05:30", "-05:30")),
     (datetime(2026, 1, 1, 9), ("2026-01-01T09:00:00.000", "+00:00"))],
)
def test_event_time_writes_milliseconds_and_the_offset(value, expected):
    assert b.event_time(value) == expected


def test_now_is_china_time():
    when, offset = b.event_time(None)
    assert offset == "+08:00" and when.endswith("+08:00")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", when)


def test_transformation_consumes_inputs_into_outputs_at_the_party():
    body = {"party_gln": FARM, "event_time": AT, "inputs": [_lot("A1", 10, "KGM")],
            "outputs": [_lot("B1", 8, "KGM"), _lot("B2", 2, "H87")]}
    assert b.transformation_event(body) == {
        "type": "TransformationEvent", **WHEN, "bizStep": "commissioning", "disposition": "active", **HERE,
        "inputQuantityList": [_qty("A1", 10)], "outputQuantityList": [_qty("B1", 8), _qty("B2", 2, "H87")]}


def test_packing_and_unpacking():
    parent = {"sscc": "106141412345678908"}
    children = [{"gtin": GTIN, "serial": "S1"}, {**_lot("A1", 3)}]
    packed = b.aggregation_event({"party_gln": FARM, "event_time": AT, "action": "ADD", "parent": parent,
                                  "children": children})
    assert packed == {
        "type": "AggregationEvent", **WHEN, "action": "ADD", "bizStep": "packing", "disposition": "container_closed",
        **HERE, "parentID": "https://id.gs1.org/00/106141412345678908",
        "childEPCs": [f"https://id.gs1.org/01/{GTIN}/21/S1"], "childQuantityList": [_qty("A1", 3)]}
    unpacked = b.aggregation_event({"party_gln": FARM, "event_time": AT, "action": "DELETE", "parent": parent,
                                    "children": [_lot("A1", 3)]})
    assert (unpacked["action"], unpacked["bizStep"], unpacked["disposition"]) == (
        "DELETE", "unpacking", "container_open")
    assert "childEPCs" not in unpacked and unpacked["childQuantityList"] == [_qty("A1", 3)]
    empty = b.aggregation_event({"party_gln": FARM, "event_time": AT, "action": "DELETE", "parent": parent,
                                 "children": []})
    assert empty["childEPCs"] == [] and "childQuantityList" not in empty
    items = b.aggregation_event({"party_gln": FARM, "event_time": AT, "action": "ADD", "parent": parent,
                                 "children": [{"sscc": "106141412345678908"}]})
    assert items["childEPCs"] == ["https://id.gs1.org/00/106141412345678908"] and "childQuantityList" not in items


def test_shipment_and_receipt_name_both_owners_and_the_documents():
    shipped = b.shipment_event({"party_gln": FARM, "destination_gln": SHOP, "event_time": AT, "lots": [_lot()],
                                "documents": [{"type": "desadv", "id": "D1"}, {"type": "po", "id": "P 2"}]})
    assert shipped == {
        "type": "ObjectEvent", **WHEN, "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit", **HERE,
        "quantityList": [_qty()], **b.owning_parties(FARM, SHOP),
        "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{FARM}:D1"},
                               {"type": "po", "bizTransaction": f"urn:epcglobal:cbv:bt:{FARM}:P%202"}]}
    received = b.receipt_event({"party_gln": FARM, "source_gln": SHOP, "event_time": AT, "lots": [_lot()],
                                "documents": [{"type": "desadv", "id": "D1"}]})
    assert received == {
        "type": "ObjectEvent", **WHEN, "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
        **HERE, "quantityList": [_qty()], **b.owning_parties(SHOP, FARM),
        "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{FARM}:D1"}]}


@pytest.mark.parametrize(("kind", "step", "disposition"), [("sold", "retail_selling", "retail_sold"),
                                                           ("consumed", "dispensing", "dispensed"),
                                                           ("destroyed", "destroying", "destroyed")])
def test_dispositions(kind, step, disposition):
    event = b.disposition_event({"party_gln": FARM, "event_time": AT, "kind": kind, "lots": [_lot()]})
    assert event == {"type": "ObjectEvent", **WHEN, "action": "OBSERVE", "bizStep": step,
                     "disposition": disposition, **HERE, "quantityList": [_qty()]}


def test_inspection_event_in_full():
    event = b.inspection_event(LAB, GTIN, "A/1", "pass", "R 1", AT)
    assert event == {
        "type": "ObjectEvent", **WHEN, "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant",
        "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/A%2F1"}],
        "readPoint": {"id": f"https://id.gs1.org/414/{LAB}"},
        "bizTransactionList": [{"type": "testres", "bizTransaction": f"urn:epcglobal:cbv:bt:{LAB}:R%201"}]}
    assert b.inspection_event(LAB, GTIN, "A1", "fail", "R1", AT)["disposition"] == "non_conformant"
    now = b.inspection_event(LAB, GTIN, "A1", "pass", "R1")
    assert now["eventTimeZoneOffset"] == "+08:00"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", now["eventTime"])


LOT = {"gtin": GTIN, "lot": "A1", "quantity": 5, "unit": "KGM", "owner_gln": FARM, "production_date": "2026-09-01"}


def test_origin_of_a_produced_lot_commissions_it():
    assert b.origin_event(LOT, {}) == {
        "type": "ObjectEvent", "eventTime": "2026-09-01T00:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "action": "ADD", "quantityList": [_qty("A1", 5)], "bizStep": "commissioning", "disposition": "active",
        **HERE, "ilmd": {"cbvmda:lotNumber": "A1"}}
    assert b.origin_event(LOT, {"kind": None})["bizStep"] == "commissioning"
    assert b.origin_event(LOT, {"kind": "processing"})["bizStep"] == "commissioning"


def test_origin_of_a_harvest_with_its_records():
    event = b.origin_event({**LOT, "expiry_date": "2027-09-01"}, {
        "kind": "harvest", "event_time": "2026-09-01T07:00:00.000+08:00", "plot": "North 3", "area_mu": 2.5,
        "farm_inputs": [{"kind": "fertiliser", "name": "urea", "dose": "10kg"}], "quarantine_certificate": "Q 1"})
    assert event == {
        "type": "ObjectEvent", "eventTime": "2026-09-01T07:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "action": "ADD", "quantityList": [_qty("A1", 5)], "bizStep": "harvesting", "disposition": "active", **HERE,
        "ilmd": {"cbvmda:lotNumber": "A1", "cbvmda:itemExpirationDate": "2027-09-01",
                 "cbvmda:harvestStartDate": "2026-09-01", "tracegraph:plot": "North 3", "tracegraph:areaMu": 2.5,
                 "tracegraph:farmInputs": [{"kind": "fertiliser", "name": "urea", "dose": "10kg"}]},
        "certificationInfo": f"urn:tracegraph:cert:{FARM}:Q%201"}
    assert b.FARM_INPUTS == "tracegraph:farmInputs"
    empty = b.origin_event({**LOT, "expiry_date": ""}, {"plot": "", "area_mu": 0, "farm_inputs": [],
                                                        "quarantine_certificate": ""})
    assert empty["ilmd"] == {"cbvmda:lotNumber": "A1"} and "certificationInfo" not in empty


def test_origin_of_a_slaughter_transforms_the_animals_into_the_lot():
    event = b.origin_event(LOT, {"kind": "slaughter", "animal_ids": ["CN 1", "CN/2"],
                                 "event_time": "2026-09-01T06:00:00.000-01:00"})
    assert event == {
        "type": "TransformationEvent", "eventTime": "2026-09-01T06:00:00.000-01:00", "eventTimeZoneOffset": "-01:00",
        "inputEPCList": ["urn:tracegraph:animal:CN%201", "urn:tracegraph:animal:CN%2F2"],
        "outputQuantityList": [_qty("A1", 5)], "bizStep": "slaughtering", "disposition": "active", **HERE,
        "ilmd": {"cbvmda:lotNumber": "A1"}}
    without_animals = b.origin_event(LOT, {"kind": "slaughter", "animal_ids": []})
    assert without_animals["type"] == "ObjectEvent" and without_animals["bizStep"] == "slaughtering"
    assert without_animals["quantityList"] == [_qty("A1", 5)] and without_animals["action"] == "ADD"
    assert b.ORIGIN_STEPS == {"harvest": "harvesting", "slaughter": "slaughtering"}


def test_recalled_events_in_full():
    at = datetime(2026, 11, 1, 8, tzinfo=UTC)
    affected = [f"lot:{GTIN}:L/1", f"item:{GTIN}:S/1", "sscc:106141412345678908", f"loc:{FARM}", f"class:{GTIN}"]
    (event,) = b.recalled_events("RC-1", affected, at)
    raw = event.raw
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", raw.pop("eventID"))
    assert raw == {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
                     {"tracegraph": "https://tracegraph.example/ns/"}],
        "type": "ObjectEvent", "eventTime": "2026-11-01T08:00:00.000Z", "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE", "bizStep": "holding", "disposition": "recalled",
        "persistentDisposition": {"set": ["recalled"]}, "tracegraph:recallID": "RC-1",
        "epcList": [f"https://id.gs1.org/01/{GTIN}/21/S%2F1", "https://id.gs1.org/00/106141412345678908"],
        "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/L%2F1"}]}
    assert [(o.ref.kind, o.ref.key, o.ref.uri) for o in event.objects] == [
        ("item", f"item:{GTIN}:S/1", f"https://id.gs1.org/01/{GTIN}/21/S%2F1"),
        ("sscc", "sscc:106141412345678908", "https://id.gs1.org/00/106141412345678908"),
        ("lot", f"lot:{GTIN}:L/1", f"https://id.gs1.org/01/{GTIN}/10/L%2F1")]
    assert (event.biz_step, event.disposition, event.event_time) == ("holding", "recalled", "2026-11-01T08:00:00.000Z")
    assert event.persistent_disposition == {"set": ["recalled"], "unset": []}
    assert event.extensions == {"tracegraph:recallID": "RC-1"}
    again = normalize_event(raw)
    assert [o.ref.key for o in again.objects] == [o.ref.key for o in event.objects][:2] + [f"lot:{GTIN}:L/1"]


def test_recalled_lots_and_serials_may_hold_colons():
    (event,) = b.recalled_events("RC-4", [f"lot:{GTIN}:L:1", f"item:{GTIN}:S:2"], datetime(2026, 11, 1, tzinfo=UTC))
    assert event.raw["epcList"] == [f"https://id.gs1.org/01/{GTIN}/21/S%3A2"]
    assert event.raw["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/L%3A1"}]
    assert [(o.ref.gtin, o.ref.serial, o.ref.lot) for o in event.objects] == [(GTIN, "S:2", None), (GTIN, None, "L:1")]


def test_recalled_events_chunk_at_the_limit():
    assert b.EVENT_CHUNK == 1000 and b.RECALL_NS == "https://tracegraph.example/ns/"
    at = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=8)))
    exactly = [f"item:{GTIN}:S{i}" for i in range(1000)]
    (only,) = b.recalled_events("RC-2", exactly, at)
    assert len(only.raw["epcList"]) == 1000 and "quantityList" not in only.raw
    assert only.raw["eventTime"] == "2026-11-01T00:00:00.000+08:00"
    first, second = b.recalled_events("RC-2", [*exactly, f"lot:{GTIN}:L"], at)
    assert len(first.objects) == 1000 and [o.ref.key for o in second.objects] == [f"lot:{GTIN}:L"]
    assert "epcList" not in second.raw and first.raw["eventID"] != second.raw["eventID"]
    assert b.recalled_events("RC-3", [], at) == [] and b.recalled_events("RC-3", [f"loc:{FARM}"], at)[0].objects == []
