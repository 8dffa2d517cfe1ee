"""Shared fixtures: a real Neo4j started by the project (scripts/neo4jctl.py), the app, its client and tokens.

Tests use their own server (port 7697, store .neo4j-test) so they never touch `make run`'s data, and isolate
themselves by data: every test makes fresh GLNs/GTINs (tests/factories.py).
Set NEO4J_URI to run the tests against another server instead (the outage test is then skipped).

Parallel runs (pytest-xdist, `make test`): every worker asks for the server, one starts it (and clears a grown
store) under a file lock while the others wait, and the run's controller stops it at the end when the run started
it. Tests that need the whole store to themselves (SERIAL below) are marked `serial`: `make test` runs them after the
parallel phase, alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest_plugins = ["tests.browser"]  # base_url, phone, desktop: real Chromium for page tests

REPO = Path(__file__).resolve().parent.parent
# Every app the tests start (some with their own SECRET_KEY) appends to the one audit chain of the test database:
# they must share its key, as a deployment's workers do (read by app/config.py when first imported).
os.environ.setdefault("AUDIT_KEY", "tests-audit-key-" + "k" * 24)
TEST_PORT = os.environ.get("TEST_NEO4J_BOLT_PORT", "7697")
# Tests that need the whole store to themselves, by path: they restart or kill the server (health, outage), read or
# copy the whole store (backup and restore), load the demo province (fixed business keys, loaded by several files),
# migrate, or assert counts of the whole graph. `make test` runs them after the parallel phase, one at a time.
# A new test file is parallel unless it is listed here (`make test`'s serial phase runs the files listed).
SERIAL = (
    "tests/app/test_health.py",
    "tests/hardening/test_outage.py",
    "tests/hardening/test_backup.py",
    "tests/app/test_demo.py",
    "tests/app/test_audit_paths.py",
    "tests/notify/test_demo.py",
    "tests/golden/test_demo_golden.py",
    "tests/golden/test_fsma_golden.py",
    "tests/trace/test_fsma_demo.py",
    "tests/scan/test_page_kinds.py",
    "tests/graph/test_schema.py",
    "tests/graph/test_fingerprint.py",
    "tests/bench/test_load_paths.py",
    "tests/bench/test_history_import.py",
)
# The run a session belongs to: xdist's workers inherit it from the controller (the environment at their start).
os.environ.setdefault("TG_TEST_RUN", uuid.uuid4().hex)
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
    """Mark `neo4j` every test that reaches the real Neo4j (all of them do through the neo4j_uri fixture), and
    `serial` those of the SERIAL files.

    `-m "not neo4j"` is then the unit tier: pure rules, gs1/, labels/ (`make test-fast`).
    """
    for item in items:
        if "neo4j_uri" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.neo4j)
        if _relative(item.path) in SERIAL:
            item.add_marker(pytest.mark.serial)


def serial_paths() -> list[str]:
    """The SERIAL files there are (`make test`'s serial phase runs these)."""
    return [p for p in SERIAL if (REPO / p).exists()]


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:  # a test outside the repository
        return str(path)


def _home() -> Path:
    return Path(os.environ.get("NEO4J_HOME_DIR", str(REPO / ".neo4j-test")))


@contextmanager
def _server_lock():
    """Hold the test server's lock: one session at a time checks, clears and starts it (others wait here)."""
    _home().mkdir(parents=True, exist_ok=True)
    with open(_home() / "tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _started_marker() -> Path:
    """The file naming the test run that started the server (the run's controller stops it at its end)."""
    return _home() / "started-by-test-run"


def _fresh_store_if_grown() -> None:
    """Start from an empty store when earlier runs left more than TEST_NEO4J_STORE_MAX_MB (default 400) in it.

    The store is kept between runs (no start-up cost, and tests isolate by data, never by an empty database), but
    every run adds to it, and tests that read the whole store (backup and restore) grow with it: the full suite took
    21 minutes on an 850 MB store, 8 of them in the backup test. Only a server this session starts is touched, never
    a running one.
    """
    data = _home() / "data"
    limit = int(os.environ.get("TEST_NEO4J_STORE_MAX_MB", "400")) * 1024 * 1024
    if data.is_dir() and sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) > limit:
        shutil.rmtree(data)


@pytest.fixture(scope="session")
def neo4j_uri():
    """The URI of a running Neo4j: an external one (NEO4J_URI) or the project's own test server.

    The first session to ask starts the test server (clearing a grown store first) under a file lock; parallel
    workers and other sessions wait for it and find it running. The server is stopped at the end of the run that
    started it (pytest_sessionfinish, in the controller), unless KEEP_TEST_NEO4J is set.
    """
    if os.environ.get("TG_UNIT_TIER"):
        pytest.fail("the unit tier (TG_UNIT_TIER) must not reach Neo4j: run this test with `make test`")
    external = os.environ.get("NEO4J_URI", "").strip()
    if external:
        yield external
        return
    with _server_lock():
        if neo4jctl("status").returncode != 0:
            _fresh_store_if_grown()
            started = neo4jctl("start")
            if started.returncode != 0:
                pytest.fail(f"could not start Neo4j:\n{started.stdout}\n{started.stderr}")
            _started_marker().write_text(os.environ["TG_TEST_RUN"])
    yield f"{TEST_SCHEME}://127.0.0.1:{TEST_PORT}"


def pytest_sessionfinish(session, exitstatus):
    """The run's controller (not an xdist worker) stops the test server when this run started it.

    KEEP_TEST_NEO4J keeps it; so does TG_TEST_PHASE=first (`make test`'s parallel phase: its serial phase, the same
    run, stops it).
    """
    if hasattr(session.config, "workerinput") or os.environ.get("NEO4J_URI", "").strip():
        return
    marker = _started_marker()
    if not marker.exists() or marker.read_text() != os.environ["TG_TEST_RUN"]:
        return
    if os.environ.get("KEEP_TEST_NEO4J") or os.environ.get("TG_TEST_PHASE") == "first":
        return
    with _server_lock():
        marker.unlink(missing_ok=True)
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
