"""`flask graph warm` (graph/warm.py): a restarted Neo4j gets its plans, JIT and page cache before traffic, and
nothing is written.

Neo4j 5.26 Community shows no query cache's entries (its metrics and query log are Enterprise's; db.stats QUERIES
anonymises list parameters and keeps only a query's first 100 invocations, so a shared server's runs cannot be told
apart). What a client sees is the time until its result is available, planning included: a few tens of ms for a
statement planned from an empty cache, 0-1 ms for one whose plan is cached (after an EXPLAIN: about 6). The plan
test compares the two for the same statement and parameters; it clears the test server's query caches (other tests
lose only time, never a result).
"""

from __future__ import annotations

import re
import socket
import time
import uuid

from graph import events, samples, scan_log
from graph.driver import Graph
from graph.warm import warm
from gs1.identifiers import item_key, lot_key
from tests.fingerprint import unchanged
from tests.graph.test_access_modes import RecordingGraph


def _first_record_ms(graph, cypher: str, params: dict, written: bool) -> int:
    """Milliseconds until the statement's result was available (planning included), in a rolled-back transaction
    that has (``written``) or has not written before it."""
    with graph.driver.session(database=graph.database) as session:
        tx = session.begin_transaction()
        try:
            if written:
                tx.run("CREATE ()").consume()  # a change of its own: no label, no property, rolled back
            return tx.run(cypher, params).consume().result_available_after
        finally:
            tx.rollback()


# The parameters the real first calls give (a lot registered by its farm, a consumer's scan of a lot code), built
# here, not by the code under test: the plan cache key holds each parameter's type (an empty list is another key).
_LOT, _GLN = "lot:09506000134352:TW-1", "9506000134352"
_REAL = {
    "capture's lock": (events._LOCK, (False, True), {"lots": [_LOT], "items": [], "units": [], "glns": [_GLN]}),
    "capture's event write": (events._CREATE_EVENTS, (False, True), {"rows": [{
        "props": {"event_id": "tw-" + uuid.uuid4().hex, "type": "ObjectEvent"},
        "event_time": "2026-09-20T08:00:00Z", "record_time": "2026-09-20T08:00:01Z"}]}),
    # the scan writer reads before it writes: its look-up runs in a transaction that has not written yet
    "the scan writer's look-up": (scan_log._LAST_BY_CLIENT, (False,), {"probes": [
        {"fp": "tw-" + uuid.uuid4().hex, "gtin": "09506000134352", "lot": "TW-1", "serial": "",
         "since": 1_790_000_000_000_000}]}),
}


def test_after_warm_the_first_real_run_of_each_hot_write_statement_is_not_planned_again(graph):
    cold = {}
    for name, (cypher, states, params) in _REAL.items():
        for written in states:
            graph.query("CALL db.clearQueryCaches()")
            cold[name, written] = _first_record_ms(graph, cypher, params, written)
    graph.query("CALL db.clearQueryCaches()")
    done = warm(graph, seconds=8, codes=2)
    assert done["stopped"] is None, done  # planning ended before the budget: the reads ran
    after = {(name, written): _first_record_ms(graph, cypher, params, written)
             for name, (cypher, states, params) in _REAL.items() for written in states}
    compared = {k: (cold[k], after[k]) for k in cold if cold[k] >= 5}  # quicker: a cached plan looks the same
    assert compared, f"every statement planned in under 5 ms from an empty cache: nothing to tell apart {cold}"
    planned_again = {k: v for k, v in compared.items() if v[1] >= v[0] / 10}
    assert not planned_again, f"(cold ms, ms after warm) of statements planned again: {planned_again}"


def test_warm_writes_nothing(graph):
    codes = samples.sample_codes(graph, 5)
    assert codes, "the shared test store holds lots"
    keys = [item_key(c["gtin"], c["serial"]) if c["serial"] else lot_key(c["gtin"], c["lot"]) for c in codes]
    keys += [lot_key(c["gtin"], c["lot"]) for c in codes]
    marked = """
        CALL () { MATCH (s:Scan) WHERE s.fp STARTS WITH 'graph-warm:' OR s.scan_id STARTS WITH 'graph-warm:'
                  RETURN count(s) AS n
                  UNION ALL MATCH (n) WHERE n.key = 'warm:none' OR n.gln = 'warm:none' RETURN count(n) AS n
                  UNION ALL MATCH (e:Event {event_id: 'warm:none'}) RETURN count(e) AS n
                  UNION ALL MATCH (c:Capture {capture_id: 'warm:none'}) RETURN count(c) AS n }
        RETURN sum(n) AS n
    """
    scanned = "UNWIND $keys AS k MATCH (l:Lot {key: k}) RETURN count { (l)<-[:SCANNED]-() } AS n ORDER BY k"
    before = graph.query(scanned, keys=keys)
    with unchanged(graph, keys=keys):
        done = warm(graph, seconds=2, codes=5)
    assert done["statements_planned"] > 0 and done["stopped"] in (None, "time")
    assert graph.query(marked)[0]["n"] == 0
    assert graph.query(scanned, keys=keys) == before


def test_warm_plans_in_write_transactions_then_reads_only_in_read_ones(neo4j_uri):
    rec = RecordingGraph(neo4j_uri)
    try:
        done = warm(rec, seconds=3, codes=3)
    finally:
        rec.close()
    log = rec.driver.log
    assert done["stopped"] is None, done
    assert log.count("write") == done["statements_planned"] > 0
    after_plans = log[len(log) - log[::-1].index("write"):]
    assert after_plans and set(after_plans) == {"read"}
    assert done["pages"] > 0 and done["traces"] > 0 and done["recalls"] <= 1


def test_warm_stops_when_its_time_is_spent(graph):
    started = time.monotonic()
    calls = []

    def progress(counts):
        calls.append(counts)
        if time.monotonic() - started > 30:
            raise RuntimeError("warm ran past its budget")

    done = warm(graph, seconds=1, codes=2, progress=progress)
    assert done["stopped"] in (None, "time"), done
    assert time.monotonic() - started < 30
    assert calls and calls[-1]["seconds"] <= done["seconds"]


def test_warm_with_nothing_to_sample_plans_and_says_so(graph):
    done = warm(graph, seconds=5, codes=0)
    assert done["stopped"] == "nothing to read"
    assert done["codes"] == 0 and done["pages"] == 0 and done["traces"] == 0
    assert done["statements_planned"] > 0
    assert done["seconds"] < 5  # it did not wait out its budget with nothing to do


def test_warm_of_a_database_that_is_down_reports_it_and_never_raises():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once the socket is closed
    down = Graph(f"bolt://127.0.0.1:{port}")
    try:
        done = warm(down, seconds=5)
    finally:
        down.close()
    assert done["stopped"].startswith("database: ")
    assert done["statements_planned"] == done["pages"] == 0


def test_flask_graph_warm_prints_progress_and_a_summary(app):
    result = app.test_cli_runner().invoke(args=["graph", "warm", "--seconds", "3", "--codes", "2", "--every", "0.5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(re.match(r"  \d+ s: \d+ write statements planned", line) for line in lines[:-1]), result.output
    summary = re.match(r"warmed in [\d.]+ s: (\d+) write statements planned \(rolled back\), (\d+) consumer pages, "
                       r"(\d+) traces, (\d+) recall notices of (\d+) sampled codes$", lines[-1])
    assert summary, lines[-1]
    assert int(summary[1]) > 0 and int(summary[2]) > 0 and int(summary[5]) > 0
