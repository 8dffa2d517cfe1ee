"""Neo4j's bulk importer (graph/history_import.py, scripts/import_history.py) builds the graph the write path builds.

One network is loaded twice: through the bulk write path (scripts/gen/load.py load_bulk) into the shared test
database under a namespace no test used, and through the importer into an empty store of its own (a private server
on a free port, stopped at the end). Then both are dumped whole (every label, property and outgoing relationship of
the namespace, with its capture jobs and alerts) and compared as canonical sorted lists; traces and the consumer
page's lot query are compared on a sample of lots. TG_IMPORT_TEST_SCALE picks the scale (default XS; S is the full
check, ~5 min on 2 busy cores).

What differs, by nature, and is set aside (INHERENT): the instants the server or the capture took from its clock
(``created_at`` of every node the load created, an event's ``record_time`` and the ``recordTime`` inside its stored
document, a capture job's ``created_at``/``finished_at``, an alert's ``raised_at``), and the random IDs of one run
(a capture job's ``capture_id``, also kept on each of its events; an alert's ``alert_id``). A capture job is known
by the events it captured instead, an alert by its dedupe key.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
from collections import Counter
from datetime import date

import pytest
from neo4j.time import Date, DateTime

from graph import bulk, cold_chain, events, scan, trace
from graph.driver import Graph
from graph.history_import import (
    SHARED_IDS,
    CsvWriter,
    ImportUnsupported,
    MemoryStore,
    Prepared,
    _combine,
    _MemoryGraph,
    dump,
    finish_online,
    prepare_parallel,
)
from graph.migrate import migrate
from scripts.gen.load import load_bulk
from scripts.gen.network import Network
from scripts.import_history import chain_groups, from_network, neo4jctl, run_importer
from tests.bench.test_load_paths import _loaded_before
from tests.capture.helpers import document, event_id, loc
from tests.factories import gtin, lot_code
from tests.trace.network import fresh_sscc, item_uri, sscc_uri

SCALE = os.environ.get("TG_IMPORT_TEST_SCALE", "XS")
SEED = 20250611
BATCH = 1000
PARTS = chain_groups(3)  # one process per chain, as import_history.py builds it by default
TODAY = date(2026, 6, 1)  # certificates and expiry on the consumer page are judged against a fixed day

INHERENT = {
    "*": {"created_at"},
    "Event": {"record_time", "capture_id"},
    "Capture": {"capture_id", "created_at", "finished_at"},
    "Alert": {"alert_id", "raised_at"},
}
_KEY = {"Party": "gln", "Product": "gtin", "Event": "event_id", "Alert": "dedupe_key", "Capture": "capture_id"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _value(v):
    """A property value with its type: 5 and 5.0, a datetime and its text, differ."""
    if isinstance(v, DateTime):
        return ("datetime", v.iso_format())
    if isinstance(v, Date):
        return ("date", v.iso_format())
    if isinstance(v, list):
        return ("list", tuple(_value(x) for x in v))
    return (type(v).__name__, v)


def canonical(rows: list[dict]) -> tuple[list, list]:
    """(sorted nodes, sorted relationships) with the inherent differences set aside."""
    jobs: dict[str, str] = {}  # capture_id -> the job's first eventID: a job is known by what it captured
    for row in rows:
        if "Event" in row["labels"]:
            cid, eid = row["props"]["capture_id"], row["props"]["event_id"]
            jobs[cid] = min(jobs.get(cid, eid), eid)

    def ident(labels: list[str], props: dict) -> tuple[str, str]:
        label = labels[0]
        key = props.get(_KEY.get(label, "key"))
        return label, jobs.get(key, key) if label == "Capture" else key

    nodes, rels = [], []
    for row in rows:
        label = row["labels"][0]
        props = dict(row["props"])
        me = ident(row["labels"], props)
        for name in INHERENT["*"] | INHERENT.get(label, set()):
            props.pop(name, None)
        if label == "Event":
            doc = json.loads(props.pop("doc"))
            doc.pop("recordTime")
            props["doc"] = json.dumps(doc, sort_keys=True, ensure_ascii=False)
            props["capture"] = jobs[row["props"]["capture_id"]]
        nodes.append((tuple(sorted(row["labels"])), me, tuple(sorted((k, _value(v)) for k, v in props.items()))))
        for r in row["out"]:
            rels.append((r["type"], me, ident(r["labels"], r["end"]),
                         tuple(sorted((k, _value(v)) for k, v in r["props"].items()))))
    return sorted(nodes, key=repr), sorted(rels, key=repr)


_UNORDERED = {"sources", "destinations"}  # collected by the trace in the store's edge order, not sorted by it


def _without_clock(value):
    """A trace or page answer with the inherent instants and IDs removed (same names as INHERENT), and the lists the
    query does not order (_UNORDERED: their order is where the edges lie in the store) sorted."""
    drop = {"created_at", "record_time", "recordTime", "capture_id", "raised_at", "alert_id"}
    if isinstance(value, dict):
        return {k: sorted(map(_without_clock, v), key=repr) if k in _UNORDERED and isinstance(v, list)
                else _without_clock(v) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


@pytest.fixture(scope="module")
def namespace(graph):
    migrate(graph)
    rng = random.SystemRandom()
    for _ in range(200):
        ns = rng.randrange(100, 898)
        if not _loaded_before(graph, ns) and not _loaded_before(graph, ns + 1):
            return ns
    pytest.fail("no unused company-prefix namespace left in the test database")


@pytest.fixture(scope="module")
def imported(namespace, tmp_path_factory):
    """The network imported into an empty store; a server on it (stopped at the end)."""
    home = tmp_path_factory.mktemp("import-neo4j")
    port = _free_port()
    net = Network(SCALE, SEED, namespace)
    # in three processes (rice | ginseng | beef), sharing master data and locations
    sources = [lambda group=group: from_network(net.again(), BATCH, group) for group in PARTS]
    prepared = prepare_parallel(net.master(), sources, home / "csv")
    assert prepared.parts == 3
    assert prepared.errors == []
    run_importer(prepared, home)
    neo4jctl("start", home, port, "1g", "256")
    g = Graph(f"bolt://127.0.0.1:{port}")
    try:
        migrate(g)
        finish_online(g, prepared)
        yield g, prepared
    finally:
        g.close()
        neo4jctl("stop", home, port, "1g", "256")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def reference(graph, namespace):
    """The same network through the write path, in the shared test database."""
    stats = load_bulk(graph, Network(SCALE, SEED, namespace), batch=BATCH, parts=PARTS)
    assert stats.errors == []
    return stats


def test_import_builds_the_graph_the_write_path_builds(graph, namespace, imported, reference):
    """Every node, property and relationship is equal, the inherent differences (INHERENT) set aside."""
    g, prepared = imported
    prefix = f"69{namespace:03d}"
    ref_nodes, ref_rels = canonical(dump(graph, prefix))
    imp_nodes, imp_rels = canonical(dump(g, prefix))
    labels = Counter(n[0][0] for n in ref_nodes)
    assert labels["Event"] == reference.events == prepared.events > 0
    assert labels["Lot"] and labels["Item"] and labels["Capture"] and labels["Inspection"]
    assert labels["Alert"] > 0  # cold-chain excursions of beef cuts: judged in the CSV stage, raised at the end
    assert {r[0] for r in ref_rels} >= {"HOLDS", "TRANSFORMED_INTO", "PACKED_IN", "HAS_ITEM", "OF_PRODUCT"}
    assert _difference(ref_nodes, imp_nodes) == []
    assert _difference(ref_rels, imp_rels) == []


def _difference(ref: list, imp: list) -> list:
    """The first few entries of either list the other lacks, paired by identity: [(reference, import)]."""
    missing, extra = Counter(ref) - Counter(imp), Counter(imp) - Counter(ref)
    by_id = {x[:-1]: x for x in extra}
    return [(m, by_id.get(m[:-1])) for m in list(missing)[:3]] + [(None, x) for x in list(extra)[:3]
                                                                   if x[:-1] not in {m[:-1] for m in missing}]


def test_traces_and_consumer_page_agree_on_a_sample(graph, namespace, imported, reference):
    """Trace (both ways) and the consumer page's lot query answer the same for sampled lots of either graph."""
    g, _ = imported
    prefix = f"69{namespace:03d}"
    lots = sorted(row["props"]["key"] for row in dump(g, prefix) if row["labels"] == ["Lot"])
    sample = random.Random(SEED).sample(lots, min(30, len(lots)))
    for key in sample:
        assert _without_clock(trace.trace(graph, key)) == _without_clock(trace.trace(g, key)), key
        _, gtin, lot = key.split(":", 2)
        one, two = scan.page(graph, gtin, lot, today=TODAY), scan.page(g, gtin, lot, today=TODAY)
        assert _without_clock(one) == _without_clock(two), key


