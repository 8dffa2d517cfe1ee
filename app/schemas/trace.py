"""Trace schemas: the query (direction, contamination window), common-source request and the trace answer."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GTIN, Instant, LotNumber
from gs1.identifiers import lot_key

DIRECTIONS = ("back", "forward", "both")
EXPORT_FORMATS = ("csv", "xlsx", "epcis")


class Window(Schema):
    """A contamination window: both ends or neither, `from` not after `to`."""

    from_ = Instant(data_key="from", load_default=None, default_timezone=UTC,
                                 metadata={"description": "start of the contamination window (ISO 8601)"})
    to = Instant(load_default=None, default_timezone=UTC,
                              metadata={"description": "end of the contamination window (ISO 8601)"})

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if (start is None) != (end is None):
            raise ValidationError("give both from and to, or neither", "from" if start is None else "to")
        if start is not None and end is not None and end < start:
            raise ValidationError("must not be before from", "to")


class TraceQuery(Window):
    """Which way to trace, optionally only through what the start made (or was made of) inside a window."""

    direction = fields.String(load_default="both", validate=validate.OneOf(DIRECTIONS))


class TraceExportQuery(TraceQuery):
    """A trace as a sortable spreadsheet (csv/xlsx) or an EPCISDocument (epcis)."""

    format = fields.String(load_default="xlsx", validate=validate.OneOf(EXPORT_FORMATS))


class RangeExportQuery(Schema):
    """Every key data element recorded between two instants, as a sortable spreadsheet."""

    from_ = Instant(data_key="from", required=True, default_timezone=UTC)
    to = Instant(required=True, default_timezone=UTC)
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("csv", "xlsx")))

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


class LotRef(Schema):
    """A lot by GTIN and lot number."""

    gtin = GTIN(required=True)
    lot = LotNumber(required=True)


class CommonSourceIn(Schema):
    """Several implicated lots (an outbreak)."""

    lots = fields.List(fields.Nested(LotRef), required=True, validate=validate.Length(2, 200))
    min_shared = fields.Integer(load_default=2, validate=validate.Range(1, 200),
                                metadata={"description": "answer only sources reaching at least this many lots"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 1000))


class Ranked(Schema):
    """A shared upstream lot, party or event and the implicated lots it reaches."""

    id = fields.String()
    kind = fields.String()
    reaches = fields.Integer()
    implicated = fields.List(fields.String())
    details = fields.Dict()


class CommonSourceOut(Schema):
    """Shared upstream sources, most widely shared first."""

    implicated = fields.List(fields.String())
    missing = fields.List(fields.String())
    lots = fields.List(fields.Nested(Ranked))
    parties = fields.List(fields.Nested(Ranked))
    events = fields.List(fields.Nested(Ranked))


class TraceNode(Schema):
    """A lot, item or logistic unit on the trace; `id` is its business key."""

    id = fields.String(metadata={"example": lot_key("06901234567892", "FS2026-001")})
    kind = fields.String(metadata={"description": "lot, item or sscc"})
    side = fields.String(metadata={"description": "start, back, forward or both"})
    depth = fields.Integer(allow_none=True, metadata={"description": "hops from the start; negative upstream"})
    gtin = fields.String()
    lot = fields.String()
    serial = fields.String()
    sscc = fields.String()
    status = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    owner_gln = fields.String()
    production_date = fields.String()
    expiry_date = fields.String()
    product = fields.Dict()


class TraceEdge(Schema):
    """A lineage edge, always pointing downstream."""

    from_ = fields.String(data_key="from")
    type = fields.String(metadata={"description": "TRANSFORMED_INTO, HAS_ITEM or PACKED_IN"})
    to = fields.String()
    event_id = fields.String(allow_none=True)
    time = fields.String(allow_none=True)


class TraceOut(Schema):
    """The lineage: nodes and edges with stable IDs, the events on the way, quality records and parties."""

    start = fields.String()
    direction = fields.String()
    window = fields.Dict(allow_none=True)
    nodes = fields.List(fields.Nested(TraceNode))
    edges = fields.List(fields.Nested(TraceEdge))
    events = fields.List(fields.Dict())
    holders = fields.List(fields.Dict(), metadata={"description": "current custody: gln, key, quantity, unit"})
    receipts = fields.List(fields.Dict(), metadata={"description": "who received what, how much, when, documents"})
    inspections = fields.List(fields.Dict())
    certificates = fields.List(fields.Dict())
    parties = fields.Dict(metadata={"description": "GLN -> party; contacts only for regulators"})
