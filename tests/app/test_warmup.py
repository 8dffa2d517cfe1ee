"""The worker's warm-up (app/warmup.py, run by gunicorn.conf.py): it renders pages and runs the trace and recall
reads, records no scan, and never stops a worker whose database does not answer."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

from app import create_app
from app.warmup import warm_up
from tests.scan import arrange


def test_the_warm_up_renders_pages_and_records_no_scan(app, graph, monkeypatch):
    arrange.ginseng_chain(graph, app.config["SECRET_KEY"])  # lots and signed items to sample, whatever else is there
    queued = []
    # what the resolver hands to the scan writer is kept here instead (a repeat within 30 minutes would not be
    # stored, so the store alone could not tell)
    monkeypatch.setattr(app.extensions["scan_buffer"], "add", queued.append)
    done = warm_up(app, budget=60)
    assert done["stopped"] is None and done["trace"] is True
    assert done["pages"] >= 4  # HTML and JSON of at least one lot and one item code
    assert queued == []  # asked with HEAD: nobody looked at a code, so no scan


def test_a_warm_up_without_a_database_gives_up_at_once_and_does_not_raise():
    down = create_app({"TESTING": True, "NEO4J_URI": "bolt://127.0.0.1:9", "MIGRATE_ON_START": False})
    try:
        started = time.monotonic()
        done = warm_up(down, budget=60)
        assert done["stopped"].startswith("database") and done["pages"] == 0
        assert time.monotonic() - started < 4  # without graph.ping the driver retried for ~7 s
    finally:
        down.extensions["graph"].close()


def test_a_warm_up_budget_of_zero_turns_it_off(app):
    assert warm_up(app, budget=0) == {"pages": 0, "trace": False, "recall": False, "seconds": 0.0, "stopped": "off"}


def test_what_a_warm_worker_holds_is_frozen_out_of_full_collections():
    # In a process of its own: freezing is for a worker's whole life, not for the test run's.
    code = (
        "import gc\n"
        "from app.warmup import freeze_heap\n"
        "held = [[i] for i in range(50000)]\n"
        "gc.collect()\n"
        "walked = len(gc.get_objects())\n"
        "frozen = freeze_heap()\n"
        "print(frozen >= 50000, len(gc.get_objects()) < walked - 50000, held[-1][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["True", "True", "49999"], out.stderr


def test_gunicorn_freezes_each_worker_after_its_warm_up():
    conf = (Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text()
    tree = ast.parse(conf)
    hook = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "post_worker_init")
    calls = [n.func.id for n in ast.walk(hook) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert calls.index("warm_up") < calls.index("freeze_heap")