def test_what_an_event_carried_is_the_same_from_memory_as_from_the_store(graph, namespace, reference, tmp_path):
    """MemoryStore.carried, which the import judges cold-chain events by, answers graph/cold_chain._CARRIED as the
    store the write path built does, for every event of the network (lots named, lots of items named, and what
    pallets and cartons held at the event's time, 8 deep): the same rows, the same lots in the same order."""
    net = Network(SCALE, SEED, namespace)
    store = MemoryStore(CsvWriter(tmp_path))
    store.load_master(net.master())
    memory, captured = _MemoryGraph(store), []
    for group in PARTS:  # the documents of the reference load
        for doc, inspections in from_network(net.again(), BATCH, group):
            if doc["epcisBody"]["eventList"]:
                bulk.capture_events(memory, doc, events.Policy(alerts=False))
                captured += bulk.normalize_document(doc)
            if inspections:
                store.upsert_inspections(inspections)
    nested, expected = _nested(net.master()["parties"][0]["gln"])
    for target in (graph, memory):
        bulk.capture_events(target, nested, events.Policy(alerts=False))
    captured += bulk.normalize_document(nested)
    store.out.close()
    evs = [ev for _, ev in captured]
    from_memory = store.carried(evs)
    from_store = sorted(graph.query(cold_chain._CARRIED, read=True, ids=[ev.event_id for ev in evs]),
                        key=lambda row: row["event_id"])
    assert len(from_memory) == len(from_store) > len(evs) // 2
    assert [r["event_id"] for r in from_memory] == [r["event_id"] for r in from_store]
    for mine, theirs in zip(from_memory, from_store, strict=True):
        assert mine == theirs, mine["event_id"]
    # the packing is walked: events naming a logistic unit carried the lots of what was on it
    by_id = {ev.event_id: ev for ev in evs}
    on_units = [r for r in from_memory if any(eq.ref.kind == "sscc" for eq in by_id[r["event_id"]].objects)
                or (by_id[r["event_id"]].parent is not None and by_id[r["event_id"]].parent.kind == "sscc")]
    assert len(on_units) > 50
    # three deep, at the packings' instants, in two notations of time (computed by hand, above)
    mine = {r["event_id"]: [lot["key"] for lot in r["lots"]] for r in from_memory}
    assert {eid: mine.get(eid) for eid in expected} == expected


