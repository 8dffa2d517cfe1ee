"""TraceGraph: the Flask application factory."""

from __future__ import annotations

import atexit
import logging
import sys

from flask import Flask

from app.config import DEVELOPMENT_SECRET_KEY, Config
from graph.driver import Graph
from graph.errors import Conflict, Unavailable

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config, the Neo4j driver, the API blueprints, web pages, error handlers and CLI.

    Args:
        config: overrides of Config values (tests use this).
    """
    app = Flask(__name__)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    from app.request_body import StrictJSONProvider, init_request_body

    # Duplicate keys, NaN and over-deep nesting are refused rather than silently read (see app/request_body.py).
    app.json = StrictJSONProvider(app)
    app.json.ensure_ascii = False
    _refuse_insecure_production(app)
    _warn_development_key(app)

    graph = Graph(
        app.config["NEO4J_URI"],
        app.config["NEO4J_USER"],
        app.config["NEO4J_PASSWORD"],
        app.config["NEO4J_DATABASE"],
        max_connection_pool_size=app.config["NEO4J_POOL_SIZE"],
    )
    app.extensions["graph"] = graph
    atexit.register(graph.close)

    from app import errors
    from app.api import register_api
    from app.audit import init_audit
    from app.cli import register_cli
    from app.security import init_security
    from app.web import register_web

    errors.register(app)
    register_api(app)
    register_web(app)
    register_cli(app)
    init_audit(app)
    init_request_body(app)
    init_security(app)  # last: it wraps the registered blueprints

    if app.config["MIGRATE_ON_START"]:
        _migrate_if_reachable(app, graph)
    from gs1.schema import cross_check_note

    log.info(cross_check_note())
    return app


def _refuse_insecure_production(app: Flask) -> None:
    """Stop a production start with the development SECRET_KEY (it signs QR serials)."""
    if app.config["ENV"] == "production" and (
        app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY or len(app.config["SECRET_KEY"]) < 32
    ):
        raise RuntimeError("TRACEGRAPH_ENV=production needs SECRET_KEY set to a random value of 32+ characters")


DEVELOPMENT_KEY_WARNING = (
    "SECRET_KEY is the development key: anyone with this source can sign QR serials that scan as genuine and "
    "undo scan fingerprints. Set SECRET_KEY to 32+ random characters before serving anyone "
    "(TRACEGRAPH_ENV=production refuses to start without one)."
)


def _warn_development_key(app: Flask) -> None:
    """Say loudly, on stderr and in the log, that this process serves with the development SECRET_KEY."""
    if app.config["SECRET_KEY"] != DEVELOPMENT_SECRET_KEY:
        return
    log.warning(DEVELOPMENT_KEY_WARNING)
    # The log may go nowhere yet (no handler before gunicorn configures one): stderr is always seen.
    print(f"\n*** WARNING: {DEVELOPMENT_KEY_WARNING} ***\n", file=sys.stderr, flush=True)


def _migrate_if_reachable(app: Flask, graph: Graph) -> None:
    """Apply pending migrations; a database that is down now must not stop the app (it answers 503 meanwhile)."""
    from graph.migrate import migrate

    try:
        applied = migrate(graph)
    except (Unavailable, Conflict):  # Conflict: another worker applied it at the same moment
        log.warning("Neo4j at %s is not answering; migrations wait for `flask graph migrate`", app.config["NEO4J_URI"])
        return
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
