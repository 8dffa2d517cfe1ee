"""The producers' workbench: server-rendered pages under /work/ for people who log in (Chinese first, English too).

Not part of the API (not in /openapi.json): pages authenticate with a session cookie (Flask-Login) and every form
carries a CSRF token (Flask-WTF), checked here and only here; the JSON API keeps bearer tokens and no CSRF. A
logged-in user acts as the principal ``user:<user_id>`` with its role and party, set as ``g.principal``: writes go
through the API's own functions (app/capture.py, graph/lots.py) and the audit trail records them under that name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, g, make_response, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from app.accounts import load_session_user
from app.errors import http_error_response, status_of
from graph.errors import GraphError, Unavailable
from gs1.timezones import CHINA

bp = Blueprint("work", __name__, url_prefix="/work", template_folder="../templates",
               static_folder="../static/work", static_url_path="/static")
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.session_protection = "basic"

TEXT: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
# One catalogue per group of pages (i18n.json, i18n_<pages>.json), merged: a key defined twice is a mistake.
for _catalogue in sorted((Path(__file__).resolve().parent.parent / "templates" / "work").glob("i18n*.json")):
    _texts = json.loads(_catalogue.read_text("utf-8"))
    for _lang in TEXT:
        _twice = TEXT[_lang].keys() & _texts[_lang].keys()
        if _twice:
            raise RuntimeError(f"{_catalogue.name} defines again: {sorted(_twice)[:5]}")
        TEXT[_lang].update(_texts[_lang])
# Pages anyone may open: the log-in form, the language switch and the stylesheet.
PUBLIC_ENDPOINTS = ("work.login", "work.language", "work.static")
# What a user whose password an admin reset may open before choosing a new one.
MUST_CHANGE_ENDPOINTS = ("work.password", "work.logout")
LANG_COOKIE_DAYS = 365
# UN/ECE Rec 20 unit codes as people write them (Chinese, English).
UNITS = {"KGM": ("公斤", "kg"), "TNE": ("吨", "t"), "H87": ("件", "pcs"), "GRM": ("克", "g"), "LTR": ("升", "l")}


def init_app(app: Flask) -> None:
    """Install sessions (Flask-Login), CSRF for the pages only (Flask-WTF) and the workbench's pages."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    login_manager.init_app(app)
    login_manager.user_loader(load_session_user)
    csrf.init_app(app)
    from app.web.work import accounts, batches, certificates, imports, lab, labels, pages  # noqa: F401 - routes on bp

    app.register_blueprint(bp)
    # A URL under /work/ that matches no page (or not with this method) reaches no blueprint's handler: the app's
    # own handler answers it, as the workbench's page here and as the JSON error everywhere else.
    app.register_error_handler(HTTPException, _page_or_json)


def in_workbench() -> bool:
    """Tell whether this request is for a workbench page (matched or not)."""
    return request.path == "/work" or request.path.startswith("/work/")


def _page_or_json(exc: HTTPException):
    if in_workbench():
        return _http_refused(exc)
    return http_error_response(exc)


def lang() -> str:
    """The page language: ?lang=, else the lang cookie the consumer page shares, else Chinese."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return "en" if chosen == "en" else "zh"


def render(template: str, status: int = 200, **context):
    """Render a workbench page in the user's language; never cached (it shows one party's own data)."""
    language = lang()
    html = render_template(template, t=TEXT[language], lang=language, user=current_user, name=name_in(language),
                           when=local_time, num=number,
                           unit=lambda code: UNITS.get(code, (code, code))[language == "en"], **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = "zh-CN" if language == "zh" else "en"
    return response


def name_in(language: str):
    """A function picking the name in this language from a row with ``<prefix>_zh`` / ``<prefix>_en`` fields."""

    def pick(row: dict | None, prefix: str = "name") -> str:
        if not row:
            return ""
        first, second = (f"{prefix}_en", f"{prefix}_zh") if language == "en" else (f"{prefix}_zh", f"{prefix}_en")
        return row.get(first) or row.get(second) or ""

    return pick


def number(value: float | None) -> str:
    """A quantity without trailing zeros (12.5, 300)."""
    return "" if value is None else f"{value:g}"


def local_time(value: datetime | None) -> str:
    """A time as people in Jilin read it: Asia/Shanghai, to the minute."""
    if value is None:
        return ""
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def safe_next(target: str | None, default: str) -> str:
    """A redirect target inside this site only (no scheme, no host, no //evil.example)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


@bp.before_request
def _guard():
    """CSRF on every form post, then a logged-in user for everything but the public pages; a password an admin
    reset is replaced before any other page."""
    if request.method == "POST":
        csrf.protect()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if request.method == "GET":
            return redirect(url_for("work.login", next=request.full_path.rstrip("?")))
        return problem(401, "problem_login_needed")
    g.principal = current_user.principal
    if current_user.must_change and request.endpoint not in MUST_CHANGE_ENDPOINTS:
        if request.method == "GET":
            return redirect(url_for("work.password"))
        return problem(403, "problem_must_change")
    return None


@bp.route("/lang/<code>")
def language(code: str):
    """Switch the workbench's language (a cookie the consumer page shares) and go back."""
    response = redirect(safe_next(request.args.get("next"), url_for("work.home")), 303)
    # Not HttpOnly: the consumer page's script sets the same cookie, and a language is no secret.
    response.set_cookie("lang", "en" if code == "en" else "zh", max_age=LANG_COOKIE_DAYS * 86400, samesite="Lax")
    return response


def problem(status: int, key: str, detail: str = ""):
    """The friendly error page in the user's language."""
    t = TEXT[lang()]
    return render("work/problem.html", status=status, code=status, title=t.get(key + "_title", t["problem_title"]),
                  message=t[key], detail=detail)


# The friendly page's words for werkzeug's errors; any other status is "the request is not valid".
HTTP_PROBLEMS = {401: "problem_login_needed", 403: "problem_forbidden", 404: "problem_not_found",
                 405: "problem_not_found", 413: "problem_too_large", 503: "problem_down"}


def page_conventions(blueprint: Blueprint, problem: Callable[..., Response]) -> Callable[[HTTPException], Response]:
    """What every blueprint of logged-in pages (the workbench, the console) does alike.

    Every error gets its friendly page in the user's language, drawn by `problem(status, key, detail)`: a refused CSRF
    token, a refused or unavailable database, and werkzeug's errors (405 keeps Allow); the API keeps its JSON errors.
    A page's successful write that answers with a redirect is audited (the app's own hook records 2xx and 4xx).
    Returns the handler of werkzeug's errors.
    """

    @blueprint.after_request
    def _audit_redirected_write(response):
        from app.audit import append_entry, audit_key, mark_recorded, request_entry
        from app.extensions import graph

        if request.method == "POST" and 300 <= response.status_code < 400 and g.get("audit_seq") is None:
            mark_recorded(append_entry(graph(), audit_key(), request_entry(response)))
        return response

    @blueprint.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError):
        return problem(400, "problem_csrf")

    @blueprint.errorhandler(GraphError)
    def _graph_refused(exc: GraphError):
        if isinstance(exc, Unavailable):
            return problem(503, "problem_down")
        return problem(status_of(exc), "problem_refused", exc.message)

    @blueprint.errorhandler(HTTPException)
    def _http_refused(exc: HTTPException):
        status = exc.code or 500
        response = problem(status, HTTP_PROBLEMS.get(status, "problem_bad"))
        allow = exc.get_response().headers.get("Allow") if status == 405 else None
        if allow:
            response.headers["Allow"] = allow
        return response

    return _http_refused


_http_refused = page_conventions(bp, problem)