def _nested(gln: str) -> tuple[dict, dict[str, list[str] | None]]:
    """Items of two lots in cases, the cases on a pallet, the pallet in a container, and who carried what: the
    container's shipment carries both lots (three packings down); a look at the container before the pallet went in
    carries nothing, one at that instant (written in UTC) carries both; an item packed after the shipment is not
    carried by it. Returns the document and {eventID: the lot keys it carried, in key order, or None}."""
    g, lots = gtin(), sorted(lot_code() for _ in range(3))
    a, b, late = lots
    case1, case2, pallet, container = (fresh_sscc() for _ in range(4))
    items = {lot: [item_uri(g, f"{lot}{n}", lot) for n in range(2)] for lot in lots}

    def at(hour: str, **fields) -> dict:
        when = {"eventTime": f"2026-09-22T{hour}", "eventTimeZoneOffset": "+08:00", "eventID": event_id(),
                "readPoint": loc(gln)}
        return {**when, **fields}

    def pack(hour: str, parent: str, children: list[str]) -> dict:
        return at(hour, type="AggregationEvent", action="ADD", bizStep="packing", parentID=parent,
                  childEPCs=children)

    made = at("08:00:00+08:00", type="ObjectEvent", action="ADD", bizStep="commissioning",
              epcList=[i for lot in lots for i in items[lot]])
    look_before = at("10:30:00+08:00", type="ObjectEvent", action="OBSERVE", bizStep="inspecting",
                     epcList=[sscc_uri(container)])
    look_at = at("03:00:00Z", type="ObjectEvent", action="OBSERVE", bizStep="inspecting",
                 epcList=[sscc_uri(container)])
    shipped = at("12:00:00+08:00", type="ObjectEvent", action="OBSERVE", bizStep="shipping",
                 epcList=[sscc_uri(container)])
    doc = document(made, pack("09:00:00+08:00", sscc_uri(case1), items[a]),
                   pack("09:30:00+08:00", sscc_uri(case2), items[b]),
                   pack("10:00:00+08:00", sscc_uri(pallet), [sscc_uri(case1), sscc_uri(case2)]),
                   look_before, pack("11:00:00+08:00", sscc_uri(container), [sscc_uri(pallet)]), look_at, shipped,
                   pack("05:00:00Z", sscc_uri(case1), items[late]))
    both = [f"lot:{g}:{a}", f"lot:{g}:{b}"]
    return doc, {shipped["eventID"]: both, look_at["eventID"]: both, look_before["eventID"]: None}


