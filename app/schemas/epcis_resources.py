"""EPCIS REST binding: named query bodies and the page tokens of the top-level resource lists."""

from __future__ import annotations

import base64
import binascii
import json

from marshmallow import RAISE, Schema, ValidationError, fields, validate

QUERY_NAME = validate.Regexp(r"^[A-Za-z0-9_.\-~]{1,100}$",
                             error="1-100 letters, digits, '_', '.', '-' or '~' (it is a URL path segment)")


class NamedQueryIn(Schema):
    """POST /epcis/queries: the binding's QueryDefinition."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=QUERY_NAME, metadata={"example": "myQuery"})
    query = fields.Dict(keys=fields.String(validate=validate.Length(1, 200)), required=True,
                        validate=validate.Length(max=100),
                        metadata={"example": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping", "receiving"]}})


class NamedQueryOut(Schema):
    """A named query as the binding lists it."""

    name = fields.String()
    query = fields.Dict()


def query_params(query: dict) -> dict[str, str]:
    """A query body (query-schema.json: lists of strings, strings, numbers, booleans) as the text parameters the
    URL form of the query would carry; ValidationError for a value of another shape."""
    out: dict[str, str] = {}
    for name, value in query.items():
        items = value if isinstance(value, list) else [value]
        texts = []
        for item in items:
            if isinstance(item, bool):
                texts.append("true" if item else "false")
            elif isinstance(item, str | int | float):
                texts.append(str(item))
            else:
                raise ValidationError({"query": {name: ["expected a string, number, boolean or a list of them"]}})
        if not texts or len("|".join(texts)) > 20_000:
            raise ValidationError({"query": {name: ["expected one value or a list of up to 20,000 characters"]}})
        out[name] = "|".join(texts)
    return out


def encode_key_token(kind: str, key: str) -> str:
    """An opaque token for the page of a list after ``key``."""
    return base64.urlsafe_b64encode(json.dumps([kind, key]).encode()).decode().rstrip("=")


def decode_key_token(token: str, kind: str) -> str:
    """The key a token continues after; ValidationError for a token this list did not issue."""
    try:
        got_kind, key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError("not a page token this server issued", "nextPageToken") from None
    if got_kind != kind or not isinstance(key, str) or len(key) > 2000:
        raise ValidationError("not a page token of this list", "nextPageToken")
    return key
