"""Server-rendered pages: the API docs page (and the consumer and regulator pages)."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, render_template, send_from_directory

# Swagger UI's files come from the flask-swagger-ui wheel: served by us, so /docs works with no internet.
_SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"

docs = Blueprint("docs", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/web")


@docs.route("/docs")
def docs_page():
    """The interactive API description (Swagger UI over /openapi.json)."""
    return render_template("docs.html")


@docs.route("/docs/assets/<path:name>")
def docs_asset(name):
    """Swagger UI's own script and style files."""
    return send_from_directory(_SWAGGER_DIST, name, max_age=86400)


def register_web(app: Flask) -> None:
    """Register the page blueprints."""
    from app.web import regulator, reports, resolver

    app.register_blueprint(docs)
    app.register_blueprint(reports.bp)
    app.register_blueprint(resolver.bp)
    app.register_blueprint(resolver.assets)
    app.register_blueprint(regulator.regulator)
    from app.web import work

    work.init_app(app)
    from app.web import recall_pages

    recall_pages.register(app)
    from app.web import console

    console.init_app(app)
    from app.web import loop_pages

    loop_pages.register(app)
