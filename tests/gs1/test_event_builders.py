"""The EPCIS events TraceGraph builds itself (gs1/event_builders.py), without a database: each is a standard event
that normalises as captured events do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from gs1 import event_builders
from gs1.epcis import context_prefixes, normalize_event

FARM, SHOP = "6901234000016", "6901234000023"
GTIN = "06901234000108"
AT = datetime(2026, 10, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def test_a_shipment_names_owners_places_quantities_and_documents():
    body = {"party_gln": FARM, "destination_gln": SHOP, "event_time": AT,
            "lots": [{"gtin": GTIN, "lot": "A/1", "quantity": 5.0, "unit": "KGM"}],
            "documents": [{"type": "desadv", "id": "DN 1"}]}
    event = event_builders.shipment_event(body)
    assert event == {
        "type": "ObjectEvent", "eventTime": "2026-10-01T09:30:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
        "readPoint": {"id": f"https://id.gs1.org/414/{FARM}"}, "bizLocation": {"id": f"https://id.gs1.org/414/{FARM}"},
        "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/A%2F1", "quantity": 5.0, "uom": "KGM"}],
        "sourceList": [{"type": "owning_party", "source": f"https://id.gs1.org/417/{FARM}"}],
        "destinationList": [{"type": "owning_party", "destination": f"https://id.gs1.org/417/{SHOP}"}],
        "bizTransactionList": [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{FARM}:DN%201"}],
    }
    assert normalize_event(event, "", context_prefixes()).biz_step == "shipping"


def test_a_receipt_goes_from_the_source_to_the_receiving_party():
    body = {"party_gln": SHOP, "source_gln": FARM, "event_time": AT, "documents": [],
            "lots": [{"gtin": GTIN, "lot": "A1", "quantity": 5.0, "unit": "KGM"}]}
    event = event_builders.receipt_event(body)
    assert event["sourceList"][0]["source"].endswith(FARM) and event["destinationList"][0]["destination"].endswith(SHOP)
    assert event["readPoint"]["id"].endswith(SHOP) and "bizTransactionList" not in event


def test_an_inspection_is_conformant_only_when_it_passed():
    passed = event_builders.inspection_event(FARM, GTIN, "A1", "pass", "R-1", AT)
    failed = event_builders.inspection_event(FARM, GTIN, "A1", "fail", "R-1", AT)
    assert (passed["disposition"], failed["disposition"]) == ("conformant", "non_conformant")
    assert passed["bizTransactionList"] == [{"type": "testres", "bizTransaction": f"urn:epcglobal:cbv:bt:{FARM}:R-1"}]


def test_without_a_time_an_event_is_now_in_china_time():
    when, offset = event_builders.event_time(None)
    assert offset == "+08:00" and abs(datetime.fromisoformat(when) - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_recall_observes_its_objects_in_chunks():
    affected = [f"lot:{GTIN}:L{i}" for i in range(event_builders.EVENT_CHUNK)] + [f"item:{GTIN}:S/1", "sscc:1"]
    events = event_builders.recalled_events("RC-1", affected, datetime(2026, 11, 1, tzinfo=UTC))
    assert len(events) == 2
    first, second = (e.raw for e in events)
    assert len(first["quantityList"]) == event_builders.EVENT_CHUNK and "epcList" not in first
    assert second["epcList"] == [f"https://id.gs1.org/01/{GTIN}/21/S%2F1", "https://id.gs1.org/00/1"]
    assert second["disposition"] == "recalled" and second["tracegraph:recallID"] == "RC-1"
    assert second["eventTime"] == "2026-11-01T00:00:00.000Z"
    assert [o.ref.key for o in events[1].objects] == [f"item:{GTIN}:S/1", "sscc:1"]
