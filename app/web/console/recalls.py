"""A recall case for the officer running it: reason, level, deadlines counting down, every holder with contact, what
each acknowledged and recovered (capped at what it had), effectiveness over time, and closing with a summary."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app import exports
from app.extensions import graph
from app.notify import notify_key
from app.schemas.recalls import AckIn, CloseIn
from app.web.console import TEXT, bp, lang, problem, render
from app.web.console.shaping import countdown, duration_text, effectiveness_series, form_messages, holder_rows
from graph import recalls

_ACK = AckIn()
_CLOSE = CloseIn()


@bp.route("/recalls/<recall_id>")
def recall_page(recall_id: str):
    """One recall case (graph/recalls.get: one round trip)."""
    language = lang()
    case = recalls.get(graph(), recall_id)
    now = datetime.now(UTC)
    due = {}
    for name in ("start_by", "complete_by"):
        c = countdown(case["deadlines"].get(name), now)
        due[name] = {**c, "text": duration_text(c["seconds"], language)} if c else None
    series = effectiveness_series(case)
    chart = {"units": series["units"], "labels": {"recovered": TEXT[language]["chart_recovered"]}}
    return render("console/recall.html", case=case, due=due, holders=holder_rows(case), chart=chart,
                  eff=case["effectiveness"], opened=request.args.get("opened"), done=request.args.get("done"))


@bp.route("/recalls/<recall_id>/acknowledgements", methods=["POST"])
def record_ack(recall_id: str):
    """Record a holder's removal and recovery reported to the officer (capped at what it had, as the API caps it)."""
    form = {k: request.form.get(k, "").strip() for k in ("party_gln", "quantity_removed", "quantity_recovered",
                                                         "unit", "note")}
    try:
        data = _ACK.load({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return problem(422, "problem_ack_form", form_messages(exc.messages))
    recalls.acknowledge(graph(), recall_id, {**data, "lot_key": None, "token_id": current_user.principal.token_id})
    return redirect(url_for("console.recall_page", recall_id=recall_id, done="ack"), 303)


@bp.route("/recalls/<recall_id>/close", methods=["POST"])
def close_recall(recall_id: str):
    """Close the case with a summary."""
    try:
        data = _CLOSE.load({"note": request.form.get("summary", "").strip() or None})
    except ValidationError as exc:
        return problem(422, "problem_bad", form_messages(exc.messages))
    if not data["note"]:
        return problem(422, "problem_close_summary")
    recalls.close(graph(), recall_id, current_user.principal.token_id, data["note"], notify_key=notify_key())
    return redirect(url_for("console.recall_page", recall_id=recall_id, done="closed"), 303)


@bp.route("/recalls/<recall_id>/export")
def export_recall(recall_id: str):
    """The case's spreadsheet of key data elements (FSMA 204 / PTI columns), as GET /api/v1/recalls/{id}/export."""
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    rows = recalls.export_rows(graph(), recall_id)
    body = exports.to_csv(rows) if fmt == "csv" else exports.to_xlsx(rows, recall_id)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = exports.attachment(f"{recall_id}.{fmt}")
    return response
