"""Schemas of the supervision loop: 双随机 sampling plans, credit records, consumer reports (the regulators' side)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from app.schemas.fields import GLN
from app.schemas.products import CATEGORIES
from app.schemas.supervision import Region
from graph import credit_rules, report_rules, sampling_rules

_TEXT = validate.Length(1, 500)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PlanIn(_Strict):
    """A draft 双随机 plan: scope (categories, region), how many targets, the inspector pool."""

    title = fields.String(required=True, validate=[validate.Length(1, 120), _not_blank])
    categories = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)), required=True,
                             validate=validate.Length(1, 20))
    region_code = Region(required=True)
    target_count = fields.Integer(required=True, validate=validate.Range(1, sampling_rules.MAX_TARGETS))
    per_target = fields.Integer(load_default=2, validate=validate.Range(1, sampling_rules.MAX_INSPECTORS_PER_TARGET))
    inspector_ids = fields.List(fields.String(validate=validate.Length(1, 40)), required=True,
                                validate=validate.Length(1, 500),
                                metadata={"description": "user ids of regulator accounts (执法检查人员名录库)"})


class DrawIn(_Strict):
    """Draw a plan; name a seed to draw with (a public lottery number), or leave it out for a fresh one."""

    seed = fields.String(load_default=None, validate=[validate.Length(1, 64),
                                                      validate.Regexp(r"^[A-Za-z0-9_.:-]+$")])


class ResultIn(_Strict):
    """One drawn target's inspection result."""

    party_gln = GLN(required=True)
    result = fields.String(required=True, validate=validate.OneOf(sampling_rules.RESULTS))
    note = fields.String(load_default=None, validate=_TEXT)
    inspected_on = fields.Date(required=True)


class ResultsIn(_Strict):
    """Results of some or all drawn targets."""

    results = fields.List(fields.Nested(ResultIn), required=True, validate=validate.Length(1, 500))


class EmploymentIn(_Strict):
    """An inspector's former employers (party GLNs): a draw never sends them there."""

    former_employers = fields.List(GLN(), required=True, validate=validate.Length(0, 50))


class EmploymentOut(Schema):
    user_id = fields.String()
    former_employers = fields.List(fields.String())


class PlanListArgs(_Strict):
    state = fields.String(validate=validate.OneOf(sampling_rules.PLAN_STATES))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class AssignmentOut(Schema):
    party_gln = fields.String()
    party_name_zh = fields.String(allow_none=True)
    party_name_en = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    region_zh = fields.String(allow_none=True)
    inspectors = fields.List(fields.Dict())
    short = fields.Boolean(allow_none=True, metadata={"description": "fewer inspectors free of conflicts than asked"})
    result = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    inspected_on = fields.String(allow_none=True)
    recorded_at = fields.String(allow_none=True)


class PlanOut(Schema):
    plan_id = fields.String()
    title = fields.String()
    categories = fields.List(fields.String())
    region_code = fields.String()
    target_count = fields.Integer()
    per_target = fields.Integer()
    inspector_ids = fields.List(fields.String())
    state = fields.String()
    seed = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    drawn_by = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    drawn_at = fields.String(allow_none=True)
    draw = fields.Dict(allow_none=True, metadata={"description": "the seed, sorted candidates and conflicts: "
                                                                 "enough to recompute the draw"})
    assignments = fields.List(fields.Nested(AssignmentOut))


class PlanSummary(Schema):
    plan_id = fields.String()
    title = fields.String()
    categories = fields.List(fields.String())
    region_code = fields.String()
    target_count = fields.Integer()
    per_target = fields.Integer()
    state = fields.String()
    seed = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    drawn_at = fields.String(allow_none=True)


class PlanPage(Schema):
    items = fields.List(fields.Nested(PlanSummary))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CreditChangeIn(_Strict):
    """A regulator's decision: the party's new status, the event behind it and why."""

    status = fields.String(required=True, validate=validate.OneOf(credit_rules.STATUSES))
    event_kind = fields.String(required=True, validate=validate.OneOf(credit_rules.EVENT_KINDS))
    reason = fields.String(required=True, validate=[_TEXT, _not_blank])
    evidence = fields.String(load_default=None, validate=validate.Length(1, 200))


class AppealIn(_Strict):
    text = fields.String(required=True, validate=[validate.Length(1, 2000), _not_blank])


class AppealDecisionIn(_Strict):
    decision = fields.String(required=True, validate=validate.OneOf(("upheld", "reversed")))
    note = fields.String(required=True, validate=[_TEXT, _not_blank])


class ApprovalIn(_Strict):
    """A regulator's approval of one restricted action of a blacklisted party, for a number of days."""

    action = fields.String(required=True, validate=validate.OneOf(credit_rules.ACTIONS))
    reason = fields.String(required=True, validate=[_TEXT, _not_blank])
    valid_days = fields.Integer(load_default=7, validate=validate.Range(1, 90))


class AppealOut(Schema):
    appeal_id = fields.String()
    change_id = fields.String()
    state = fields.String()


class ApprovalOut(Schema):
    approval_id = fields.String()
    party_gln = fields.String()
    action = fields.String()
    valid_until = fields.String()


class CreditRecordOut(Schema):
    gln = fields.String()
    name_zh = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    status = fields.String()
    changed_at = fields.String(allow_none=True)
    changes = fields.List(fields.Dict())
    approvals = fields.List(fields.Dict())


class CreditListArgs(_Strict):
    status = fields.String(validate=validate.OneOf(("watch", "blacklist")))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class CreditPage(Schema):
    items = fields.List(fields.Dict())
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ConsumerReportArgs(_Strict):
    state = fields.String(validate=validate.OneOf(report_rules.STATES))
    reward = fields.Boolean()
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class ConsumerReportRow(Schema):
    report_no = fields.String()
    code = fields.String()
    subject_key = fields.String(allow_none=True)
    text = fields.String()
    phone = fields.String()
    photo_sha256 = fields.String(allow_none=True)
    photo_type = fields.String(allow_none=True)
    state = fields.String()
    reward = fields.Boolean()
    updated_by = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String(allow_none=True)


class ConsumerReportOut(ConsumerReportRow):
    history = fields.List(fields.Dict())


class ConsumerReportPage(Schema):
    items = fields.List(fields.Nested(ConsumerReportRow))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    by_state = fields.Dict(keys=fields.String(), values=fields.Integer())


class ConsumerReportUpdateIn(_Strict):
    """Move a report on (received -> investigating -> closed) and/or set its reward flag."""

    state = fields.String(load_default=None, validate=validate.OneOf(report_rules.STATES))
    reward = fields.Boolean(load_default=None)
    note = fields.String(load_default=None, validate=_TEXT)

    @validates("note")
    def _note(self, value, **kwargs):
        if value is not None and not value.strip():
            raise ValidationError("must not be blank")


class PublicStatusOut(Schema):
    report_no = fields.String()
    state = fields.String()
    created_at = fields.String()
    updated_at = fields.String(allow_none=True)
