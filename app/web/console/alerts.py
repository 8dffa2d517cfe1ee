"""Alerts and consumer reports from the console: move one on as the API does (graph/alerts.set_state,
graph/consumer_reports.update_report, each with the request's audit entry in its transaction), as the user."""

from __future__ import annotations

from flask import redirect, request, url_for

from app.extensions import graph
from app.schemas.supervision import AlertStateIn
from app.schemas.supervision_loop import ConsumerReportUpdateIn
from app.web.console import bp
from app.web.console.writes import actor, audit, load_body, load_form, recorded
from graph import alerts, consumer_reports

_STATE = AlertStateIn()
_REPORT = ConsumerReportUpdateIn()


@bp.route("/alerts/<alert_id>/state", methods=["POST"])
def alert_state(alert_id: str):
    """Move an alert on (open -> acknowledged -> closed), optionally naming who works on it."""
    data = load_form(_STATE, ("state", "owner", "note"))
    recorded(alerts.set_state(graph(), alert_id, data["state"], data["owner"], actor(), note=data["note"],
                              audit=audit()))
    return redirect(_back(url_for("console.list_page", name="alerts")), 303)


@bp.route("/reports/<report_no>/state", methods=["POST"])
def report_state(report_no: str):
    """Move a consumer report on (received -> investigating -> closed) and/or set its reward flag, as
    PATCH /api/v1/consumer-reports/{no} does (graph/consumer_reports.update_report, audited in its transaction)."""
    form = {k: request.form.get(k, "").strip() for k in ("state", "note")}
    body = {k: v for k, v in form.items() if v}
    if request.form.get("reward") in ("yes", "no"):
        body["reward"] = request.form["reward"] == "yes"
    data = load_body(_REPORT, body)
    recorded(consumer_reports.update_report(graph(), report_no, data["state"], data["reward"], data["note"],
                                            actor(), audit=audit()))
    return redirect(_back(url_for("console.list_page", name="reports")), 303)


def _back(default: str) -> str:
    back = request.form.get("back", "")
    return back if back.startswith("/console/") and not back.startswith("//") else default
