"""Party schemas: the full (private) view for owners and regulators, a public one for everyone else."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import GLN

ROLES = ("farm", "processor", "distributor", "retailer", "lab", "regulator", "certifier")


class PartyPublic(Schema):
    """What anyone may see of a party."""

    gln = GLN(required=True)
    name_zh = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default=None, validate=validate.Length(max=200))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    region_code = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6}$", error="6-digit division code"))
    region_zh = fields.String(load_default=None, validate=validate.Length(max=100))
    region_en = fields.String(load_default=None, validate=validate.Length(max=100))
    address_zh = fields.String(load_default=None, validate=validate.Length(max=300))
    company_prefixes = fields.List(
        fields.String(validate=validate.Regexp(r"^\d{6,12}$", error="a GS1 company prefix: 6 to 12 digits")),
        load_default=None, validate=validate.Length(max=20),
        metadata={"description": "the party's GS1 company prefixes (its licence from GS1): a producer registers "
                                 "products only under them"})


class PartyIn(PartyPublic):
    """A party to register (admin)."""

    uscc = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9A-HJ-NP-RT-UW-Y]{2}\d{6}[0-9A-HJ-NP-RT-UW-Y]{10}$",
                                 error="18-character unified social credit code"),
    )
    contact_name = fields.String(load_default=None, validate=validate.Length(max=100))
    contact_phone = fields.String(load_default=None, validate=validate.Length(max=40))
    contact_email = fields.Email(load_default=None)


class PartyOut(PartyIn):
    """The full party record (its own party, regulators, admins)."""

    created_at = fields.String(dump_only=True)
