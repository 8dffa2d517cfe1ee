"""Product schemas."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GLN, GTIN

CATEGORIES = ("ginseng", "rice", "paddy", "beef", "cattle", "deer_antler", "fungi", "other")


# Storage temperatures a product's master data may name (°C): from deep-frozen to ambient.
STORAGE_C = (-60.0, 60.0)


class Storage(Schema):
    """How the product is kept (贮存条件): a temperature range in °C and a free note, e.g. 0-4 °C, 冷藏."""

    min_c = fields.Float(load_default=None, validate=validate.Range(*STORAGE_C), metadata={"example": 0})
    max_c = fields.Float(load_default=None, validate=validate.Range(*STORAGE_C), metadata={"example": 4})
    note = fields.String(load_default=None, validate=validate.Length(1, 100), metadata={"example": "冷藏"})

    @validates_schema
    def _range_in_order(self, data, **kwargs):
        low, high = data.get("min_c"), data.get("max_c")
        if low is not None and high is not None and low > high:
            raise ValidationError(f"must not be below min_c ({low:g} °C)", "max_c")
        if low is None and high is None and not data.get("note"):
            raise ValidationError("give min_c, max_c or a note", "min_c")


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
    storage = fields.Nested(Storage, load_default=None, allow_none=True,
                            metadata={"description": "storage conditions (e.g. beef 0-4 °C), shown to shoppers"})
    variety = fields.String(load_default=None, validate=validate.Length(1, 100),
                            metadata={"description": "cultivar (品种), e.g. rice 稻花香2号", "example": "稻花香2号"})


class ProductFactsIn(Schema):
    """A product's facts for shoppers to set on a registered product; a field left out is left as it is, a null
    clears it."""

    storage = fields.Nested(Storage, allow_none=True)
    variety = fields.String(allow_none=True, validate=validate.Length(1, 100))

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give storage or variety", "storage")


class ProductOut(ProductIn):
    """A registered product."""

    created_at = fields.String(dump_only=True)


class LicenseesIn(Schema):
    """The parties a brand owner authorises to commission, harvest or make lots of its product."""

    glns = fields.List(GLN(), required=True, validate=validate.Length(max=500))


class LicenseesOut(ProductOut):
    """A product with the parties licensed to make lots of it."""

    licensees = fields.List(fields.String())
