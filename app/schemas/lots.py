"""Lot schemas."""

from __future__ import annotations

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GLN, GTIN, LotNumber

EARLIEST = date(1900, 1, 1)


class LotIn(Schema):
    """A lot to register at its origin."""

    gtin = GTIN(required=True)
    lot = LotNumber(required=True)
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9))
    unit = fields.String(required=True, validate=validate.Length(1, 10), metadata={"example": "KGM"})
    production_date = fields.Date(required=True)
    expiry_date = fields.Date(load_default=None)
    owner_gln = GLN(required=True, metadata={"description": "the producing party, which holds the lot"})

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        produced, expires = data.get("production_date"), data.get("expiry_date")
        # A day of leeway: the producer's calendar (China, UTC+8) may be a day ahead of the server's.
        if produced and produced > date.today() + timedelta(days=1):
            raise ValidationError(f"{produced.isoformat()} is in the future: record a lot once it exists",
                                  "production_date")
        if produced and produced < EARLIEST:
            raise ValidationError(f"must not be before {EARLIEST.isoformat()}", "production_date")
        if produced and expires and expires < produced:
            raise ValidationError("must not be before production_date", "expiry_date")


class Holder(Schema):
    """A party holding some of a lot."""

    gln = fields.String()
    quantity = fields.Float()
    unit = fields.String()


class LotWarning(Schema):
    """A data-quality warning on a lot (a temperature excursion on a cold-chain event that carried it)."""

    alert_id = fields.String()
    kind = fields.String(metadata={"example": "temperature_excursion"})
    state = fields.String(metadata={"description": "open, acknowledged or closed"})
    summary = fields.String()
    raised_at = fields.String()
    details = fields.Dict(metadata={"description": "the event, the readings outside (as read and in Celsius), the "
                                                   "limit, seconds outside, the lots warned (a party: its own)"})


class LotOut(Schema):
    """A registered lot."""

    gtin = fields.String()
    lot = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    production_date = fields.String()
    expiry_date = fields.String(allow_none=True)
    status = fields.String()
    owner_gln = fields.String()
    age_years = fields.Integer(allow_none=True)
    holders = fields.List(fields.Nested(Holder))
    warnings = fields.List(fields.Nested(LotWarning), metadata={
        "description": "data-quality warnings (graph/cold_chain.py); the owner, regulators and admins only"})
