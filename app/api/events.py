"""Producer-friendly events: transform, pack/unpack, ship, receive, sell/consume/destroy.

Each action becomes standard EPCIS 2.0 events (gs1/event_builders.py builds them), recorded through the one write
path (app/capture.py), so they read back through /epcis/events like any captured event. All or nothing: any problem
is a 422 naming it.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import current_principal, ensure_party, require
from app.capture import record_events
from app.schemas.events import (
    AggregationIn,
    DispositionIn,
    ReceiptIn,
    RecordedOut,
    ShipmentIn,
    TransformationIn,
)
from gs1 import event_builders

blp = Blueprint("events", __name__, url_prefix="/api/v1", description="Supply-chain events (recorded as EPCIS)")


@blp.route("/transformations", methods=["POST"])
@require("producer", "admin")
@blp.arguments(TransformationIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="Unknown lot/product, more output than the yield allows, a cycle")
def transform(body):
    """Transform input lots (quantities consumed) into new output lots: milling, drying, cutting, blending."""
    ensure_party(body["party_gln"], "party_gln")
    return _record([event_builders.transformation_event(body)])


@blp.route("/aggregations", methods=["POST"])
@require("producer", "admin")
@blp.arguments(AggregationIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="Unknown item or product")
def aggregate(body):
    """Pack serialized items into a case or gift box (ADD), or unpack them (DELETE)."""
    ensure_party(body["party_gln"], "party_gln")
    return _record([event_builders.aggregation_event(body)])


@blp.route("/shipments", methods=["POST"])
@require("producer", "admin")
@blp.arguments(ShipmentIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="More than held, a held or recalled lot, unknown party")
def ship(body):
    """Ship quantities of lots to another party, with the delivery note and invoice as business documents."""
    ensure_party(body["party_gln"], "party_gln")
    return _record([event_builders.shipment_event(body)])


@blp.route("/receipts", methods=["POST"])
@require("producer", "admin")
@blp.arguments(ReceiptIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="Unknown lot or party")
def receive(body):
    """Receive quantities of lots from another party."""
    ensure_party(body["party_gln"], "party_gln")
    return _record([event_builders.receipt_event(body)])


@blp.route("/dispositions", methods=["POST"])
@require("producer", "admin")
@blp.arguments(DispositionIn)
@blp.response(201, RecordedOut)
@blp.alt_response(422, schema="Error", description="More than held, a held or recalled lot")
def dispose(body):
    """Record a retail sale, consumption or destruction of quantities of lots."""
    ensure_party(body["party_gln"], "party_gln")
    return _record([event_builders.disposition_event(body)])


def _record(events: list[dict]) -> dict:
    job = record_events(events, current_principal())
    return {"event_ids": job.captured, "captured": len(job.captured)}
