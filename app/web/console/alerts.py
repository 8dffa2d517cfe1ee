"""Alerts and consumer reports from the console: move one on as the API does (graph/alerts.set_state,
graph/consumer_reports.update_report, each with the request's audit entry in its transaction), as the user."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.audit import mark_recorded, transaction_entry
from app.extensions import graph
from app.schemas.supervision import AlertStateIn
from app.schemas.supervision_loop import ConsumerReportUpdateIn
from app.web.console import bp, problem
from app.web.console.shaping import form_messages
from graph import alerts, consumer_reports

_STATE = AlertStateIn()
_REPORT = ConsumerReportUpdateIn()


@bp.route("/alerts/<alert_id>/state", methods=["POST"])
def alert_state(alert_id: str):
    """Move an alert on (open -> acknowledged -> closed), optionally naming who works on it."""
    form = {k: request.form.get(k, "").strip() for k in ("state", "owner", "note")}
    try:
        data = _STATE.load({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return problem(422, "problem_bad", form_messages(exc.messages))
    changed = alerts.set_state(graph(), alert_id, data["state"], data["owner"],
                               f"token:{current_user.principal.token_id}", note=data["note"],
                               audit=transaction_entry())
    mark_recorded(changed.pop("audit_seq"))
    return redirect(_back(url_for("console.list_page", name="alerts")), 303)


@bp.route("/reports/<report_no>/state", methods=["POST"])
def report_state(report_no: str):
    """Move a consumer report on (received -> investigating -> closed) and/or set its reward flag, as
    PATCH /api/v1/consumer-reports/{no} does (graph/consumer_reports.update_report, audited in its transaction)."""
    form = {k: request.form.get(k, "").strip() for k in ("state", "note")}
    body = {k: v for k, v in form.items() if v}
    if request.form.get("reward") in ("yes", "no"):
        body["reward"] = request.form["reward"] == "yes"
    try:
        data = _REPORT.load(body)
    except ValidationError as exc:
        return problem(422, "problem_bad", form_messages(exc.messages))
    changed = consumer_reports.update_report(graph(), report_no, data["state"], data["reward"], data["note"],
                                             f"token:{current_user.principal.token_id}", audit=transaction_entry())
    mark_recorded(changed.pop("audit_seq", None))
    return redirect(_back(url_for("console.list_page", name="reports")), 303)


def _back(default: str) -> str:
    back = request.form.get("back", "")
    return back if back.startswith("/console/") and not back.startswith("//") else default
