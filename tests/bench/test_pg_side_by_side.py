"""The PostgreSQL side by side (scripts/bench_pg.py) at XS: Neo4j and PostgreSQL give the same answers.

The first 2,000 events of an XS network (a fresh company-prefix namespace) and a small wide recall network are
captured into the test Neo4j and COPYed into a throwaway PostgreSQL cluster the module starts. Trace back, trace
forward and the recall fan-out must then give, from every engine (Neo4j's walk and product trace, both SQL
variants), the sets this test computes itself from the raw EPCIS events; and a difference between the engines must
fail the comparison.
Skipped, with one reason, where PostgreSQL's initdb/pg_ctl are not installed. About a minute.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict

import psycopg
import pytest

from scripts import bench_pg

pytestmark = pytest.mark.skipif(bench_pg.pg_bindir() is None, reason=bench_pg.INSTALL_HINT)

SEED = 20261204
WIDE_LOTS, WIDE_RETAILERS = 200, 5
BATCHES = 2  # the first 2,000 events of the XS network (of ~4,500): the test stays near a minute on a busy box


def _ref(uri: str):
    from gs1.identifiers import parse_identifier

    ref = parse_identifier(uri)
    return ref if ref.kind in ("lot", "item", "sscc") else None


def independent_edges(events: list[dict]) -> dict[str, set[str]]:
    """Downstream edges read straight off the EPCIS JSON: inputs -> outputs, packed child -> parent (ADD), lot ->
    its items."""
    down: dict[str, set[str]] = defaultdict(set)

    def refs(ev: dict, epcs: str, quantities: str) -> list:
        out = [_ref(u) for u in ev.get(epcs, [])] + [_ref(q["epcClass"]) for q in ev.get(quantities, [])]
        return [r for r in out if r is not None]

    for ev in events:
        inputs, outputs = refs(ev, "inputEPCList", "inputQuantityList"), refs(ev, "outputEPCList",
                                                                              "outputQuantityList")
        for a in inputs:
            for b in outputs:
                down[a.key].add(b.key)
        children = refs(ev, "childEPCs", "childQuantityList")
        if ev["type"] == "AggregationEvent" and ev.get("action") == "ADD" and ev.get("parentID"):
            for c in children:
                down[c.key].add(_ref(ev["parentID"]).key)
        for r in inputs + outputs + children + refs(ev, "epcList", "quantityList"):
            if r.kind == "item" and r.lot:
                down[f"lot:{r.gtin}:{r.lot}"].add(r.key)
    return down


def reach(edges: dict[str, set[str]], start: str) -> frozenset:
    """Every key reachable from start over edges, start included."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return frozenset(seen)


@pytest.fixture(scope="module")
def side(graph):
    """Both stores loaded with the same events; yields (graph, PostgreSQL connection, events, wide network)."""
    from graph import bulk
    from graph.migrate import migrate
    from scripts.bench_trace import build_wide, wide_network
    from scripts.gen.network import CONTEXT, Network, document

    migrate(graph)
    rng = random.SystemRandom()
    for _ in range(200):  # a namespace this network was never loaded into (900-999: tests/factories.py)
        ns = rng.randrange(100, 898)
        glns = [p["gln"] for p in Network("XS", SEED, ns).master()["parties"][:3]]
        if not graph.query("MATCH (p:Party) WHERE p.gln IN $glns RETURN p.gln LIMIT 1", read=True, glns=glns):
            break
    net = Network("XS", SEED, ns)
    bulk.load_master(graph, net.master())
    events = []
    for batch, _ in itertools.islice(net.batches(1000), BATCHES):  # a prefix: events come in dependency order
        job = bulk.capture_events(graph, document(batch))
        assert job.errors == []
        events += batch
    wide_seed = rng.getrandbits(64)
    farm, wide = wide_network(WIDE_LOTS, WIDE_RETAILERS, random.Random(wide_seed))
    build_wide(graph, WIDE_LOTS, WIDE_RETAILERS, random.Random(wide_seed))
    with bench_pg.Postgres({"shared_buffers": "128MB"}) as pg, pg.connect() as conn:
        bench_pg.load_pg(conn, [events, wide], CONTEXT)
        yield graph, conn, events, (farm, wide)


def test_every_engine_gives_the_independent_answer(side):
    """Back from retail packs, forward from origin lots, and the wide recall with its holders, all engines."""
    graph, conn, events, (farm, wide) = side
    down = independent_edges(events)
    up: dict[str, set[str]] = defaultdict(set)
    for a, bs in down.items():
        for b in bs:
            up[b].add(a)
    keys = set(down) | set(up)
    rnd = random.Random(SEED)
    ends = sorted(k for k in keys if k in up and not down.get(k))  # retail packs: items, cases, bag lots
    retail = rnd.sample(ends, min(10, len(ends)))
    starts = sorted(k for k in keys if k.startswith("lot:") and k not in up and down.get(k))
    origins = rnd.sample(starts, min(6, len(starts)))
    print(f"\n{len(ends)} retail ends, {len(starts)} origin lots in the first {len(events):,} events of the XS network")
    assert any(len(reach(up, k)) >= 4 for k in retail)  # the packs have real ancestry to find

    for question, starts, edges in (("back", retail, up), ("forward", origins, down)):
        times, sizes = bench_pg.compare(graph, conn, question, starts, runs=1)
        assert set(times) == set(bench_pg.ENGINES)
        for key in starts:
            expected = reach(edges, key)
            for name, fn in (("neo4j", bench_pg.neo4j_answer), ("product", bench_pg.product_trace)):
                assert fn(graph, question, key)[0] == expected, (name, question, key)
            for variant in bench_pg.PG_VARIANTS:
                assert bench_pg.pg_answer(conn, variant, question, key)[0] == expected, (variant, question, key)

    # the recall: the farm lot, the mill lot, every bag lot; each bag held by the retailer that received it
    held = {(ev["destinationList"][0]["destination"].rsplit("/", 1)[-1], _ref(q["epcClass"]).key)
            for ev in wide if ev.get("bizStep") == "receiving" for q in ev["quantityList"]
            if "/10/B" in q["epcClass"]}
    assert len(held) == WIDE_LOTS
    wide_down = independent_edges(wide)
    bench_pg.compare(graph, conn, "recall", [farm], runs=1)
    for variant in bench_pg.PG_VARIANTS:
        keys, holders = bench_pg.pg_answer(conn, variant, "recall", farm)
        assert keys == reach(wide_down, farm) and len(keys) == WIDE_LOTS + 2
        assert holders == held, variant
    assert bench_pg.neo4j_answer(graph, "recall", farm) == (reach(wide_down, farm), held)


def test_a_difference_between_the_engines_fails_the_comparison(side):
    """One lineage row lost in PostgreSQL: the comparison raises Mismatch naming the start."""
    graph, conn, events, _ = side
    down = independent_edges(events)
    lot, items = next((a, bs) for a, bs in sorted(down.items()) if a.startswith("lot:")
                      and any(b.startswith("item:") for b in bs))
    item = sorted(b for b in items if b.startswith("item:"))[0]
    with conn.transaction():  # undone at the end (psycopg.Rollback): the other test sees the whole store
        conn.execute("DELETE FROM lineage WHERE src = (SELECT id FROM objects WHERE key = %s) "
                     "AND dst = (SELECT id FROM objects WHERE key = %s)", [lot, item])
        with pytest.raises(bench_pg.Mismatch, match=re.escape(f"back from {item}: pg lineage table differs")):
            bench_pg.compare(graph, conn, "back", [item], runs=1)
        raise psycopg.Rollback()
