"""Supervision: inspections listed and sliced into pass rates; risk warnings (alerts) and their states."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError

from app.audit import mark_recorded, transaction_entry
from app.auth import current_principal, require
from app.errors import ApiError
from app.extensions import graph
from app.schemas.fields import GLN
from app.schemas.supervision import (
    AlertListArgs,
    AlertOut,
    AlertPage,
    AlertStateIn,
    ClassificationIn,
    ClassificationOut,
    InspectionListArgs,
    InspectionPage,
    PassRateArgs,
    PassRates,
)
from app.supervision import rule_settings, targets
from graph import alerts, quality, supervision
from graph.alert_rules import party_view

blp = Blueprint("supervision", __name__, url_prefix="/api/v1", description="Supervision: pass rates and alerts")

READERS = ("regulator", "admin", "producer", "lab")


def _own_view(args: dict) -> dict:
    """Regulators and admins see everything; a party only its own (asking for another party is refused)."""
    principal = current_principal()
    if principal.role in ("regulator", "admin"):
        return args
    if args.get("party") not in (None, principal.party_gln):
        raise ApiError(403, "a party sees only its own records", errors={"query": {"party": ["not your party"]}})
    return {**args, "party": principal.party_gln}


@blp.route("/inspections", methods=["GET"])
@require(*READERS)
@blp.arguments(InspectionListArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, InspectionPage)
def list_inspections(args):
    """List inspections by programme, category, region, period, verdict and party; paged and sorted."""
    args = _own_view(args)
    page, per_page, sort = args.pop("page"), args.pop("per_page"), args.pop("sort")
    return supervision.list_inspections(graph(), args, page=page, per_page=per_page, sort=sort)


@blp.route("/inspections/<string:lab_gln>/<path:report_no>/classification", methods=["PUT"])
@require("regulator", "admin", "lab")
@blp.arguments(ClassificationIn)
@blp.response(200, ClassificationOut)
@blp.alt_response(404, schema="Error", description="No such inspection")
def classify_inspection(body, lab_gln, report_no):
    """Give or correct a recorded inspection's programme, sampling body, region and hazard (regulators, its lab)."""
    principal = current_principal()
    try:
        lab_gln = GLN().deserialize(lab_gln)
    except ValidationError as exc:
        raise ApiError(422, "bad lab GLN", errors={"path": {"lab_gln": exc.messages}}) from None
    if principal.role == "lab" and principal.party_gln != lab_gln:
        raise ApiError(403, "a lab classifies only its own inspections")
    out = quality.classify_inspection(graph(), f"{lab_gln}:{report_no}", body, f"token:{principal.token_id}",
                                      rule_settings(), audit=transaction_entry())
    mark_recorded(out.pop("audit_seq", None))
    return out


@blp.route("/supervision/pass-rates")
@require(*READERS)
@blp.arguments(PassRateArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, PassRates)
def pass_rates(args):
    """Pass rates (count, passed, rate, target, below target) by programme, category, region level or month."""
    args = _own_view(args)
    return supervision.pass_rates(graph(), args.pop("by"), args, targets())


@blp.route("/alerts")
@require(*READERS)
@blp.arguments(AlertListArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, AlertPage)
def list_alerts(args):
    """List risk warnings by state, kind, region and party, newest first; a party sees those about it."""
    args = _own_view(args)
    page = alerts.list_alerts(graph(), state=args.get("state"), kind=args.get("kind"), region=args.get("region"),
                              party=args.get("party"), subject=args.get("subject"), page=args["page"],
                              per_page=args["per_page"], sort=args["sort"])
    if current_principal().role not in ("regulator", "admin"):
        page["items"] = [party_view(a, current_principal().party_gln) for a in page["items"]]
    return page


@blp.route("/alerts/<string:alert_id>")
@require(*READERS)
@blp.response(200, AlertOut)
@blp.alt_response(404, schema="Error", description="No such alert (or not one about the caller's party)")
def get_alert(alert_id):
    """One alert with its history of states and owners."""
    alert = alerts.get_alert(graph(), alert_id)
    principal = current_principal()
    if principal.role not in ("regulator", "admin") and principal.party_gln not in alert["parties"]:
        raise ApiError(404, f"no alert {alert_id}")  # another party's alert is not admitted to exist
    if principal.role not in ("regulator", "admin"):
        alert = {**party_view(alert, principal.party_gln), "history": []}
    return alert


@blp.route("/alerts/<string:alert_id>/state", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(AlertStateIn)
@blp.response(200, AlertOut)
@blp.alt_response(404, schema="Error", description="No such alert")
@blp.alt_response(409, schema="Error", description="Not allowed from the alert's state (closed is final)")
def set_alert_state(body, alert_id):
    """Acknowledge or close an alert, or give it an owner (open -> acknowledged -> closed); audited."""
    principal = current_principal()
    alert = alerts.set_state(graph(), alert_id, body["state"], body["owner"], f"token:{principal.token_id}",
                             note=body["note"], audit=transaction_entry())
    mark_recorded(alert.pop("audit_seq"))
    return alert
