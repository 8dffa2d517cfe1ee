"""The regulator's console: server-rendered pages under /console/ for regulators and admins (Chinese first, English).

People log in through the workbench's log-in (/work/login, app/accounts.py); a producer or lab account is refused
here (403). Pages read through graph/console.py, graph/trace.py and graph/recalls.py; the one write here (open and
close a recall) goes through graph/recalls.py exactly as the API's POST /api/v1/recalls does, with the user's
principal, CSRF-checked (Flask-WTF) and audited. Charts (Apache ECharts) and the trace drawing (Cytoscape.js) come
from npm (package.json, `make setup`) and are served from node_modules by /console/vendor/<file>: no CDN.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from app.web import work
from app.web.console.trace_graph import local

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="../templates",
               static_folder="../static/console", static_url_path="/static")
ROLES = ("regulator", "admin")
TEXT: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
for _catalogue in sorted((Path(__file__).resolve().parent.parent / "templates" / "console").glob("i18n*.json")):
    _texts = json.loads(_catalogue.read_text("utf-8"))
    for _lang in TEXT:
        _twice = TEXT[_lang].keys() & _texts[_lang].keys()
        if _twice:
            raise RuntimeError(f"{_catalogue.name} defines again: {sorted(_twice)[:5]}")
        TEXT[_lang].update(_texts[_lang])
# The front-end libraries, by the name the pages ask for: files of the pinned npm packages (package-lock.json).
VENDOR = {"echarts.min.js": "echarts/dist/echarts.min.js", "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js"}
PUBLIC_ENDPOINTS = ("console.static", "console.vendor")


def init_app(app: Flask) -> None:
    """Register the console's pages (after the workbench, whose log-in, sessions and CSRF it uses)."""
    from app.web.console import alerts, credit, lists, overview, plans, recalls, trace  # noqa: F401 - routes on bp

    app.register_blueprint(bp)


def lang() -> str:
    """The page language, shared with the workbench and the consumer page (?lang=, the lang cookie, else zh)."""
    return work.lang()


def render(template: str, status: int = 200, **context):
    """Render a console page in the user's language; never cached (it shows private contacts)."""
    language = lang()
    html = render_template(template, t=TEXT[language], lang=language, user=current_user,
                           name=work.name_in(language), when=local, num=work.number,
                           unit=lambda code: work.UNITS.get(code, (code, code))[language == "en"], **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = "zh-CN" if language == "zh" else "en"
    return response


@bp.before_request
def _guard():
    """CSRF on every post, a logged-in regulator or admin for everything but static files."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.method == "POST":
        work.csrf.protect()
    if not current_user.is_authenticated:
        if request.method == "GET":
            return redirect(url_for("work.login", next=request.full_path.rstrip("?")))
        return problem(401, "problem_login_needed")
    if current_user.role not in ROLES:
        return problem(403, "problem_forbidden")
    g.principal = current_user.principal
    if getattr(current_user, "must_change", False):
        # a password an admin reset is replaced first (the workbench's page)
        return redirect(url_for("work.password"))
    return None


@bp.route("/vendor/<name>")
def vendor(name: str):
    """ECharts and Cytoscape.js as npm installed them (only the allow-listed files)."""
    path = VENDOR.get(name)
    if path is None:
        abort(404)
    root = Path(current_app.root_path).parent / "node_modules"
    return send_from_directory(root, path, max_age=86400, mimetype="text/javascript")


def problem(status: int, key: str, detail: str = ""):
    """The friendly error page in the user's language."""
    t = TEXT[lang()]
    return render("console/problem.html", status=status, title=t.get(key + "_title", t["problem_title"]),
                  message=t[key], detail=detail)


work.page_conventions(bp, problem)
