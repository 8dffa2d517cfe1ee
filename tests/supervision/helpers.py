"""Arrange supervision tests: inspections through the API as a lab, lineage through the one write path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from graph import events, lots, tokens
from gs1.epcis import parse_document
from tests.factories import auth, lot_code

DL = "https://id.gs1.org"
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]


def regulator_token(graph) -> str:
    """A fresh regulator token."""
    return tokens.create(graph, "regulator", None, "supervision tests")["token"]


def inspect(client, lab: dict, lot: dict, *, verdict: str = "pass", day: str = "2026-11-01",
            programme: str | None = "routine_monitoring", region: str | None = None, hazard: str | None = None,
            item: str = "镉 Cd", report_no: str | None = None) -> dict:
    """Record an inspection of a lot as the lab through POST /api/v1/inspections; return the answer."""
    value = 0.5 if verdict == "fail" else 0.05
    body = {"lab_gln": lab["gln"], "gtin": lot["gtin"], "lot": lot["lot"],
            "report_no": report_no or f"R-{uuid.uuid4().hex[:12]}", "sample_id": f"S-{uuid.uuid4().hex[:8]}",
            "date": day, "standard": "GB 2762-2022", "verdict": verdict,
            "results": [{"item": item, "value": value, "limit": 0.2, "unit": "mg/kg", "pass": verdict == "pass"}]}
    for k, v in (("programme", programme), ("region_code", region), ("hazard", hazard)):
        if v is not None:
            body[k] = v
    response = client.post("/api/v1/inspections", json=body, headers=auth(lab["token"]))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def lot_uri(gtin: str, lot: str) -> str:
    """The Digital Link of a lot."""
    return f"{DL}/01/{gtin}/10/{lot}"


def capture_admin(graph, event_list: list[dict]) -> None:
    """Capture events as an admin import through graph/events.py (the one write path)."""
    doc = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-06-01T00:00:00Z", "epcisBody": {"eventList": event_list}}
    normalized = parse_document(doc)
    job = events.CaptureJob(capture_id=events.new_capture_id())
    job.event_count = len(normalized)
    events.capture(graph, list(enumerate(normalized)), events.Policy(role="admin"), job, context=doc["@context"])
    assert job.success, job.errors


class Lineage:
    """Transformations at one party's site, each a fresh lot of one product; keys of every lot made."""

    def __init__(self, party_gln: str, gtin: str, start: datetime | None = None):
        self.gln, self.gtin = party_gln, gtin
        self.clock = start or datetime.now(UTC) - timedelta(days=2)
        self.events: list[dict] = []

    def _at(self) -> dict:
        return {"readPoint": {"id": f"{DL}/414/{self.gln}"}, "bizLocation": {"id": f"{DL}/414/{self.gln}"}}

    def transform(self, inputs: list[str], outputs: int = 1) -> list[str]:
        """Transform lots (their lot numbers) into `outputs` new lots; return the new lot numbers."""
        self.clock += timedelta(minutes=10)
        made = [lot_code() for _ in range(outputs)]
        self.events.append({
            "type": "TransformationEvent", "eventID": f"urn:uuid:{uuid.uuid4()}",
            "eventTime": self.clock.isoformat().replace("+00:00", "Z"), "eventTimeZoneOffset": "+08:00",
            "bizStep": "commissioning", "disposition": "active", **self._at(),
            "inputQuantityList": [{"epcClass": lot_uri(self.gtin, x), "quantity": 1, "uom": "KGM"} for x in inputs],
            "outputQuantityList": [{"epcClass": lot_uri(self.gtin, x), "quantity": 1, "uom": "KGM"} for x in made]})
        return made

    def ship(self, lot: str, to_gln: str, when: datetime) -> None:
        """Ship a lot to another party at a given time."""
        self.events.append({
            "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "action": "OBSERVE",
            "eventTime": when.isoformat().replace("+00:00", "Z"), "eventTimeZoneOffset": "+08:00",
            "bizStep": "shipping", "disposition": "in_transit", **self._at(),
            "quantityList": [{"epcClass": lot_uri(self.gtin, lot), "quantity": 1, "uom": "KGM"}],
            "sourceList": [{"type": "owning_party", "source": f"{DL}/417/{self.gln}"}],
            "destinationList": [{"type": "owning_party", "destination": f"{DL}/417/{to_gln}"}]})


def status(graph, gtin: str, lot: str) -> str:
    """A lot's status as stored (active when none was ever set)."""
    return lots.get(graph, gtin, lot).get("status") or "active"
