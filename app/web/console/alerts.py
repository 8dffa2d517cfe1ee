"""Alerts from the console: acknowledge or close one and give it an owner, as POST /api/v1/alerts/{id}/state does
(graph/alerts.set_state with the request's audit entry in the same transaction), as the logged-in user."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.audit import mark_recorded, transaction_entry
from app.extensions import graph
from app.schemas.supervision import AlertStateIn
from app.web.console import bp, problem
from app.web.console.trace import _messages
from graph import alerts

_STATE = AlertStateIn()


@bp.route("/alerts/<alert_id>/state", methods=["POST"])
def alert_state(alert_id: str):
    """Move an alert on (open -> acknowledged -> closed), optionally naming who works on it."""
    form = {k: request.form.get(k, "").strip() for k in ("state", "owner", "note")}
    try:
        data = _STATE.load({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return problem(422, "problem_bad", _messages(exc.messages))
    changed = alerts.set_state(graph(), alert_id, data["state"], data["owner"],
                               f"token:{current_user.principal.token_id}", note=data["note"],
                               audit=transaction_entry())
    mark_recorded(changed.pop("audit_seq"))
    back = request.form.get("back", "")
    target = back if back.startswith("/console/") and not back.startswith("//") else url_for(
        "console.list_page", name="alerts")
    return redirect(target, 303)
