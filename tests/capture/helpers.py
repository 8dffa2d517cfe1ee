"""Builders of EPCIS documents and events for the capture tests (fresh identifiers per test)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from gs1.identifiers import Ref

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def document(*events: dict) -> dict:
    """An EPCISDocument holding these events."""
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-09-20T08:00:00Z", "epcisBody": {"eventList": list(events)}}


def lot_uri(gtin: str, lot: str) -> str:
    """A lot's Digital Link URI."""
    return Ref("lot", gtin=gtin, lot=lot).digital_link()


def loc(gln: str) -> dict:
    """A readPoint/bizLocation object for a party's main location."""
    return {"id": Ref("location", gln=gln).digital_link()}


def event_id() -> str:
    """A fresh eventID."""
    return f"urn:uuid:{uuid.uuid4()}"


def commission(gln: str, gtin: str, lot: str, quantity: float, when: str = "2026-09-20T08:00:00+08:00",
               **extra) -> dict:
    """An ObjectEvent ADD commissioning a quantity of a lot at a party."""
    return {"type": "ObjectEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "action": "ADD", "bizStep": "commissioning", "disposition": "active",
            "quantityList": [{"epcClass": lot_uri(gtin, lot), "quantity": quantity, "uom": "KGM"}],
            "readPoint": loc(gln), "bizLocation": loc(gln), **extra}


def ship(gln: str, dest: str, gtin: str, lot: str, quantity: float, when: str = "2026-09-21T08:00:00+08:00",
         **extra) -> dict:
    """An ObjectEvent OBSERVE shipping a quantity of a lot from one party to another."""
    party = Ref("party", gln=dest).digital_link()
    source = Ref("party", gln=gln).digital_link()
    return {"type": "ObjectEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
            "quantityList": [{"epcClass": lot_uri(gtin, lot), "quantity": quantity, "uom": "KGM"}],
            "readPoint": loc(gln), "sourceList": [{"type": "owning_party", "source": source}],
            "destinationList": [{"type": "owning_party", "destination": party}], **extra}


def event_path(eid: str) -> str:
    """The URL of one event."""
    return "/epcis/events/" + quote(eid, safe="")
