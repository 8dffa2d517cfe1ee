"""The supervision loop's API: 双随机 sampling plans, credit records, the consumer-report queue (regulators)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError

from app.audit import mark_recorded, transaction_entry
from app.auth import current_principal, require
from app.errors import ApiError
from app.extensions import graph
from app.report_photos import photo_path
from app.schemas.fields import GLN
from app.schemas.supervision_loop import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    ApprovalIn,
    ApprovalOut,
    ConsumerReportArgs,
    ConsumerReportOut,
    ConsumerReportPage,
    ConsumerReportUpdateIn,
    CreditChangeIn,
    CreditListArgs,
    CreditPage,
    CreditRecordOut,
    DrawIn,
    EmploymentIn,
    EmploymentOut,
    PlanIn,
    PlanListArgs,
    PlanOut,
    PlanPage,
    ResultsIn,
)
from graph import consumer_reports, credit, sampling_plans

blp = Blueprint("supervision_loop", __name__, url_prefix="/api/v1",
                description="Supervision loop: 双随机 sampling plans, credit records, consumer reports")
REGULATORS = ("regulator", "admin")


def _by() -> str:
    return f"token:{current_principal().token_id}"


def _gln(value: str) -> str:
    try:
        return GLN().deserialize(value)
    except ValidationError as exc:
        raise ApiError(422, "bad GLN", errors={"path": {"gln": exc.messages}}) from None


def _done(out: dict) -> dict:
    mark_recorded(out.pop("audit_seq", None))
    return out


@blp.route("/sampling-plans", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(PlanIn)
@blp.response(201, PlanOut)
@blp.alt_response(404, schema="Error", description="An inspector id names no account")
def create_plan(body):
    """Create a draft 双随机 plan: categories, region, how many targets, the inspector pool."""
    return _done(sampling_plans.create_plan(graph(), body, _by(), audit=transaction_entry()))


@blp.route("/sampling-plans", methods=["GET"])
@require(*REGULATORS)
@blp.arguments(PlanListArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, PlanPage)
def list_plans(args):
    """List sampling plans, newest first."""
    return sampling_plans.list_plans(graph(), args.get("state"), args["page"], args["per_page"])


@blp.route("/sampling-plans/<string:plan_id>", methods=["GET"])
@require(*REGULATORS)
@blp.response(200, PlanOut)
@blp.alt_response(404, schema="Error", description="No such plan")
def get_plan(plan_id):
    """One plan with its draw record (seed, sorted candidates, conflicts) and results."""
    return sampling_plans.get_plan(graph(), plan_id)


@blp.route("/sampling-plans/<string:plan_id>/draw", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(DrawIn)
@blp.response(200, PlanOut)
@blp.alt_response(409, schema="Error", description="The plan was drawn already")
@blp.alt_response(404, schema="Error", description="No such plan")
def draw_plan(body, plan_id):
    """Draw targets and inspectors from a recorded seed, excluding conflicts of interest (once)."""
    return _done(sampling_plans.draw(graph(), plan_id, body["seed"], _by(), audit=transaction_entry()))


@blp.route("/sampling-plans/<string:plan_id>/results", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(ResultsIn)
@blp.response(200, PlanOut)
@blp.alt_response(404, schema="Error", description="No such plan")
@blp.alt_response(409, schema="Error", description="The plan is not drawn yet")
def record_results(body, plan_id):
    """Record drawn targets' inspection results (published on the plan's public page)."""
    results = [{**r, "inspected_on": r["inspected_on"].isoformat()} for r in body["results"]]
    return _done(sampling_plans.record_results(graph(), plan_id, results, _by(), audit=transaction_entry()))


@blp.route("/inspectors/<string:user_id>/employment", methods=["PUT"])
@require(*REGULATORS)
@blp.arguments(EmploymentIn)
@blp.response(200, EmploymentOut)
@blp.alt_response(404, schema="Error", description="No such account")
def set_employment(body, user_id):
    """Record an inspector's former employers: a draw never sends them there."""
    return _done(sampling_plans.set_employment(graph(), user_id, body["former_employers"],
                                               audit=transaction_entry()))


@blp.route("/credit", methods=["GET"])
@require(*REGULATORS)
@blp.arguments(CreditListArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, CreditPage)
def list_credit(args):
    """Parties on the watch list or the serious-violation list, most recently changed first."""
    return credit.list_parties(graph(), args.get("status"), args["page"], args["per_page"])


