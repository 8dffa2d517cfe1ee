"""Inspection, certificate and data-quality warning schemas."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas.fields import GLN, GTIN, Instant, LotNumber
from app.schemas.products import CATEGORIES
from app.schemas.supervision import Region
from graph.quality import CERTIFICATE_TYPES
from graph.supervision_rules import DEFAULT_PROGRAMME, PROGRAMMES


class TestResult(Schema):
    """One test item: value, limit and whether it passed."""

    item = fields.String(required=True, validate=validate.Length(1, 80), metadata={"example": "cadmium"})
    value = fields.Float(required=True, allow_none=True, metadata={"description": "null: not detected"})
    limit = fields.Float(load_default=None)
    unit = fields.String(load_default=None, validate=validate.Length(1, 20), metadata={"example": "mg/kg"})
    passed = fields.Boolean(required=True, data_key="pass")


class InspectionIn(Schema):
    """A lab's inspection of a lot (检验检测)."""

    lab_gln = GLN(required=True)
    gtin = GTIN(required=True)
    lot = LotNumber(required=True)
    report_no = fields.String(required=True, validate=validate.Length(1, 60))
    sample_id = fields.String(required=True, validate=validate.Length(1, 60))
    date = fields.Date(required=True)
    standard = fields.String(required=True, validate=validate.Length(1, 80), metadata={"example": "GB 2762-2022"})
    verdict = fields.String(required=True, validate=validate.OneOf(("pass", "fail")))
    results = fields.List(fields.Nested(TestResult), required=True, validate=validate.Length(1, 200))
    event_time = Instant(load_default=None, metadata={"description": "default: now"})
    programme = fields.String(
        load_default=DEFAULT_PROGRAMME, validate=validate.OneOf(tuple(PROGRAMMES)),
        metadata={"description": "routine_monitoring 例行监测, supervisory_sampling 监督抽查, "
                                 "risk_monitoring 风险监测, food_safety_sampling 食品安全抽检, "
                                 "special_campaign 专项整治, commissioned_test "
                                 "委托检验 (default: a test a producer commissioned, not a regulator's sample)"})
    sampling_body = fields.String(load_default=None, validate=validate.Length(1, 100),
                                  metadata={"description": "抽样单位: who took the sample"})
    region_code = Region(load_default=None, metadata={
        "description": "where the sample was taken, as a division code (default: the lot owner's region)"})
    hazard = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z][A-Za-z0-9_ -]{0,59}$",
                                                                       error="a hazard name, e.g. cadmium"),
                           metadata={"description": "the hazard the sample was taken for (e.g. cadmium)"})
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES),
                             metadata={"description": "product category; the lot's product's category wins"})

    @validates_schema
    def _verdict_matches_results(self, data, **kwargs):
        results = data.get("results") or []
        if data.get("verdict") == "pass" and any(not r["passed"] for r in results):
            raise ValidationError("a failed test item makes the verdict fail", "verdict")


class InspectionOut(Schema):
    """A recorded inspection and the EPCIS event recorded with it."""

    key = fields.String()
    report_no = fields.String()
    verdict = fields.String()
    event_id = fields.String()
    programme = fields.String()
    sampling_body = fields.String(allow_none=True)
    hazard = fields.String(allow_none=True)
    failed_hazards = fields.List(fields.String())
    category = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    city_code = fields.String(allow_none=True)
    county_code = fields.String(allow_none=True)
    held = fields.List(fields.String(), metadata={"description": "lots this failure put on hold"})
    alerts = fields.List(fields.String(), metadata={"description": "alerts this failure raised"})


class CertificateIn(Schema):
    """A certificate issued to a party, a product or a lot."""

    type = fields.String(required=True, validate=validate.OneOf(CERTIFICATE_TYPES))
    number = fields.String(required=True, validate=validate.Length(1, 60))
    issuer_gln = GLN(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    party_gln = GLN(load_default=None)
    gtin = GTIN(load_default=None)
    lot = LotNumber(load_default=None)

    @validates_schema
    def _one_subject(self, data, **kwargs):
        if data.get("lot") and not data.get("gtin"):
            raise ValidationError("a lot needs its gtin", "gtin")
        if bool(data.get("party_gln")) == bool(data.get("gtin")):
            raise ValidationError("certify either a party (party_gln) or a product/lot (gtin, lot)", "party_gln")
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("must not be before valid_from", "valid_until")


class CertificateOut(Schema):
    """A recorded certificate."""

    key = fields.String()
    type = fields.String()
    number = fields.String()
    valid_from = fields.String()
    valid_until = fields.String()
