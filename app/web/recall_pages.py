"""Recall pages without an account: the holder's one-time acknowledgement page (the link in its notice) and the
public recall notice a consumer reaches from the scan page.

Chinese by default with an English switch (?lang=en, or the `lang` cookie the other pages share); phone-sized; the
acknowledgement form carries a CSRF token (Flask-WTF, as the workbench's forms do). The link's token is the
holder's only credential: it is stored hashed (graph/outbox.py), works once, and the page never repeats it in a
log or an answer other than the form's own address.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from flask import Blueprint, Flask, abort, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields, validate

from app.extensions import graph
from app.web.work import UNITS, csrf
from graph import outbox, recall_cases, recalls
from graph.errors import Conflict, GraphError, NotFound, RuleViolation, Unavailable
from graph.recall_rules import ack_capacity
from gs1.timezones import CHINA

bp = Blueprint("recall_pages", __name__, template_folder="templates", static_folder="static/recall",
               static_url_path="/static/recall")
TEXT: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).resolve().parent / "templates" / "recall" / "i18n.json").read_text("utf-8"))
_TOKEN_CHARS = set("0123456789abcdef")


def _lang() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return "en" if chosen == "en" else "zh"


def _when(value: str | None) -> str:
    """An ISO instant as people in Jilin read it (Asia/Shanghai, to the minute)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _render(template: str, status: int = 200, **context):
    language = _lang()
    t = TEXT[language]
    second = "zh" if language == "en" else "en"

    def name(row: dict, prefix: str = "product") -> str:
        return row.get(f"{prefix}_{language}") or row.get(f"{prefix}_{second}") or ""

    def unit(code: str | None) -> str:
        return UNITS.get(code or "", (code or "", code or ""))[language == "en"]

    html = render_template(template, t=t, lang=language, when=_when, other=second, name=name, unit=unit, **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = "zh-CN" if language == "zh" else "en"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token must not leave in a Referer header
    return response


def _problem(status: int, key: str):
    return _render("recall/problem.html", status, message=TEXT[_lang()][key])


class AckForm(Schema):
    """What the holder confirms."""

    quantity_removed = fields.Float(required=True, validate=validate.Range(min=0, max=1e9))
    quantity_recovered = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=1e9))
    unit = fields.String(required=True, validate=validate.Length(1, 10))
    note = fields.String(load_default=None, validate=validate.Length(max=500))


def _holder_view(token: str) -> tuple[dict, dict, dict]:
    """The link, its case and the holder's own row; 404 for a token that opens nothing."""
    if len(token) != 64 or not set(token) <= _TOKEN_CHARS:
        abort(404)
    link = outbox.find_link(graph(), token)
    if link is None:
        abort(404)
    case = recalls.get(graph(), link["recall_id"])
    holder = next((h for h in case["holders"] if h["party"]["gln"] == link["party_gln"]), None)
    if holder is None:
        abort(404)
    return link, case, holder


def _left(case: dict, holder: dict) -> dict[str, float]:
    """What the holder may still confirm, per unit."""
    cap = ack_capacity(holder, case["affected"])
    for a in holder["acknowledgements"]:
        unit = a.get("unit") or "EA"
        cap[unit] = cap.get(unit, 0.0) - max(a.get("quantity_removed") or 0, a.get("quantity_recovered") or 0)
    return {u: max(q, 0.0) for u, q in cap.items()}


@bp.route("/recall-ack/<token>")
def acknowledge(token: str):
    """The holder's page: what it held, the case's reason and deadlines, and the form confirming removal."""
    link, case, holder = _holder_view(token)
    return _page(token, link, case, holder, {}, {})


def _page(token: str, link: dict, case: dict, holder: dict, errors: dict, form: dict, status: int = 200):
    left = _left(case, holder)
    return _render("recall/ack.html", status, case=case, holder=holder, left=left, token=token, errors=errors,
                   form=form, used=link["used_at"] is not None, closed=case["status"] != "open")


# The form posts to a path without the token, which travels in a form field named `token`: the audit trail keeps
# a write's path and redacts form fields named like secrets, so the trail never holds a usable link.
@bp.route("/recall-ack", methods=["POST"])
def confirm():
    """Record the holder's confirmation (once), capped at what it held; the case updates at once."""
    csrf.protect()
    token = request.form.get("token", "")
    link, case, holder = _holder_view(token)
    if link["used_at"] is not None or case["status"] != "open":
        return _page(token, link, case, holder, {}, {}, 409)
    form = request.form.to_dict()
    language = TEXT[_lang()]
    try:
        ack = AckForm().load({k: v for k, v in form.items() if k in ("quantity_removed", "quantity_recovered",
                                                                       "unit", "note") and v != ""})
    except ValidationError as exc:
        errors = {k: language.get("bad_" + k, language["bad_value"]) for k in exc.messages}
        return _page(token, link, case, holder, errors, form, 422)
    try:
        recall_cases.acknowledge_by_link(graph(), token, ack)
    except RuleViolation:
        return _page(token, link, case, holder, {"quantity_removed": language["too_much"]}, form, 422)
    except Conflict:
        return _page(token, {**link, "used_at": True}, case, holder, {}, {}, 409)
    return _render("recall/ack_done.html", case=case, holder=holder, ack=ack)


@bp.route("/recall/<recall_id>")
def notice(recall_id: str):
    """The public recall notice: product, lots, reason, what to do, refund contact (no holders, no quantities)."""
    if len(recall_id) > 40:
        abort(404)
    return _render("recall/notice.html", n=recall_cases.public_notice(graph(), recall_id))


@bp.errorhandler(CSRFError)
def _csrf_refused(exc: CSRFError):
    return _problem(400, "problem_csrf")


@bp.errorhandler(GraphError)
def _graph_refused(exc: GraphError):
    if isinstance(exc, Unavailable):
        return _problem(503, "problem_down")
    if isinstance(exc, NotFound):
        return _problem(404, "problem_not_found")
    return _problem(422, "problem_refused")


@bp.errorhandler(404)
def _not_found(exc):
    return _problem(404, "problem_not_found")


def register(app: Flask) -> None:
    """Register the pages (the scan page's recall banner links /recall/<id>)."""
    app.register_blueprint(bp)
