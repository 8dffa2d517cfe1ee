"""Product schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.fields import GLN, GTIN

CATEGORIES = ("ginseng", "rice", "paddy", "beef", "cattle", "deer_antler", "fungi", "other")


class ProductIn(Schema):
    """A product (trade item) to register."""

    gtin = GTIN(required=True)
    name_zh = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default=None, validate=validate.Length(max=200))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    standard = fields.String(load_default=None, validate=validate.Length(max=100),
                             metadata={"example": "GB/T 19506-2009"})
    unit = fields.String(load_default="KGM", validate=validate.Length(1, 10),
                         metadata={"description": "UN/CEFACT unit code of quantities (KGM, EA, ...)"})
    owner_gln = GLN(required=True, metadata={"description": "brand owner party"})


class ProductOut(ProductIn):
    """A registered product."""

    created_at = fields.String(dump_only=True)


class LicenseesIn(Schema):
    """The parties a brand owner authorises to commission, harvest or make lots of its product."""

    glns = fields.List(GLN(), required=True, validate=validate.Length(max=500))


class LicenseesOut(ProductOut):
    """A product with the parties licensed to make lots of it."""

    licensees = fields.List(fields.String())
