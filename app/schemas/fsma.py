"""FSMA 204 records of a lot's trace: the spreadsheet and the list of missing key data elements."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.trace import TraceQuery


class FsmaQuery(TraceQuery):
    """A lot's trace as FSMA 204 records; headers in English or Chinese (default: the FSMA_HEADERS setting)."""

    lang = fields.String(validate=validate.OneOf(("en", "zh")), metadata={"description": "header language"})


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
