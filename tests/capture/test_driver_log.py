"""What capture sends the driver is never spelled out for its debug log, and the server still gets every value.

The driver formats each statement's parameters for its debug log before the log level is consulted (neo4j 6.4's Bolt
``run``): for a 1,000-event document that was ~2 MB of repr and 20-28 ms of CPU per document, on every capture,
with the log off. graph/driver.quiet wraps the parameters (Rows, Text) so the log names them by size. With the
driver's debug log switched on, a capture's log holds no event, lot or document of the request, no line is long, and
the store holds exactly what was sent.
"""

from __future__ import annotations

import json
import logging

import neo4j._rust.codec.packstream.v1 as rust_packstream
import pytest

from graph import bulk
from graph.driver import Rows, Text, quiet
from graph.migrate import migrate
from scripts.gen.network import Network
from tests.capture.test_capture_cycles import _fresh_namespace


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def driver_debug_log():
    """The driver's own debug log, switched on and collected (as an operator chasing a problem would)."""
    logger, handler = logging.getLogger("neo4j"), _Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_quiet_parameters_pack_as_the_plain_values_and_repr_in_a_few_bytes():
    rows = [{"event_id": f"urn:uuid:{i}", "doc": "x" * 600, "q": 1.5, "tags": ["a", None]} for i in range(300)]
    params = quiet({"rows": rows, "doc": "y" * 5000, "name": "short", "n": 7, "props": {"a": 1}})
    assert type(params["rows"]) is Rows and type(params["doc"]) is Text
    assert type(params["name"]) is str and params["n"] == 7 and type(params["props"]) is dict
    assert rust_packstream.pack(params) == rust_packstream.pack(
        {"rows": rows, "doc": "y" * 5000, "name": "short", "n": 7, "props": {"a": 1}})
    assert repr(params["rows"]) == "<300 rows>" and repr(params["doc"]) == "<text of 5000 characters>"
    assert params["rows"] == rows and params["doc"] == "y" * 5000


def test_a_capture_with_the_driver_debug_log_on_logs_none_of_the_document(graph, driver_debug_log):
    """A 400-event document of a generated network (transformations, pallets, shipments) through the write path."""
    migrate(graph)
    net = Network("XS", 11, _fresh_namespace(graph))
    bulk.load_master(graph, net.master())
    doc = next(doc for doc, _ in net.documents(400))
    events = doc["epcisBody"]["eventList"]
    driver_debug_log.clear()

    job = bulk.capture_events(graph, doc)

    assert len(job.captured) == len(events) == 400
    runs = [line for line in driver_debug_log if "C: RUN" in line]
    assert len(runs) >= 8, "the driver's debug log was not collected"
    logged = "\n".join(driver_debug_log)
    ids = [ev["eventID"] for ev in events]
    assert not [i for i in ids if i in logged], "an eventID of the document is in the driver's log"
    assert "epcisBody" not in logged and '"bizStep"' not in logged
    assert max(map(len, runs)) < 8000, "a statement's parameters were spelled out in the driver's log"

    # the server got every value: each event's stored document is the event sent, with its record time
    stored = graph.query("UNWIND $ids AS id MATCH (e:Event {event_id: id}) RETURN e.event_id AS id, e.doc AS doc",
                         read=True, ids=ids)
    assert len(stored) == 400
    by_id = {r["id"]: json.loads(r["doc"]) for r in stored}
    for ev in events:
        kept = by_id[ev["eventID"]]
        assert {k: v for k, v in kept.items() if k != "recordTime"} == ev


def test_one_row_statements_answer_their_lists_as_sent_and_refuse_a_second_row(graph):
    """graph/driver.tx_single: the columns of the one row, lists as the server collected them; a statement that
    answers two rows is a bug in it, not something to take the first of."""
    from neo4j.exceptions import ResultNotSingleError

    from graph.driver import tx_single

    keys = [f"k{i}" for i in range(1500)]
    got = graph.read(lambda tx: tx_single(tx, "UNWIND $keys AS k RETURN collect(k) AS keys, count(*) AS n", keys=keys))
    assert got == {"keys": keys, "n": 1500}
    with pytest.raises(ResultNotSingleError):
        graph.read(lambda tx: tx_single(tx, "UNWIND [1, 2] AS i RETURN i"))
