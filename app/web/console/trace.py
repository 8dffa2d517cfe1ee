"""The trace page for a recall officer: a lot's lineage with the parties it passed through (Cytoscape.js), its
contamination window, and one form to open a recall from the selected lots (the API's own schema and function)."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import graph
from app.notify import notify_key
from app.schemas.recalls import RecallIn
from app.web.console import TEXT, bp, lang, problem, render
from app.web.console.shaping import form_messages, parse_day, window_of
from app.web.console.trace_graph import elements, lot_rows, movements, party_name
from graph import recalls, supervision
from graph import trace as tracing
from graph.errors import NotFound
from gs1 import keys as gs1_keys
from gs1.identifiers import lot_key

_RECALL = RecallIn()


@bp.route("/trace")
def trace_page():
    """Find a lot by GTIN and lot number and draw its trace; without one, the latest failed inspections."""
    language = lang()
    gtin, lot = (request.args.get("gtin") or "").strip(), (request.args.get("lot") or "").strip()
    direction = request.args.get("direction") if request.args.get("direction") in tracing.DIRECTIONS else "both"
    form = {"gtin": gtin, "lot": lot, "direction": direction, "from": request.args.get("from", ""),
            "to": request.args.get("to", "")}
    if not gtin or not lot:
        failed = supervision.list_inspections(graph(), {"verdict": "fail"}, per_page=10)["items"]
        return render("console/trace.html", form=form, answer=None, failed=failed)
    try:
        gs1_keys.validate_gtin(gtin)
        gs1_keys.validate_lot(lot)
    except ValueError as exc:
        return render("console/trace.html", status=422, form=form, answer=None, failed=[], error=str(exc))
    window = window_of(form["from"], form["to"])
    try:
        answer = tracing.trace(graph(), lot_key(gtin, lot), direction, window)
    except NotFound:
        return render("console/trace.html", status=404, form=form, answer=None, failed=[],
                      error=TEXT[language]["trace_not_found"])
    parties = answer["parties"]
    moves = [{**m, "from_name": party_name(parties, m["from"], language),
              "to_name": party_name(parties, m["to"], language)} for m in movements(answer)]
    labels = {r["key"]: r["label"] for r in lot_rows(answer, language)}
    return render("console/trace.html", form=form, answer=answer, failed=[], graph_data=elements(answer, language),
                  lots=lot_rows(answer, language), moves=moves, labels=labels, window=window,
                  inspections=[i for i in answer["inspections"]], parties=parties,
                  recalls_of=recalls.implicating(graph(), answer["start"]))


@bp.route("/recalls", methods=["POST"])
def open_recall():
    """Open a recall from the lots selected on the trace page, as POST /api/v1/recalls does, as this user."""
    picked = []
    for value in request.form.getlist("lot")[:200]:
        gtin, _, lot = value.partition("|")
        picked.append({"gtin": gtin, "lot": lot})
    body = {"lots": picked, "reason": request.form.get("reason", "").strip(), "level": _int(request.form.get("level"))}
    first, last = parse_day(request.form.get("from")), parse_day(request.form.get("to"))
    if first and last:
        window = window_of(first.isoformat(), last.isoformat())
        body["window"] = {"from": window[0].isoformat(), "to": window[1].isoformat()}
    try:
        data = _RECALL.load(body)
    except ValidationError as exc:
        return problem(422, "problem_recall_form", form_messages(exc.messages))
    window = data["window"]
    window = (window["from_"], window["to"]) if window and window.get("from_") else None
    case = recalls.open_case(graph(), [lot_key(x["gtin"], x["lot"]) for x in data["lots"]], data["level"],
                             data["reason"], window, opened_by=current_user.principal.token_id,
                             notify_key=notify_key())
    return redirect(url_for("console.recall_page", recall_id=case["recall_id"], opened=1), 303)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
