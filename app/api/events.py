"""Producer-friendly events: transform, pack/unpack, ship, receive, sell/consume/destroy.

Each action becomes standard EPCIS 2.0 events, recorded through the one write path (app/capture.py), so they read
back through /epcis/events like any captured event. All or nothing: any problem is a 422 naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from flask_smorest import Blueprint

from app.auth import current_principal, ensure_party, require
from app.capture import location_uri, lot_uri, party_uri, record_events
from app.schemas.events import (
    AggregationIn,
    DispositionIn,
    ReceiptIn,
    RecordedOut,
    ShipmentIn,
    TransformationIn,
)
from gs1.identifiers import Ref
from gs1.timezones import CHINA

blp = Blueprint("events", __name__, url_prefix="/api/v1", description="Supply-chain events (recorded as EPCIS)")
DISPOSITIONS = {"sold": ("retail_selling", "retail_sold"), "consumed": ("dispensing", "dispensed"),
                "destroyed": ("destroying", "destroyed")}


@blp.route("/transformations", methods=["POST"])
@require("producer", "admin")
@blp.arguments(TransformationIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="Unknown lot/product, more output than the yield allows, a cycle")
def transform(body):
    """Transform input lots (quantities consumed) into new output lots: milling, drying, cutting, blending."""
    ensure_party(body["party_gln"], "party_gln")
    event = _base(body, "TransformationEvent", None, "commissioning", "active")
    event["inputQuantityList"] = [_qty(x) for x in body["inputs"]]
    event["outputQuantityList"] = [_qty(x) for x in body["outputs"]]
    return _record([event])


@blp.route("/aggregations", methods=["POST"])
@require("producer", "admin")
@blp.arguments(AggregationIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="Unknown item or product")
def aggregate(body):
    """Pack serialized items into a case or gift box (ADD), or unpack them (DELETE)."""
    ensure_party(body["party_gln"], "party_gln")
    packing = body["action"] == "ADD"
    event = _base(body, "AggregationEvent", body["action"], "packing" if packing else "unpacking",
                  "container_closed" if packing else "container_open")
    event["parentID"] = _item_uri(body["parent"])
    event["childEPCs"] = [_item_uri(c) for c in body["children"]]
    return _record([event])


@blp.route("/shipments", methods=["POST"])
@require("producer", "admin")
@blp.arguments(ShipmentIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="More than held, a held or recalled lot, unknown party")
def ship(body):
    """Ship quantities of lots to another party, with the delivery note and invoice as business documents."""
    ensure_party(body["party_gln"], "party_gln")
    event = _base(body, "ObjectEvent", "OBSERVE", "shipping", "in_transit")
    event["quantityList"] = [_qty(x) for x in body["lots"]]
    event["sourceList"] = [{"type": "owning_party", "source": party_uri(body["party_gln"])}]
    event["destinationList"] = [{"type": "owning_party", "destination": party_uri(body["destination_gln"])}]
    _documents(event, body)
    return _record([event])


@blp.route("/receipts", methods=["POST"])
@require("producer", "admin")
@blp.arguments(ReceiptIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="Unknown lot or party")
def receive(body):
    """Receive quantities of lots from another party."""
    ensure_party(body["party_gln"], "party_gln")
    event = _base(body, "ObjectEvent", "OBSERVE", "receiving", "in_progress")
    event["quantityList"] = [_qty(x) for x in body["lots"]]
    event["sourceList"] = [{"type": "owning_party", "source": party_uri(body["source_gln"])}]
    event["destinationList"] = [{"type": "owning_party", "destination": party_uri(body["party_gln"])}]
    _documents(event, body)
    return _record([event])


@blp.route("/dispositions", methods=["POST"])
@require("producer", "admin")
@blp.arguments(DispositionIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="More than held, a held or recalled lot")
def dispose(body):
    """Record a retail sale, consumption or destruction of quantities of lots."""
    ensure_party(body["party_gln"], "party_gln")
    step, disposition = DISPOSITIONS[body["kind"]]
    event = _base(body, "ObjectEvent", "OBSERVE", step, disposition)
    event["quantityList"] = [_qty(x) for x in body["lots"]]
    return _record([event])


def _record(events: list[dict]) -> dict:
    job = record_events(events, current_principal())
    return {"event_ids": job.captured, "captured": len(job.captured)}


def event_time(value: datetime | None) -> tuple[str, str]:
    """Return (eventTime, eventTimeZoneOffset) for a given or the current time (China time when none)."""
    if value is None:
        value = datetime.now(UTC).astimezone(CHINA)
    text = value.isoformat(timespec="milliseconds")
    offset = text[-6:] if text[-6] in "+-" else "+00:00"
    return text, offset


def _base(body: dict, kind: str, action: str | None, biz_step: str, disposition: str) -> dict:
    when, offset = event_time(body.get("event_time"))
    event = {"type": kind, "eventTime": when, "eventTimeZoneOffset": offset}
    if action:
        event["action"] = action
    event.update(bizStep=biz_step, disposition=disposition,
                 readPoint={"id": location_uri(body["party_gln"])}, bizLocation={"id": location_uri(body["party_gln"])})
    return event


def _qty(x: dict) -> dict:
    return {"epcClass": lot_uri(x["gtin"], x["lot"]), "quantity": x["quantity"], "uom": x["unit"]}


def _item_uri(x: dict) -> str:
    if "sscc" in x:
        return Ref("sscc", sscc=x["sscc"]).digital_link()
    return Ref("item", gtin=x["gtin"], lot=x.get("lot"), serial=x["serial"]).digital_link()


def _documents(event: dict, body: dict) -> None:
    if body["documents"]:
        # CBV business transaction identifier: urn:epcglobal:cbv:bt:{gln of the issuer}:{document number}
        event["bizTransactionList"] = [
            {"type": d["type"], "bizTransaction": f"urn:epcglobal:cbv:bt:{body['party_gln']}:{quote(d['id'], safe='')}"}
            for d in body["documents"]]

