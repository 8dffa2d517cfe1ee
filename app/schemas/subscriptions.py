"""EPCIS query subscriptions: the binding's AbstractQuerySubscription with QueryScheduleSubscription or
QueryStreamSubscription, and the answer (AbstractQuerySubscriptionResponse: never the signature token)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from app.schemas.fields import Instant


class ScheduleIn(Schema):
    """A query schedule: each field a comma-separated list of numbers and ranges [a-b] (steps a/s too)."""

    class Meta:
        unknown = RAISE

    second = fields.String(validate=validate.Length(1, 200), metadata={"example": "0"})
    minute = fields.String(validate=validate.Length(1, 200), metadata={"example": "5"})
    hour = fields.String(validate=validate.Length(1, 200), metadata={"example": "1"})
    dayOfMonth = fields.String(validate=validate.Length(1, 200))  # noqa: N815 - the binding's names
    month = fields.String(validate=validate.Length(1, 200))
    dayOfWeek = fields.String(validate=validate.Length(1, 200), metadata={"example": "[1-5]"})  # noqa: N815


class SubscriptionIn(Schema):
    """POST /epcis/queries/{queryName}/subscriptions: stream true, or a schedule (not both)."""

    class Meta:
        unknown = RAISE

    dest = fields.Url(required=True, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000),
                      metadata={"example": "https://client.example.com/queryCallback"})
    signatureToken = fields.String(validate=validate.Length(16, 512), metadata={  # noqa: N815
        "description": "a secret the client chose; the server signs each delivery with it (GS1-Signature) and "
                       "never answers it", "example": "13df38d8275b13f05704629e5f1cf3d45d6132d5"})
    stream = fields.Boolean(metadata={"description": "true: report whenever a captured event matches"})
    schedule = fields.Nested(ScheduleIn, metadata={"example": {"hour": "1", "minute": "5"}})
    reportIfEmpty = fields.Boolean(load_default=False)  # noqa: N815
    initialRecordTime = Instant(metadata={  # noqa: N815
        "description": "events recorded from this time on are reported (the first report only); default: now"})


class SubscriptionOut(Schema):
    """A subscription as the binding answers it (the signature token never)."""

    subscriptionID = fields.String()  # noqa: N815
    queryName = fields.String()  # noqa: N815
    dest = fields.String()
    createdAt = fields.String()  # noqa: N815
    lastNotifiedAt = fields.String()  # noqa: N815
    initialRecordTime = fields.String()  # noqa: N815
    minRecordTime = fields.String()  # noqa: N815
    reportIfEmpty = fields.Boolean()  # noqa: N815
    stream = fields.Boolean()
    schedule = fields.Dict(keys=fields.String(), values=fields.String())
    signed = fields.Boolean(metadata={"description": "whether deliveries carry GS1-Signature (a token was given)"})
