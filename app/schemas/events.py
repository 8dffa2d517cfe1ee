"""Producer-friendly event schemas: each maps onto standard EPCIS events (app/api/events.py)."""

from __future__ import annotations

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GLN, GTIN, Instant, LotNumber, Serial
from app.schemas.lots import EARLIEST, LotIn

UNITS = validate.Length(1, 10)
DOCUMENT_TYPES = ("desadv", "inv", "po", "recadv", "bol", "cert", "prodorder")


class LotQuantity(Schema):
    """A quantity of a lot."""

    gtin = GTIN(required=True)
    lot = LotNumber(required=True)
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1e9))
    unit = fields.String(load_default="KGM", validate=UNITS, metadata={"example": "KGM"})


class Document(Schema):
    """A business document the event refers to (EPCIS bizTransaction)."""

    type = fields.String(required=True, validate=validate.OneOf(DOCUMENT_TYPES),
                         metadata={"description": "desadv = delivery note, inv = invoice, po = purchase order"})
    id = fields.String(required=True, validate=validate.Length(1, 80), metadata={"example": "DN-2026-0001"})


class _Event(Schema):
    """What every producer-friendly event has: where (the acting party) and when."""

    party_gln = GLN(required=True, metadata={"description": "the party (and location) recording the event"})
    event_time = Instant(load_default=None, metadata={"description": "default: now"})


class TransformationIn(_Event):
    """Inputs consumed -> new output lots (milling, drying, cutting, blending)."""

    inputs = fields.List(fields.Nested(LotQuantity), required=True, validate=validate.Length(1, 500))
    outputs = fields.List(fields.Nested(LotQuantity), required=True, validate=validate.Length(1, 500))
    production_date = fields.Date(load_default=None, metadata={
        "description": "the new output lots' production date (kept as the lots' own, printed on their labels)"})
    expiry_date = fields.Date(load_default=None, metadata={
        "description": "the new output lots' expiry (best-before) date; not before production_date"})

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        produced, expires = data.get("production_date"), data.get("expiry_date")
        # As a lot registered at its origin (LotIn): not ahead of China's calendar, not before 1900.
        if produced and produced > date.today() + timedelta(days=1):
            raise ValidationError(f"{produced.isoformat()} is in the future: record a lot once it exists",
                                  "production_date")
        if produced and produced < EARLIEST:
            raise ValidationError(f"must not be before {EARLIEST.isoformat()}", "production_date")
        if produced and expires and expires < produced:
            raise ValidationError("must not be before production_date", "expiry_date")


class ItemRef(Schema):
    """A serialized item (GTIN + serial, optionally its lot) or a logistic unit (SSCC)."""

    gtin = GTIN()
    serial = Serial()
    lot = LotNumber()
    sscc = fields.String(validate=validate.Regexp(r"^\d{18}$", error="an SSCC has 18 digits"))

    @validates_schema
    def _one_kind(self, data, **kwargs):
        if "sscc" in data and ("gtin" in data or "serial" in data):
            raise ValidationError("give either an sscc or a gtin with a serial", "sscc")
        if "sscc" not in data and not ("gtin" in data and "serial" in data):
            raise ValidationError("give an sscc, or a gtin with a serial", "serial")


class AggregationIn(_Event):
    """Pack items into a case or gift box (ADD) or unpack them (DELETE)."""

    action = fields.String(load_default="ADD", validate=validate.OneOf(("ADD", "DELETE")),
                           metadata={"description": "ADD packs, DELETE unpacks"})
    parent = fields.Nested(ItemRef, required=True)
    children = fields.List(fields.Nested(ItemRef), required=True, validate=validate.Length(1, 10000))


class ShipmentIn(_Event):
    """Ship quantities of lots to another party."""

    destination_gln = GLN(required=True)
    lots = fields.List(fields.Nested(LotQuantity), required=True, validate=validate.Length(1, 500))
    documents = fields.List(fields.Nested(Document), load_default=list)

    @validates_schema
    def _not_to_self(self, data, **kwargs):
        if data.get("destination_gln") and data.get("destination_gln") == data.get("party_gln"):
            raise ValidationError("a shipment goes to another party", "destination_gln")


class ReceiptIn(_Event):
    """Receive quantities of lots shipped by another party."""

    source_gln = GLN(required=True)
    lots = fields.List(fields.Nested(LotQuantity), required=True, validate=validate.Length(1, 500))
    documents = fields.List(fields.Nested(Document), load_default=list)


class DispositionIn(_Event):
    """Sell, consume or destroy quantities of lots at retail."""

    kind = fields.String(required=True, validate=validate.OneOf(("sold", "consumed", "destroyed")))
    lots = fields.List(fields.Nested(LotQuantity), required=True, validate=validate.Length(1, 500))


class RecordedOut(Schema):
    """The EPCIS events an action recorded."""

    event_ids = fields.List(fields.String(), metadata={"description": "read them at /epcis/events/{eventID}"})
    captured = fields.Integer()


class OriginLotIn(LotIn):
    """A lot to register at its origin, recorded as its EPCIS commissioning (harvest, slaughter) event."""

    origin = fields.String(load_default="production", validate=validate.OneOf(("production", "harvest", "slaughter")),
                           metadata={"description": "harvest (ginseng, rice), slaughter (beef) or production"})
    animal_ids = fields.List(fields.String(validate=validate.Length(1, 40)), load_default=list,
                             validate=validate.Length(0, 1000),
                             metadata={"description": "ear-tag IDs of the slaughtered animals"})
    quarantine_certificate = fields.String(validate=validate.Length(1, 60), load_default=None,
                                           metadata={"description": "animal quarantine certificate number"})
    age_years = fields.Integer(load_default=None, validate=validate.Range(1, 100),
                               metadata={"description": "a harvested root's age in years (ginseng 年限), kept in the "
                                                        "origin event's ILMD"})

    @validates_schema
    def _slaughter_needs_certificate(self, data, **kwargs):
        if data.get("origin") == "slaughter" and not data.get("quarantine_certificate"):
            raise ValidationError("a slaughter needs the animal quarantine certificate number",
                                  "quarantine_certificate")
