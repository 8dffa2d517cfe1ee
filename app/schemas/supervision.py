"""Supervision schemas: inspection lists and pass rates, alerts and their states."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from app.schemas.fields import GLN
from app.schemas.products import CATEGORIES
from graph.alert_rules import KINDS, STATES
from graph.regions import valid_code
from graph.supervision_rules import BY, PROGRAMMES, SORTS


def _region(value: str) -> None:
    if not isinstance(value, str) or not valid_code(value):
        raise ValidationError("a 6-digit administrative division code (in Jilin, one of its divisions)")


class Region(fields.String):
    """A GB/T 2260 division code at any level (220000 province, 220200 city, 220283 county)."""

    def __init__(self, **kwargs):
        super().__init__(validate=_region, metadata={"example": "220283", **kwargs.pop("metadata", {})}, **kwargs)


class InspectionFilter(Schema):
    """Which inspections: every filter optional, all must hold."""

    class Meta:
        unknown = RAISE

    programme = fields.String(validate=validate.OneOf(tuple(PROGRAMMES)))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    region = Region(metadata={"description": "a province, city or county code: inspections inside it"})
    date_from = fields.Date(metadata={"description": "first day (inclusive)"})
    date_to = fields.Date(metadata={"description": "last day (inclusive)"})
    verdict = fields.String(validate=validate.OneOf(("pass", "fail")))
    party = GLN(metadata={"description": "lots this party owns or inspections it performed"})

    @validates_schema
    def _period(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError("must not be before date_from", "date_to")


class InspectionListArgs(InspectionFilter):
    """An inspection list's filters, page and order."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    sort = fields.String(load_default="-date", validate=validate.OneOf(SORTS))


class PassRateArgs(InspectionFilter):
    """The dimension to slice by and the filters."""

    by = fields.String(required=True, validate=validate.OneOf(BY))


class InspectionItem(Schema):
    """One inspection in a list, with its lot, lab, owner and classification."""

    key = fields.String(allow_none=True)
    report_no = fields.String(allow_none=True)
    sample_id = fields.String(allow_none=True)
    date = fields.String(allow_none=True)
    standard = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True)
    programme = fields.String(allow_none=True)
    sampling_body = fields.String(allow_none=True)
    hazard = fields.String(allow_none=True)
    failed_hazards = fields.List(fields.String(allow_none=True), allow_none=True)
    category = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    city_code = fields.String(allow_none=True)
    county_code = fields.String(allow_none=True)
    region_zh = fields.String(allow_none=True)
    region_en = fields.String(allow_none=True)
    gtin = fields.String(allow_none=True)
    lot = fields.String(allow_none=True)
    lot_key = fields.String(allow_none=True)
    lot_status = fields.String(allow_none=True)
    product_zh = fields.String(allow_none=True)
    product_en = fields.String(allow_none=True)
    lab_gln = fields.String(allow_none=True)
    lab_zh = fields.String(allow_none=True)
    lab_en = fields.String(allow_none=True)
    owner_gln = fields.String(allow_none=True)
    owner_zh = fields.String(allow_none=True)
    owner_en = fields.String(allow_none=True)
    report_sha256 = fields.String(allow_none=True)


class InspectionPage(Schema):
    """A page of inspections and how many the filter keeps."""

    items = fields.List(fields.Nested(InspectionItem))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class RateSlice(Schema):
    """One slice's pass rate against its target."""

    key = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    count = fields.Integer()
    passed = fields.Integer()
    failed = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "passed / count; null for no inspections"})
    target = fields.Float(allow_none=True, metadata={"description": "the plan's target; null when none applies"})
    below_target = fields.Boolean(allow_none=True, metadata={"description": "null when no target applies"})


class PassRates(Schema):
    """Pass rates per slice and over everything the filter keeps."""

    by = fields.String()
    slices = fields.List(fields.Nested(RateSlice))
    total = fields.Nested(RateSlice)


class AlertListArgs(Schema):
    """Which alerts, which page, in what order."""

    class Meta:
        unknown = RAISE

    state = fields.String(validate=validate.OneOf(STATES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    region = Region()
    party = GLN()
    subject = fields.String(validate=validate.Length(1, 200), metadata={"description": "a business key"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    sort = fields.String(load_default="-raised_at", validate=validate.OneOf(("raised_at", "-raised_at", "kind",
                                                                             "state")))


class AlertChange(Schema):
    """One change of an alert's state or owner."""

    at = fields.String(allow_none=True)
    by = fields.String(allow_none=True)
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class AlertOut(Schema):
    """A risk warning."""

    alert_id = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)
    raised_at = fields.String(allow_none=True)
    subject_keys = fields.List(fields.String(allow_none=True))
    summary = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    region = fields.String(allow_none=True)
    dedupe_key = fields.String(allow_none=True)
    parties = fields.List(fields.String(allow_none=True))
    updated_at = fields.String(allow_none=True)
    updated_by = fields.String(allow_none=True)
    history = fields.List(fields.Nested(AlertChange))


class AlertPage(Schema):
    """A page of alerts, the total and counts by state."""

    items = fields.List(fields.Nested(AlertOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    by_state = fields.Dict(keys=fields.String(), values=fields.Integer())


class AlertStateIn(Schema):
    """Move an alert on (open -> acknowledged -> closed) and/or give it an owner."""

    class Meta:
        unknown = RAISE

    state = fields.String(required=True, validate=validate.OneOf(STATES))
    owner = fields.String(load_default=None, validate=validate.Length(1, 100))
    note = fields.String(load_default=None, validate=validate.Length(1, 500))

    @validates("owner")
    def _owner_text(self, value, **kwargs):
        if value is not None and not value.strip():
            raise ValidationError("must not be blank")


class ClassificationIn(Schema):
    """An inspection's classification, given or corrected after it was recorded."""

    class Meta:
        unknown = RAISE

    programme = fields.String(required=True, validate=validate.OneOf(tuple(PROGRAMMES)))
    sampling_body = fields.String(load_default=None, validate=validate.Length(1, 100))
    region_code = Region(load_default=None)
    hazard = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z][A-Za-z0-9_ -]{0,59}$",
                                                                       error="a hazard name, e.g. cadmium"))


class ClassificationOut(Schema):
    """The classification stored, and what a failed inspection held and raised."""

    key = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True)
    programme = fields.String(allow_none=True)
    sampling_body = fields.String(allow_none=True)
    hazard = fields.String(allow_none=True)
    failed_hazards = fields.List(fields.String(allow_none=True))
    category = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    city_code = fields.String(allow_none=True)
    county_code = fields.String(allow_none=True)
    held = fields.List(fields.String(allow_none=True))
    alerts = fields.List(fields.String(allow_none=True))
