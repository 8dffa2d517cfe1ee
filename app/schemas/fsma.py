"""FSMA 204 records of a lot's trace: the spreadsheet and the list of missing key data elements."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import Instant
from app.schemas.trace import TraceQuery


class FsmaQuery(TraceQuery):
    """A lot's trace as FSMA 204 records; headers in English or Chinese (default: the FSMA_HEADERS setting)."""

    lang = fields.String(validate=validate.OneOf(("en", "zh")), metadata={"description": "header language"})


class FsmaPeriodQuery(Schema):
    """The FDA's request of §1.1455(c)(3)(ii): the records of a date range, optionally of one food (GTIN)."""

    from_ = Instant(data_key="from", required=True, default_timezone=UTC)
    to = Instant(required=True, default_timezone=UTC)
    gtin = fields.String(validate=validate.Regexp(r"^\d{14}$", error="a GTIN-14"), metadata={"description": "one food"})
    lang = fields.String(validate=validate.OneOf(("en", "zh")), metadata={"description": "header language"})

    @validates_schema
    def _in_order(self, data, **kwargs):
        """`to` is not before `from`."""
        for name, key in (("from", "from_"), ("to", "to")):
            if data.get(key) and not 2 <= data[key].year <= 9998:  # UTC conversion must stay in Python's range
                raise ValidationError("a time within the years 0002..9998", name)
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


class MissingKde(Schema):
    """One required key data element a record lacks."""

    kde = fields.String()
    paragraph = fields.String(metadata={"example": "§1.1340(a)(8)"})
    name = fields.String()


class KdeGap(Schema):
    """A critical tracking event record with the required elements it lacks."""

    cte = fields.String(metadata={"example": "shipping"})
    section = fields.String(metadata={"example": "21 CFR 1.1340(a)"})
    eventID = fields.String()
    eventTime = fields.String(metadata={"description": "the event's local time with its offset"})
    traceabilityLotCode = fields.String()
    missing = fields.List(fields.Nested(MissingKde))
