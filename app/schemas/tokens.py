"""Token schemas."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GLN
from graph.tokens import ROLES


class TokenIn(Schema):
    """A token to create (admin)."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    party_gln = GLN(load_default=None)
    label = fields.String(load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _party_needed(self, data, **kwargs):
        if data.get("role") in ("producer", "lab") and not data.get("party_gln"):
            raise ValidationError(f"a {data['role']} token needs a party", "party_gln")


class TokenOut(Schema):
    """A new token: the secret is shown this once and never again."""

    token = fields.String()
    token_id = fields.String()
    role = fields.String()
    party_gln = fields.String(allow_none=True)
