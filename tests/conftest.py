"""Shared fixtures: a real Neo4j started by the project (scripts/neo4jctl.py), the app, its client and tokens.

Tests use their own server (port 7697, store .neo4j-test) so they never touch `make run`'s data, and isolate
themselves by data: every test makes fresh GLNs/GTINs (tests/factories.py).
Set NEO4J_URI to run the tests against another server instead (the outage test is then skipped).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.browser"]  # base_url, phone, desktop: real Chromium for page tests

REPO = Path(__file__).resolve().parent.parent
# Every app the tests start (some with their own SECRET_KEY) appends to the one audit chain of the test database:
# they must share its key, as a deployment's workers do (read by app/config.py when first imported).
os.environ.setdefault("AUDIT_KEY", "tests-audit-key-" + "k" * 24)
TEST_PORT = os.environ.get("TEST_NEO4J_BOLT_PORT", "7697")
# bolt:// (one server, default) or neo4j:// (the driver asks the server for a routing table and sends reads and
# writes as a cluster would: Neo4j 5 answers routing on a single server too; docs/scaling.md).
TEST_SCHEME = os.environ.get("TEST_NEO4J_SCHEME", "bolt")


def neo4jctl(command: str) -> subprocess.CompletedProcess:
    """Run scripts/neo4jctl.py for the test server."""
    env = dict(os.environ)
    env.setdefault("NEO4J_HOME_DIR", str(REPO / ".neo4j-test"))
    env["NEO4J_BOLT_PORT"] = TEST_PORT
    env.setdefault("NEO4J_HEAP", "1g")
    env.setdefault("NEO4J_PAGECACHE_MB", "512")
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "neo4jctl.py"), command], env=env, capture_output=True, text=True
    )


def pytest_collection_modifyitems(config, items):
    """Mark `neo4j` every test that reaches the real Neo4j (all of them do through the neo4j_uri fixture).

    `-m "not neo4j"` is then the unit tier: pure rules, gs1/, labels/ (`make test-fast`).
    """
    for item in items:
        if "neo4j_uri" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.neo4j)


def _fresh_store_if_grown() -> None:
    """Start from an empty store when earlier runs left more than TEST_NEO4J_STORE_MAX_MB (default 400) in it.

    The store is kept between runs (no start-up cost, and tests isolate by data, never by an empty database), but
    every run adds to it, and tests that read the whole store (backup and restore) grow with it: the full suite took
    21 minutes on an 850 MB store, 8 of them in the backup test. Only a server this session starts is touched, never
    a running one.
    """
    data = Path(os.environ.get("NEO4J_HOME_DIR", str(REPO / ".neo4j-test"))) / "data"
    limit = int(os.environ.get("TEST_NEO4J_STORE_MAX_MB", "400")) * 1024 * 1024
    if data.is_dir() and sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) > limit:
        shutil.rmtree(data)


@pytest.fixture(scope="session")
def neo4j_uri():
    """The URI of a running Neo4j: an external one (NEO4J_URI) or the project's own test server."""
    if os.environ.get("TG_UNIT_TIER"):
        pytest.fail("the unit tier (TG_UNIT_TIER) must not reach Neo4j: run this test with `make test`")
    external = os.environ.get("NEO4J_URI", "").strip()
    if external:
        yield external
        return
    already = neo4jctl("status").returncode == 0
    if not already:
        _fresh_store_if_grown()
    started = neo4jctl("start")
    if started.returncode != 0:
        pytest.fail(f"could not start Neo4j:\n{started.stdout}\n{started.stderr}")
    yield f"{TEST_SCHEME}://127.0.0.1:{TEST_PORT}"
    if not already and not os.environ.get("KEEP_TEST_NEO4J"):
        neo4jctl("stop")


@pytest.fixture(scope="session")
def app(neo4j_uri):
    """The real app, wired to the real test Neo4j."""
    from app import create_app

    # Every test client logs in from 127.0.0.1: the per-address log-in limit is proven on an app of its own
    # (tests/web/test_login_limit.py), not shared by the whole session's log-ins.
    application = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "SECRET_KEY": "test-secret-key-" + "x" * 20,
                              "RATELIMIT_LOGIN": "10000/minute"})
    yield application
    # Scans are written in the background: write what is queued while the driver is still open.
    if "scan_buffer" in application.extensions:
        application.extensions["scan_buffer"].close()
    application.extensions["graph"].close()


@pytest.fixture
def client(app):
    """A test client of the real app."""
    return app.test_client()


@pytest.fixture(scope="session")
def graph(app):
    """The app's Graph (for arranging data and checking what was stored)."""
    return app.extensions["graph"]


@pytest.fixture(scope="session")
def admin_token(graph):
    """A token with the admin role."""
    from graph import tokens

    return tokens.create(graph, "admin", None, "tests")["token"]


@pytest.fixture
def factory(graph, admin_token):
    """Makes parties (with tokens), products and lots with fresh business keys."""
    from tests.factories import Factory

    return Factory(graph, admin_token)
