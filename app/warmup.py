"""Warm a freshly started worker before it serves: the first minute after a restart should not be the slowest.

A new process compiles its Jinja templates, opens its Neo4j connections, fills its page cache and reaches code
paths for the first time; a Neo4j that restarted too plans every statement again. The first shoppers paid for all
of it (2-4x slower pages for a minute, issue 18). gunicorn calls `warm_up` in each worker after it loaded the app
and before it accepts a request (gunicorn.conf.py): a few consumer pages (HTML and JSON, lot and item codes), one
trace and one recall case, read only.

The pages are asked for with HEAD, which renders them but is no one looking at a code (app/web/resolver.py): no
scan is recorded, no copy rule moves. Bounded: it stops at WARMUP_SECONDS (default 10, 0 turns it off), or at the
first sign of a database that does not answer, and it never fails the start: a worker that could not warm serves
cold, as before.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from urllib.parse import quote

from flask import Flask

from graph import recall_cases, recalls, samples, trace
from graph.errors import GraphError
from gs1.identifiers import lot_key

log = logging.getLogger(__name__)
_CODES = 3  # lot codes and item codes each
_CASE_HOLDERS_MAX = 200  # the recall case read in full only when it is no bigger than this


def warm_up(app: Flask, budget: float | None = None) -> dict:
    """Serve a few pages and run the trace and recall reads once; return what was done (for the log and tests).

    Args:
        app: the app, loaded in the worker that will serve it.
        budget: seconds at most (default: the app's WARMUP_SECONDS setting, else the WARMUP_SECONDS environment
            variable, else 10).

    Returns:
        {"pages": pages rendered, "trace": bool, "recall": bool, "seconds": time spent, "stopped": reason or None}.
    """
    if budget is None:
        budget = float(app.config.get("WARMUP_SECONDS") or os.environ.get("WARMUP_SECONDS", "").strip() or 10.0)
    done = {"pages": 0, "trace": False, "recall": False, "seconds": 0.0, "stopped": None}
    if budget <= 0:
        done["stopped"] = "off"
        return done
    started = time.monotonic()
    try:
        _warm(app, started + budget, done)
    except GraphError as exc:  # the database is down or slow: serve cold rather than wait
        done["stopped"] = f"database: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - a warm-up must never stop a worker from serving
        log.exception("warm-up failed; serving cold")
        done["stopped"] = f"error: {type(exc).__name__}"
    done["seconds"] = round(time.monotonic() - started, 3)
    return done


def freeze_heap() -> int:
    """Move what the worker holds once it is warm (the app, its templates, the driver, the first pages' facts) into
    the cyclic collector's permanent generation, and return how many objects that is.

    None of it is garbage, yet every full collection walked it all: about 145,000 objects, 76 ms with every thread of
    the worker stopped, once every few thousand pages (measured: one such pause per 6,000 pages, the slowest
    request of the lot). Frozen, they are never walked again; what later requests make is collected as before.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _warm(app: Flask, deadline: float, done: dict) -> None:
    graph = app.extensions["graph"]
    graph.ping()  # a server that is down answers at once here; the first query would retry for seconds
    codes = samples.sample_codes(graph, _CODES)
    client = app.test_client()
    for c in codes:
        path = f"/01/{c['gtin']}/10/{quote(c['lot'], safe='')}"
        if c["serial"]:
            path += f"/21/{quote(c['serial'], safe='')}"
        for accept in ("text/html", "application/json"):
            if time.monotonic() > deadline:
                done["stopped"] = "time"
                return
            status = client.head(path, headers={"Accept": accept, "User-Agent": "tracegraph-warm-up"}).status_code
            if status == 503:
                done["stopped"] = "database not answering"
                return
            done["pages"] += 1
    lots = [c for c in codes if not c["serial"]]
    if lots and time.monotonic() < deadline:
        trace.trace(graph, lot_key(lots[0]["gtin"], lots[0]["lot"]), "both")
        done["trace"] = True
    if time.monotonic() < deadline:
        cases = recall_cases.list_cases(graph, {}, None, limit=1)["cases"]
        if cases:
            recall_cases.public_notice(graph, cases[0]["recall_id"])  # bounded: at most 200 lots
            if (cases[0].get("holders") or 0) <= _CASE_HOLDERS_MAX:  # a huge case would cost seconds of start-up
                recalls.get(graph, cases[0]["recall_id"])
            done["recall"] = True
