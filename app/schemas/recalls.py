"""Recall schemas: opening a case, acknowledgements, closing, holds, and the case itself."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GLN, GTIN, Instant, LotNumber
from app.schemas.trace import LotRef, Window


class RecallIn(Schema):
    """A recall: the implicated lots, why, how serious, and optionally a contamination window."""

    lots = fields.List(fields.Nested(LotRef), required=True, validate=validate.Length(1, 200))
    reason = fields.String(required=True, validate=validate.Length(3, 2000))
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf((1, 2, 3)),
                           metadata={"description": "1: serious harm (start in 24 h), 2: 48 h, 3: 72 h"})
    window = fields.Nested(Window, load_default=None)
    drill = fields.Boolean(load_default=False, metadata={
        "description": "a mock recall: the same traversal and notices, marked as a drill; no lot changes status"})
    refund_contact = fields.String(load_default=None, validate=validate.Length(max=300), metadata={
        "description": "who consumers contact for a refund (shown on the public recall notice)"})


class AckIn(Schema):
    """A holder's confirmation: how much it removed from sale and recovered."""

    party_gln = GLN(required=True)
    quantity_removed = fields.Float(required=True, validate=validate.Range(min=0, max=1e9))
    quantity_recovered = fields.Float(required=True, validate=validate.Range(min=0, max=1e9))
    unit = fields.String(load_default="EA", validate=validate.Length(1, 10))
    gtin = GTIN(load_default=None)
    lot = LotNumber(load_default=None)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))

    @validates_schema
    def _lot_needs_gtin(self, data, **kwargs):
        if (data.get("gtin") is None) != (data.get("lot") is None):
            raise ValidationError("give gtin and lot together", "lot" if data.get("lot") is None else "gtin")


class RecallChangeIn(Schema):
    """A change of an open case: its level, its reason, or both (every holder is told)."""

    level = fields.Integer(load_default=None, strict=True, validate=validate.OneOf((1, 2, 3)))
    reason = fields.String(load_default=None, validate=validate.Length(3, 2000))

    @validates_schema
    def _something(self, data, **kwargs):
        if data.get("level") is None and data.get("reason") is None:
            raise ValidationError("give a new level or reason", "level")


class CloseIn(Schema):
    """Closing a case."""

    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class HoldIn(Schema):
    """Why a lot is held (investigation)."""

    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class HoldOut(Schema):
    """A lot's status before and after."""

    key = fields.String()
    before = fields.String()
    status = fields.String()


class RecallExportQuery(Schema):
    """A recall case's spreadsheet."""

    format = fields.String(load_default="xlsx", validate=validate.OneOf(("csv", "xlsx")))


class RecallOut(Schema):
    """A recall case."""

    recall_id = fields.String()
    level = fields.Integer()
    reason = fields.String()
    status = fields.String()
    opened_at = fields.String()
    closed_at = fields.String(allow_none=True)
    closing_note = fields.String(allow_none=True)
    window = fields.Dict(allow_none=True)
    deadlines = fields.Dict(metadata={"description": "start_by (24/48/72 h), complete_by (10/20/30 working days)"})
    implicated = fields.List(fields.String())
    affected = fields.List(fields.Dict())
    affected_count = fields.Dict(metadata={"description": "lots, items, logistic_units: how many of each the "
                                                          "affected list holds"})
    holders = fields.List(fields.Dict(), metadata={"description": "party with contact, objects held/received, "
                                                                  "quantities, ship dates, documents, acks"})
    effectiveness = fields.Dict(allow_none=True, metadata={"description": "null in the view a holder gets (its own "
                                                                          "row only)"})
    drill = fields.Boolean(metadata={"description": "a mock recall: no status changed"})
    initiated_by = fields.String(metadata={"description": "regulator, producer (自主召回) or drill"})
    opened_by_party = fields.String(allow_none=True, metadata={"description": "the producer that opened its own "
                                                                              "recall"})
    refund_contact = fields.String(allow_none=True)
    trace_ms = fields.Float(allow_none=True, metadata={"description": "time to trace the case when it opened"})


class RecallListQuery(Schema):
    """Filters and paging of the cases list."""

    status = fields.String(load_default=None, validate=validate.OneOf(("open", "closed")))
    level = fields.Integer(load_default=None, validate=validate.OneOf((1, 2, 3)))
    gtin = GTIN(load_default=None, metadata={"description": "a product implicated or affected"})
    party = GLN(load_default=None, metadata={"description": "the party that opened the case or was notified in it"})
    from_ = Instant(data_key="from", load_default=None, metadata={"description": "opened at or after (ISO 8601)"})
    to = Instant(load_default=None, metadata={"description": "opened before (ISO 8601)"})
    drill = fields.Boolean(load_default=None, metadata={"description": "only drills (true) or only real cases"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    page = fields.String(load_default=None, validate=validate.Length(max=200),
                         metadata={"description": "the `next` of the previous page"})


class RecallListOut(Schema):
    """One page of cases, newest first."""

    cases = fields.List(fields.Dict())
    next = fields.String(allow_none=True, metadata={"description": "pass as `page` for the next page; null at the end"})


class WebhookIn(Schema):
    """A party's webhook endpoint."""

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=500))


class RotateIn(Schema):
    """Rotating a webhook secret takes no fields (an empty JSON object)."""


class WebhookOut(Schema):
    """A webhook endpoint; `secret` only when it is new (registration, rotation), shown once."""

    url = fields.String()
    version = fields.Integer()
    fingerprint = fields.String(metadata={"description": "first 16 hex digits of the secret's SHA-256"})
    secret = fields.String(allow_none=True)