@blp.route("/credit/<string:gln>", methods=["GET"])
@require()
@blp.response(200, CreditRecordOut)
@blp.alt_response(404, schema="Error", description="No such party")
@blp.alt_response(422, schema="Error", description="Not a GLN")
def credit_record(gln):
    """A party's credit record: regulators and admins any, a party its own."""
    gln = _gln(gln)
    principal = current_principal()
    if principal.role not in REGULATORS and principal.party_gln != gln:
        raise ApiError(403, "a party reads only its own credit record")
    return credit.record_of(graph(), gln)


@blp.route("/credit/<string:gln>/changes", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(CreditChangeIn)
@blp.response(201, CreditRecordOut)
@blp.alt_response(404, schema="Error", description="No such party")
def change_credit(body, gln):
    """Move a party between normal, watch and blacklist for an event, with the reason (audited)."""
    return _done(credit.change_status(graph(), _gln(gln), body["status"], body["event_kind"], body["reason"],
                                      _by(), evidence=body["evidence"], audit=transaction_entry()))


@blp.route("/credit/changes/<string:change_id>/appeal", methods=["POST"])
@require("producer", "lab", "admin")
@blp.arguments(AppealIn)
@blp.response(201, AppealOut)
@blp.alt_response(404, schema="Error", description="No such change")
@blp.alt_response(409, schema="Error", description="Reversed, appealed already, or not the latest change")
def appeal_change(body, change_id):
    """Appeal the latest change of one's own credit record."""
    principal = current_principal()
    appellant = None if principal.role == "admin" else principal.party_gln
    return _done(credit.appeal(graph(), change_id, body["text"], appellant, _by(), audit=transaction_entry()))


@blp.route("/credit/appeals/<string:appeal_id>/decision", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(AppealDecisionIn)
@blp.response(200, CreditRecordOut)
@blp.alt_response(404, schema="Error", description="No such appeal")
@blp.alt_response(409, schema="Error", description="Decided already, or a later change was made since")
def decide_appeal(body, appeal_id):
    """Uphold or reverse an appealed change (another regulator than its decider); reversal restores the status."""
    return _done(credit.decide_appeal(graph(), appeal_id, body["decision"], body["note"], _by(),
                                      audit=transaction_entry()))


@blp.route("/credit/<string:gln>/approvals", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(ApprovalIn)
@blp.response(201, ApprovalOut)
@blp.alt_response(404, schema="Error", description="No such party")
def approve(body, gln):
    """Approve a blacklisted party's labels or 合格证 for some days (联合惩戒 with a regulator's say)."""
    return _done(credit.grant_approval(graph(), _gln(gln), body["action"], body["reason"], body["valid_days"],
                                       _by(), audit=transaction_entry()))


@blp.route("/reports", methods=["GET"])
@require(*REGULATORS)
@blp.arguments(ConsumerReportArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, ConsumerReportPage)
def list_reports(args):
    """The consumer-report (举报) queue, newest first, with counts by state."""
    return consumer_reports.list_reports(graph(), args.get("state"), args.get("reward"), args["page"],
                                         args["per_page"])


@blp.route("/reports/<string:report_no>", methods=["GET"])
@require(*REGULATORS)
@blp.response(200, ConsumerReportOut)
@blp.alt_response(404, schema="Error", description="No such report")
def get_report(report_no):
    """One consumer report with its history."""
    return consumer_reports.get_report(graph(), report_no)


@blp.route("/reports/<string:report_no>/state", methods=["POST"])
@require(*REGULATORS)
@blp.arguments(ConsumerReportUpdateIn)
@blp.response(200, ConsumerReportOut)
@blp.alt_response(409, schema="Error", description="Not allowed from the report's state (closed is final)")
@blp.alt_response(404, schema="Error", description="No such report")
def update_report(body, report_no):
    """Move a report on (received -> investigating -> closed) and/or set its reward flag; audited."""
    return _done(consumer_reports.update_report(graph(), report_no, body["state"], body["reward"], body["note"],
                                                _by(), audit=transaction_entry()))


@blp.route("/reports/<string:report_no>/photo", methods=["GET"])
@require(*REGULATORS)
@blp.doc(responses={200: {"description": "the photo (JPEG or PNG)"}})
@blp.alt_response(404, schema="Error", description="No such report, or it has no photo")
def report_photo(report_no):
    """The photo sent with a consumer report (regulators only)."""
    report = consumer_reports.get_report(graph(), report_no)
    if not report.get("photo_sha256"):
        raise ApiError(404, f"report {report_no} has no photo")
    path = photo_path(report["photo_sha256"], report["photo_type"])
    if not path.is_file():
        raise ApiError(404, f"the photo of report {report_no} is not on this server")
    response = Response(path.read_bytes(), mimetype=report["photo_type"])
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
