"""Public pages of the supervision loop: published 双随机 plans and their results, the consumer report (举报) form
reached from the scan page, and the reporter's status page. Chinese by default, English by ?lang=en or the shared
lang cookie; nothing private is shown (no phone, no inspector accounts, no who-decided).

The report form is spam-resistant without a third-party captcha: CSRF (Flask-WTF), a signed form timestamp (too
fast or too old is refused), a honeypot field, a per-address rate limit (RATELIMIT_REPORTS), and per-phone and
per-code daily limits counted in the graph (graph/report_rules.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from flask import Blueprint, Flask, current_app, make_response, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, generate_csrf
from limits import parse
from markupsafe import Markup

from app.audit import mark_recorded, transaction_entry
from app.extensions import graph
from app.report_photos import store_photo
from graph import consumer_reports, report_rules, sampling_plans
from graph.errors import NotFound, RuleViolation, Unavailable
from graph.regions import name_of
from gs1.digital_link import DEFAULT_BASE, build_uri
from gs1.identifiers import InvalidIdentifier, parse_identifier
from gs1.timezones import CHINA

bp = Blueprint("loop_pages", __name__, template_folder="templates", static_folder="static/loop",
               static_url_path="/static/loop")
TEXT = json.loads((Path(__file__).resolve().parent / "templates" / "loop" / "i18n.json").read_text("utf-8"))
_DOMAIN_PHONE = b"tracegraph/report-phone/v1"
_DOMAIN_FORM = b"tracegraph/report-form-key/v1"
DEFAULT_LIMIT = "5/hour"


def lang() -> str:
    """?lang=, else the lang cookie the other pages share, else Chinese."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return "en" if chosen == "en" else "zh"


def render(template: str, status: int = 200, **context):
    """A public page in the reader's language, not cached (reports change state)."""
    language = lang()
    html = render_template(template, t=TEXT[language], lang=language, other="zh" if language == "en" else "en",
                           local=_local, region=lambda code: name_of(code, language) or code, **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = "zh-CN" if language == "zh" else "en"
    return response


def _local(iso: str | None) -> str:
    """An ISO instant as Asia/Shanghai local time, minutes precision."""
    if not iso:
        return ""
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16]


def _key(domain: bytes) -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), domain, hashlib.sha256).digest()


def problem(status: int, key: str):
    """The friendly error page in the reader's language."""
    return render("loop/problem.html", status=status, message=TEXT[lang()][key])


@bp.errorhandler(NotFound)
def _not_found(exc):
    return problem(404, "not_found")


@bp.errorhandler(Unavailable)
def _down(exc):
    return problem(503, "down")


@bp.errorhandler(CSRFError)
def _csrf(exc):
    return problem(400, "form_refused")


@bp.route("/public/sampling-plans")
def plans_page():
    """Published 双随机 plans (drawn or completed), newest first (one page of 50)."""
    page = sampling_plans.list_plans(graph(), page=1, per_page=50, public=True)
    return render("loop/plans.html", plans=page["items"])


@bp.route("/public/sampling-plans/<plan_id>")
def plan_page(plan_id: str):
    """One published plan: scope, seed, candidates, drawn parties and inspectors by name, results."""
    if len(plan_id) > 40:
        return problem(404, "not_found")
    return render("loop/plan.html", plan=sampling_plans.get_plan(graph(), plan_id, public=True))


def _form(code: str, errors: dict | None = None, values: dict | None = None, status: int = 200):
    token = report_rules.form_token(_key(_DOMAIN_FORM), int(time.time()), code)
    return render("loop/report_form.html", status=status, code=code, form_token=token, csrf=generate_csrf(),
                  errors=errors or {}, values=values or {}, text_max=report_rules.TEXT_MAX)


def _subject(code: str) -> str | None:
    if not code or len(code) > report_rules.CODE_MAX:
        return None
    try:
        ref = parse_identifier(code)
    except InvalidIdentifier:
        return None
    return None if ref.kind == "other" else ref.key


@bp.route("/report", methods=["GET"])
def report_form():
    """The report form for a scanned code (the scan page links here with ?code=<its Digital Link>)."""
    code = request.args.get("code", "")
    if _subject(code) is None:
        return problem(400, "bad_code")
    return _form(code)