def _fails(kind: str):
    """A part's batches that end its process (as the kernel's out-of-memory killer would) or refuse a document."""
    def batches():
        if kind == "killed":
            os._exit(9)
        raise ImportUnsupported("an errorDeclaration of an event stored by an earlier document")
        yield  # a generator, as a part's batches are
    return batches


@pytest.mark.parametrize("kind", ["killed", "refused"])
def test_a_part_that_dies_or_refuses_stops_the_import_and_never_hangs(kind, tmp_path):
    """One part killed mid-way (no answer ever comes from it) stops the import with an error naming the part; one
    that refuses raises its own error in the importing process. The other part is stopped either way."""
    net = Network("XS", SEED, 0)
    sources = [lambda: from_network(net.again(), BATCH, ("rice",)), _fails(kind)]
    expected = (RuntimeError, "part 1 of the import ended without an answer") if kind == "killed" else \
        (ImportUnsupported, "errorDeclaration")
    with pytest.raises(expected[0], match=expected[1]):
        prepare_parallel(net.master(), sources, tmp_path / "csv")


def test_two_shared_nodes_with_one_importer_id_stop_the_import(tmp_path):
    """Shared nodes' importer IDs are hashes of label and key: parts that made two different nodes under one ID
    (odds of ~1 in 7 million for 100,000 of them) stop the import rather than write one node for both."""
    one, two = (Prepared(tmp_path / name) for name in ("one", "two"))
    one.shared.nodes[SHARED_IDS + 7] = ("Party", {"gln": "6912345000019"})
    two.shared.nodes[SHARED_IDS + 7] = ("Location", {"key": "loc:6912345000026"})
    with pytest.raises(ImportUnsupported, match="Party:6912345000019 and Location:loc:6912345000026"):
        _combine(tmp_path / "combined", [one, two])
    two.shared.nodes[SHARED_IDS + 7] = ("Party", {"gln": "6912345000019", "name_zh": "同一个"})
    assert _combine(tmp_path / "again", [one, two]).nodes == 1
