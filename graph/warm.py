"""Warm a freshly (re)started Neo4j before it takes traffic (issue 18, `flask graph warm`).

A Neo4j that just started has an empty query cache (every statement is planned again on first use), a JVM that has
not compiled the Cypher runtime, and an empty page cache: the first 30-40 s of a consumer-page burst fell behind
(docs/benchmarks.md). The app's own warm-up (app/warmup.py) warms a new worker, not a restarted database.

1. The hot write statements (the consumer page's scan writer, capture's statements) run once each in a write
   transaction that is always rolled back, with values that match nothing or only what the rollback discards: their
   plans are cached under the very key their real runs look up. Measured on 5.26 Community (docs/warm.md): after
   an EXPLAIN the real first run still spent 6-35 ms planning (EXPLAIN's plan is kept under a key of its own, and
   the key also holds each parameter's type and whether the transaction already wrote), after a rolled-back run
   under 1 ms, from an empty cache 20-70 ms. So each runs with every empty/non-empty shape of its list
   parameters, in a transaction that has not written yet and in one that has.
2. The consumer page read, the trace and the public recall notice run in read transactions (readers in a cluster)
   in a closed loop over codes sampled from the store until the time is spent: their plans, the JIT and the page
   cache of what they read.

Nothing is committed (tests/graph/test_warm.py fingerprints a party's data before and after).
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, LiteralString

from graph import events, recall_cases, samples, scan, scan_log, trace
from graph.driver import Graph, translate
from graph.errors import GraphError, NotFound
from gs1.identifiers import lot_key

log = logging.getLogger(__name__)

_NONE = "warm:none"  # a key and an element id that nothing has
_TIME = "2026-01-01T00:00:00Z"
_SEEN = "CREATE ()"  # gives a transaction changes of its own (no label, no property: no new token), rolled back


def _row(**values: Any) -> list[dict]:
    return [values]


# capture's statements (graph/events.py) with parameters of the shapes capture gives them; the list parameters
# named in the third column are also planned empty (a document without items, units, ...: another cache key).
_CAPTURE: list[tuple[LiteralString, dict, tuple[str, ...]]] = [
    (events._LOCK, {"lots": [_NONE], "items": [_NONE], "units": [_NONE], "glns": [_NONE]},
     ("lots", "items", "units", "glns")),
    (events._EXISTING, {"ids": [_NONE]}, ()),
    (events._STATE, {"lots": [_NONE], "items": [_NONE], "units": [_NONE]}, ("lots", "items", "units")),
    (events._KNOWN, {"gtins": [_NONE], "glns": [_NONE]}, ("gtins", "glns")),
    (events._REACH, {"sources": [_NONE], "targets": [_NONE]}, ()),
    *[(cypher, {"rows": _row(gln=_NONE, gtin=_NONE, key=_NONE, ext=None, lot=_NONE, serial=_NONE, sscc=_NONE,
                             uri=_NONE, quantity=None, unit=None, owner=None, production_date=None,
                             expiry_date=None, first_time=_TIME),
                "class_prefix": "class:"}, ())
      for cypher in events._MERGE_NODES.values()],
    (events._CREATE_EVENTS, {"rows": _row(props={"event_id": _NONE}, event_time=_TIME, record_time=_TIME)}, ()),
    (events._EVENT_EDGES, {"rows": _row(e=_NONE, n=_NONE, rel="OBJECT", q=None, uom=None, type=None)}, ()),
    (events._DERIVED, {"rows": _row(a=_NONE, b=_NONE, rel="TRANSFORMED_INTO", event_id=_NONE, time=_TIME)}, ()),
    (events._HOLDS, {"rows": _row(p=_NONE, n=_NONE, db=0.0, ds=0.0, dr=0.0, dn=0, unit=None)}, ()),
    (events._DECLARE, {"rows": _row(e=_NONE, declaration=None, declared_by=None, corrective=[], capture_id=None)},
     ()),
    (events._CORRECTS, {"rows": _row(corrective=_NONE, erroneous=_NONE)}, ()),
    (events._STORE_JOB, {"props": {"capture_id": _NONE}, "created_at": _TIME, "finished_at": _TIME}, ()),
    (events._OBSERVATIONS, {"rows": _row(props={"event_id": _NONE}, event_time=_TIME, record_time=_TIME,
                                         objects=[])}, ()),
]


def warm(graph: Graph, seconds: float = 20.0, codes: int = 50,
         progress: Callable[[dict], object] | None = None) -> dict:
    """Plan the hot write statements without committing anything, then read pages, traces and recall notices of
    sampled codes until ``seconds`` are spent.

    Args:
        graph: the database (a cluster's leader gets the rolled-back writes, a reader the reads).
        seconds: the whole budget; the reads loop until it is spent (a call under way finishes first).
        codes: lot codes and item codes each sampled from the store for the reads (their pages touch the page
            cache).
        progress: called with the counts so far after each step (a caller prints them now and then).

    Returns:
        {"statements_planned", "codes", "pages", "traces", "recalls", "seconds", "stopped"}: stopped is None when
        the budget was spent reading, "time" when it ran out while planning, "nothing to read" for a store without
        lots, "database: ..." when the database does not answer, "error: ..." otherwise; it never raises.
    """
    done: dict[str, Any] = {"statements_planned": 0, "codes": 0, "pages": 0, "traces": 0, "recalls": 0,
                            "seconds": 0.0, "stopped": None}
    started = time.monotonic()
    deadline = started + seconds

    def step() -> bool:
        done["seconds"] = round(time.monotonic() - started, 3)
        if progress is not None:
            progress(dict(done))
        return time.monotonic() < deadline

    try:
        graph.ping()  # a server that is down answers at once here; a query would retry for seconds
        sampled = samples.sample_codes(graph, codes)
        done["codes"] = len(sampled)
        if _plan(graph, sampled, done, step):
            _read(graph, sampled, done, step)
        elif done["stopped"] is None:
            done["stopped"] = "time"
    except GraphError as exc:
        done["stopped"] = f"database: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - a warm-up reports what stopped it, it never fails its caller
        log.exception("warming Neo4j failed")
        done["stopped"] = f"error: {type(exc).__name__}"
    done["seconds"] = round(time.monotonic() - started, 3)
    return done


def _variants(params: dict, may_be_empty: tuple[str, ...]) -> list[dict]:
    """The parameters with each named list full and empty, in every combination."""
    out = []
    for empties in itertools.product((False, True), repeat=len(may_be_empty)):
        out.append({**params, **{name: [] for name, empty in zip(may_be_empty, empties, strict=True) if empty}})
    return out


def _plan(graph: Graph, sampled: list[dict], done: dict, step: Callable[[], bool]) -> bool:
    """Run each hot write statement in rolled-back transactions; False when the time ran out first."""
    try:
        with graph.driver.session(database=graph.database, bookmark_manager=graph.bookmarks) as session:
            for seen in (False, True):  # planned apart: whether the transaction already wrote is in the cache key
                for cypher, params, may_be_empty in _CAPTURE:
                    for values in _variants(params, may_be_empty):
                        _rolled_back(session, seen, lambda tx, c=cypher, v=values: tx.run(c, v).consume())
                        done["statements_planned"] += 1
                        if not step():
                            return False
            for batch in _scan_batches(sampled):
                # The scan writer's own unit of work, on real codes, always rolled back: each of its statements
                # with the parameters it really builds (a lot's scan, an item's scan that updates its summary).
                _rolled_back(session, False, lambda tx, b=batch: scan_log._record_scans(tx, b, set(), {}))
                done["statements_planned"] += 1
                if not step():
                    return False
    except GraphError:
        raise
    except Exception as exc:  # noqa: BLE001 - driver errors become graph errors (Unavailable: stopped)
        raise translate(exc) from exc
    return True


def _rolled_back(session: Any, seen: bool, work: Callable[[Any], object]) -> None:
    tx = session.begin_transaction()
    try:
        if seen:
            tx.run(_SEEN).consume()
        work(tx)
    finally:
        tx.rollback()


def _scan_batches(sampled: list[dict]) -> list[list[dict]]:
    """A lot code's scan, an item code's scan and both in one batch (the writer's shapes), for codes that exist."""
    lots = [c for c in sampled if not c["serial"]][:1]
    items = [c for c in sampled if c["serial"]][:1]

    def scans(found: list[dict]) -> list[dict]:
        now = datetime.now(UTC)
        return [{"scan_id": f"graph-warm:{uuid.uuid4()}", "time": now, "gtin": c["gtin"], "lot": c["lot"],
                 "serial": c["serial"], "verdict": "genuine", "fp": f"graph-warm:{uuid.uuid4().hex}", "net": None,
                 "lat": None, "lon": None, "region": None} for c in found]

    batches = [scans(lots), scans(items), scans(lots + items)] if lots and items else [scans(lots or items)]
    return [b for b in batches if b]


def _read(graph: Graph, sampled: list[dict], done: dict, step: Callable[[], bool]) -> None:
    """Read the consumer page of each code (and trace each lot), round and round, until the time is spent."""
    if _recall_notices(graph, done) and not step():
        return
    if not sampled:
        done["stopped"] = "nothing to read"
        return
    for c in itertools.cycle(sampled):
        try:
            scan.page(graph, c["gtin"], c["lot"], c["serial"])
        except NotFound:
            pass  # an item sampled a moment ago, gone or moved: the read ran all the same
        done["pages"] += 1
        if not step():
            return
        if not c["serial"]:
            trace.trace(graph, lot_key(c["gtin"], c["lot"]), "both")
            done["traces"] += 1
            if not step():
                return


def _recall_notices(graph: Graph, done: dict) -> bool:
    """The public notice of the newest recall case (bounded: a huge case's lots are cut at the notice's limit)."""
    cases = recall_cases.list_cases(graph, {}, None, limit=1)["cases"]
    if not cases:
        return False
    try:
        recall_cases.public_notice(graph, cases[0]["recall_id"])
    except NotFound:
        return False  # a drill has no public notice
    done["recalls"] += 1
    return True