def _address_allowed() -> bool:
    limiter = current_app.extensions.get("tracegraph_limiter")
    if limiter is None or not limiter.enabled:
        return True
    limit = parse(current_app.config.get("RATELIMIT_REPORTS", DEFAULT_LIMIT))
    return limiter.limiter.hit(limit, "consumer-reports", get_remote_address() or "-")


@bp.route("/report", methods=["POST"])
def report_submit():
    """File a report: checks (address limit, CSRF, signed time, honeypot), then the graph's phone/code limits."""
    from app.web.work import csrf

    # The address limit first: past it a flood is answered 429, which costs no audit entry (app/audit.py).
    if not _address_allowed():
        response = problem(429, "slow_down")
        response.headers["Retry-After"] = "3600"
        return response
    csrf.protect()
    code = request.form.get("code", "")
    subject = _subject(code)
    if subject is None:
        return problem(400, "bad_code")
    if report_rules.form_error(_key(_DOMAIN_FORM), request.form.get("form_token"), code, int(time.time()),
                               request.form.get("website")):
        return problem(400, "form_refused")
    values = {"text": request.form.get("text", "").strip(), "phone": request.form.get("phone", "").strip()}
    errors = {}
    if not values["text"] or len(values["text"]) > report_rules.TEXT_MAX:
        errors["text"] = "text_needed"
    phone = report_rules.normal_phone(values["phone"])
    if phone is None:
        errors["phone"] = "phone_needed"
    upload = request.files.get("photo")
    photo, mime = None, None
    if upload is not None and upload.filename:
        photo = upload.stream.read(report_rules.PHOTO_MAX_BYTES + 1)
        upload.close()
        mime = report_rules.photo_type(photo)
        if mime is None:
            errors["photo"] = "photo_bad"
    if errors:
        return _form(code, errors, values, status=422)
    report = {"code": code, "subject_key": subject, "text": values["text"], "phone": phone,
              "photo_sha256": store_photo(photo, mime) if photo else None, "photo_type": mime}
    try:
        out = consumer_reports.file_report(graph(), report, report_rules.phone_digest(_key(_DOMAIN_PHONE), phone),
                                           audit=transaction_entry())
    except RuleViolation:
        response = problem(429, "too_many")
        response.headers["Retry-After"] = "86400"
        return response
    mark_recorded(out["audit_seq"])
    return redirect(url_for("loop_pages.report_status", report_no=out["report_no"], new=1), 303)


@bp.route("/report/<report_no>")
def report_status(report_no: str):
    """The reporter's status page: number, state and dates only."""
    return render("loop/report_status.html", report=consumer_reports.public_status(graph(), report_no),
                  new=request.args.get("new") == "1")


def credit_notice(f: dict, lang: str) -> Markup:
    """The consumer page's warning when the product's brand owner or the lot's maker is on the watch list or the
    blacklist (read by the page's own query, graph/scan.py `credit_warnings`: no second round trip)."""
    warnings = f.get("credit_warnings") or []
    if not warnings:
        return Markup("")
    language = "en" if lang == "en" else "zh"
    return Markup(render_template("loop/_scan_notice.html", warnings=warnings, t=TEXT[language], lang=language))


def report_link(f: dict, lang: str) -> Markup:
    """The consumer page's link to report a violation (举报) about the scanned code."""
    code = f.get("code") or {}
    if not code.get("gtin"):
        return Markup("")
    report = url_for("loop_pages.report_form",
                     code=build_uri(DEFAULT_BASE, code["gtin"], code.get("lot"), code.get("serial") or None))
    language = "en" if lang == "en" else "zh"
    return Markup(render_template("loop/_report_link.html", report=report, t=TEXT[language], lang=language))


def register(app: Flask) -> None:
    """Register the public pages (after the workbench, whose CSRF protection the report form uses), and offer
    the consumer page ``credit_notice(f, lang)`` and ``report_link(f, lang)``."""
    app.register_blueprint(bp)
    app.jinja_env.globals["credit_notice"] = credit_notice
    app.jinja_env.globals["report_link"] = report_link
