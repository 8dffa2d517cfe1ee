#!/usr/bin/env python3
"""Side by side: the same generated network in PostgreSQL (recursive CTEs) and in our Neo4j (traversals).

    .venv/bin/python scripts/bench_pg.py --scale M                 # Neo4j: the bench store (bolt 7761) holding M
    .venv/bin/python scripts/bench_pg.py --scale S --load-neo4j    # load S into that Neo4j first
    .venv/bin/python scripts/bench.py --scale M --reuse            # also runs it, as one of the suite's benchmarks

PostgreSQL is Debian's package (`WITH_POSTGRES=1 scripts/setup-system.sh`, or `apt-get install postgresql`); the
benchmark needs its binaries only (initdb, pg_ctl) and never a running server: it initdb's a throwaway cluster in a
temporary directory (as the postgres user when run as root), starts it on a free loopback port, and removes it at
the end. `make run` and `make test` never need PostgreSQL.

What it does:
1. Loads the network the generator makes for (--scale, --seed) -- the same events Neo4j was loaded with, never
   read back from Neo4j -- plus the wide recall network (one farm lot -> --recall-target bag lots shipped to
   --retailers retailers; captured into Neo4j through graph/bulk.py first) into a normalised schema with COPY:
   objects (lots, items, logistic units), events (with the captured JSON, as Neo4j keeps it), event
   objects/inputs/outputs, aggregation children, sources/destinations and custody moves; then the indexes on
   the join keys, two derived tables a team would add (holdings: custody summed per party and object;
   lineage: the input->output, child->parent and lot->item edges, as Neo4j derives them at capture) and
   VACUUM ANALYZE. Custody moves come from the product's own rules (graph/capture_rules.Ledger._plan_custody).
2. Samples start points from Neo4j as scripts/bench_trace.py does (graph/samples.py: retail packs, origin lots),
   keeps those PostgreSQL also has, and times, interleaved start by start:
   - Neo4j: the lineage walk alone (graph/closure.py, the same question SQL answers) and the product's trace
     (graph/trace.py: the walk plus events, holders, parties; what the API serves);
   - PostgreSQL: a recursive CTE over the event tables (no derived data), and one over the lineage table.
   Trace back from a retail pack, trace forward from an origin lot, and the recall fan-out (every object
   downstream of the wide farm lot and who holds it now).
3. Checks that every engine returns the same set for every start (keys; for the recall also (holder, key) pairs):
   one difference fails the run (exit 1; in the suite the benchmark is reported as failed).
4. Prints p50/p99 per engine and the ratios (PostgreSQL / Neo4j walk), the load times and store sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import closure, samples, trace  # noqa: E402
from graph.capture_rules import Ledger, _ilmd_lot  # noqa: E402
from graph.ownership import CUSTODY_KINDS, is_origin  # noqa: E402
from gs1.epcis import context_prefixes, normalize_event  # noqa: E402
from scripts import benchlib  # noqa: E402
from scripts.benchlib import Figure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
INSTALL_HINT = ("PostgreSQL's initdb and pg_ctl are not installed: `WITH_POSTGRES=1 scripts/setup-system.sh` "
                "(Debian's postgresql package), or apt-get install postgresql")
WIDE_SEED = 18  # the wide recall network's seed: the same GLNs, GTINs and eventIDs every run (re-capture is a no-op)
# Settings of the throwaway cluster: memory comparable to the bench Neo4j (2 GiB page cache), durable commits as
# Neo4j's (fsync on), no replication WAL (COPY into tables made in the same transaction skips the WAL), no JIT
# (it adds compile time to every large query, as an OLTP team would turn it off).
PG_SETTINGS = {
    "shared_buffers": "2GB", "effective_cache_size": "4GB", "work_mem": "64MB", "maintenance_work_mem": "512MB",
    "wal_level": "minimal", "max_wal_senders": "0", "max_wal_size": "8GB", "checkpoint_timeout": "30min",
    "synchronous_commit": "off", "jit": "off",
}


class Unavailable(RuntimeError):
    """PostgreSQL's binaries are not on this machine."""


class Mismatch(RuntimeError):
    """The engines answered different sets for the same question."""


# --- the throwaway cluster -----------------------------------------------------------------------------------

def pg_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if (d / "pg_ctl").exists() and (d / "initdb").exists():
            return d
    return None


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A PostgreSQL cluster in a temporary directory for the length of a `with` block."""

    def __init__(self, settings: dict[str, str] | None = None, user: str = "bench"):
        """Choose the binaries; nothing starts before `with`."""
        bindir = pg_bindir()
        if bindir is None:
            raise Unavailable(INSTALL_HINT)
        self.bindir, self.user = bindir, user
        self.settings = {**PG_SETTINGS, **(settings or {})}
        self.dir: Path | None = None
        self.port = 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to Debian's postgres user
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            log = (self.dir / "server.log") if self.dir else None
            tail = log.read_text()[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}\n{tail}")

    def __enter__(self) -> Postgres:
        """initdb and start the cluster; wait until it accepts connections."""
        self.dir = Path(tempfile.mkdtemp(prefix="tracegraph-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        try:
            self._run("initdb", "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C",
                      "--no-sync")
            self.port = free_port()
            opts = " ".join([f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                             f"-c unix_socket_directories={self.dir}"]
                            + [f"-c {k}={v}" for k, v in self.settings.items()])
            self._run("pg_ctl", "-D", str(data), "-l", str(self.dir / "server.log"), "-o", opts, "-w", "-t", "60",
                      "start")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        return self

    @property
    def conninfo(self) -> str:
        """libpq connection string of the cluster."""
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"

    def connect(self, autocommit: bool = True):
        """A psycopg connection to the cluster."""
        import psycopg

        return psycopg.connect(self.conninfo, autocommit=autocommit)

    def __exit__(self, *exc) -> None:
        """Stop the cluster and delete its directory."""
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- the schema and the load ----------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE objects (id bigint NOT NULL, key text NOT NULL, kind text NOT NULL);
CREATE TABLE lots (object_id bigint NOT NULL, gtin text NOT NULL, lot text NOT NULL);
CREATE TABLE items (object_id bigint NOT NULL, gtin text NOT NULL, serial text NOT NULL, lot_id bigint);
CREATE TABLE logistic_units (object_id bigint NOT NULL, sscc text NOT NULL);
CREATE TABLE events (id bigint NOT NULL, event_id text NOT NULL, type text NOT NULL, action text,
                     biz_step text, disposition text, event_time timestamptz NOT NULL, read_point text,
                     biz_location text, erroneous boolean NOT NULL DEFAULT false, doc jsonb NOT NULL);
CREATE TABLE event_objects (event_id bigint NOT NULL, object_id bigint NOT NULL, quantity numeric, uom text);
CREATE TABLE event_inputs (event_id bigint NOT NULL, object_id bigint NOT NULL, quantity numeric, uom text);
CREATE TABLE event_outputs (event_id bigint NOT NULL, object_id bigint NOT NULL, quantity numeric, uom text);
CREATE TABLE aggregation_children (event_id bigint NOT NULL, parent_id bigint NOT NULL, child_id bigint NOT NULL,
                                   quantity numeric, uom text);
CREATE TABLE event_parties (event_id bigint NOT NULL, side text NOT NULL, type text, gln text NOT NULL);
CREATE TABLE custody_moves (event_id bigint NOT NULL, gln text NOT NULL, object_id bigint NOT NULL,
                            d_own numeric NOT NULL, d_shipped numeric NOT NULL, d_received numeric NOT NULL,
                            unit text);
"""

# Keys and the join keys every query below uses, built after COPY (faster than maintaining them row by row).
INDEXES = """
ALTER TABLE objects ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX objects_key ON objects (key);
ALTER TABLE lots ADD PRIMARY KEY (object_id);
ALTER TABLE items ADD PRIMARY KEY (object_id);
CREATE INDEX items_lot ON items (lot_id);
ALTER TABLE logistic_units ADD PRIMARY KEY (object_id);
ALTER TABLE events ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX events_event_id ON events (event_id);
CREATE INDEX events_time ON events (event_time);
CREATE INDEX event_objects_object ON event_objects (object_id, event_id);
CREATE INDEX event_objects_event ON event_objects (event_id);
CREATE INDEX event_inputs_object ON event_inputs (object_id, event_id);
CREATE INDEX event_inputs_event ON event_inputs (event_id, object_id);
CREATE INDEX event_outputs_object ON event_outputs (object_id, event_id);
CREATE INDEX event_outputs_event ON event_outputs (event_id, object_id);
CREATE INDEX aggregation_parent ON aggregation_children (parent_id, child_id);
CREATE INDEX aggregation_child ON aggregation_children (child_id, parent_id);
CREATE INDEX event_parties_event ON event_parties (event_id);
CREATE INDEX custody_moves_object ON custody_moves (object_id);
"""

# Derived once after the load (a capture service would maintain them as it writes): who holds what now, with the
# HOLDS rule (own + max(shipped in, received)); and the lineage edges Neo4j derives at capture.
DERIVED = """
CREATE TABLE holdings AS
SELECT m.gln, m.object_id,
       sum(m.d_own) + greatest(sum(m.d_shipped), sum(m.d_received)) AS quantity,
       greatest(sum(m.d_shipped) - sum(m.d_received), 0) AS pending, max(m.unit) AS unit
  FROM custody_moves m JOIN events e ON e.id = m.event_id AND NOT e.erroneous
 GROUP BY m.gln, m.object_id;
ALTER TABLE holdings ADD PRIMARY KEY (object_id, gln);
CREATE TABLE lineage AS
SELECT i.object_id AS src, o.object_id AS dst FROM event_inputs i
  JOIN event_outputs o ON o.event_id = i.event_id JOIN events e ON e.id = i.event_id AND NOT e.erroneous
UNION
SELECT a.child_id, a.parent_id FROM aggregation_children a
  JOIN events e ON e.id = a.event_id AND e.action = 'ADD' AND NOT e.erroneous
UNION
SELECT lot_id, object_id FROM items WHERE lot_id IS NOT NULL;
CREATE INDEX lineage_src ON lineage (src, dst);
CREATE INDEX lineage_dst ON lineage (dst, src);
"""

_COLUMNS = {
    "events": "id, event_id, type, action, biz_step, disposition, event_time, read_point, biz_location, doc",
    "event_objects": "event_id, object_id, quantity, uom",
    "event_inputs": "event_id, object_id, quantity, uom",
    "event_outputs": "event_id, object_id, quantity, uom",
    "aggregation_children": "event_id, parent_id, child_id, quantity, uom",
    "event_parties": "event_id, side, type, gln",
    "custody_moves": "event_id, gln, object_id, d_own, d_shipped, d_received, unit",
}

_PLANNER = Ledger.__new__(Ledger)  # the product's custody rules (_plan_custody reads only the event)


@dataclass
class PgLoad:
    """What the PostgreSQL load did and how long each phase took (seconds)."""

    events: int = 0
    rows: int = 0
    skipped_classes: int = 0
    convert: float = 0.0  # Python: normalising the EPCIS JSON and making rows (the same parser capture uses)
    copy: float = 0.0
    index: float = 0.0
    derive: float = 0.0
    analyze: float = 0.0
    bytes: int = 0
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Seconds from the first event to a queryable, analysed database."""
        return self.convert + self.copy + self.index + self.derive + self.analyze


class Loader:
    """Turns EPCIS events into rows of the normalised schema and COPYs them in, batch by batch."""

    def __init__(self, conn, context=None):
        """Make the tables (in the load's transaction: COPY into them then skips the WAL)."""
        self.conn, self.prefixes = conn, context_prefixes(context)
        self.ids: dict[str, int] = {}
        self.kinds: dict[str, str] = {}
        self.refs: dict[str, object] = {}
        self.item_lot: dict[str, str] = {}
        self.seen: set[str] = set()
        self.declared: set[str] = set()
        self.next_event = 1
        self.stats = PgLoad()
        with conn.cursor() as cur:
            cur.execute(SCHEMA)

    def _object(self, ref) -> int:
        key = ref.key
        oid = self.ids.get(key)
        if oid is None:
            oid = self.ids[key] = len(self.ids) + 1
            self.kinds[key] = ref.kind
            self.refs[key] = ref
        return oid

    def add(self, raw_events: Iterable[dict]) -> None:
        """Convert and COPY one batch of events."""
        t0 = time.perf_counter()
        rows: dict[str, list[tuple]] = {name: [] for name in _COLUMNS}
        for raw in raw_events:
            ev = normalize_event(raw, "", self.prefixes)
            if ev.error_declaration is not None:
                self.declared.add(ev.event_id)
                continue
            if ev.event_id in self.seen:
                continue
            self.seen.add(ev.event_id)
            eid = self.next_event
            self.next_event += 1
            rows["events"].append((eid, ev.event_id, ev.type, ev.action, ev.biz_step, ev.disposition,
                                   ev.event_time, ev.read_point.key if ev.read_point else None,
                                   ev.biz_location.key if ev.biz_location else None, json.dumps(raw)))
            ilmd_lot = _ilmd_lot(ev) if is_origin(ev) else None
            for table, entries in (("event_objects", ev.objects), ("event_inputs", ev.inputs),
                                   ("event_outputs", ev.outputs)):
                for eq in entries:
                    if eq.ref.kind not in CUSTODY_KINDS:
                        self.stats.skipped_classes += 1
                        continue
                    rows[table].append((eid, self._object(eq.ref), eq.quantity, eq.uom))
            if ev.type == "AggregationEvent" and ev.parent is not None:
                parent = self._object(ev.parent)
                for eq in ev.children:
                    if eq.ref.kind in CUSTODY_KINDS:
                        rows["aggregation_children"].append((eid, parent, self._object(eq.ref), eq.quantity, eq.uom))
            for side, entries in (("source", ev.sources), ("destination", ev.destinations)):
                for sd in entries:
                    if sd.ref.gln:
                        rows["event_parties"].append((eid, side, sd.type, sd.ref.gln))
            for eq in (*ev.objects, *ev.children, *ev.inputs, *ev.outputs):
                ref = eq.ref
                if ref.kind == "item":
                    lot = ref.lot or (ilmd_lot if eq in ev.objects else None)
                    if lot is not None and ref.key not in self.item_lot:
                        self.item_lot[ref.key] = lot
            for gln, ref, d_own, d_ship, d_rec, unit in _PLANNER._plan_custody(ev):
                rows["custody_moves"].append((eid, gln, self._object(ref), d_own, d_ship, d_rec, unit))
        t1 = time.perf_counter()
        self._copy(rows)
        self.stats.convert += t1 - t0
        self.stats.copy += time.perf_counter() - t1
        self.stats.events += len(rows["events"])

    def _copy(self, rows: dict[str, list[tuple]]) -> None:
        with self.conn.cursor() as cur:
            for table, batch in rows.items():
                if not batch:
                    continue
                with cur.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as cp:
                    for row in batch:
                        cp.write_row(row)
                self.stats.rows += len(batch)

    def finish(self) -> PgLoad:
        """COPY the objects, mark declared events, index, derive, commit and VACUUM ANALYZE."""
        from gs1.identifiers import Ref, lot_key

        t0 = time.perf_counter()
        for key, lot in self.item_lot.items():  # an item's lot is an object too (Neo4j's HAS_ITEM start)
            ref = self.refs[key]
            if lot_key(ref.gtin, lot) not in self.ids:
                self._object(Ref("lot", gtin=ref.gtin, lot=lot))
        objects, lots, items, units = [], [], [], []
        for key, oid in self.ids.items():
            ref, kind = self.refs[key], self.kinds[key]
            objects.append((oid, key, kind))
            if kind == "lot":
                lots.append((oid, ref.gtin, ref.lot))
            elif kind == "item":
                lot = self.item_lot.get(key)
                items.append((oid, ref.gtin, ref.serial, self.ids[lot_key(ref.gtin, lot)] if lot else None))
            else:
                units.append((oid, ref.sscc))
        t1 = time.perf_counter()
        self.stats.convert += t1 - t0
        with self.conn.cursor() as cur:
            for table, cols, batch in (("objects", "id, key, kind", objects), ("lots", "object_id, gtin, lot", lots),
                                       ("items", "object_id, gtin, serial, lot_id", items),
                                       ("logistic_units", "object_id, sscc", units)):
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                    for row in batch:
                        cp.write_row(row)
                self.stats.rows += len(batch)
            if self.declared:
                cur.execute("UPDATE events SET erroneous = true WHERE event_id = ANY(%s)", [sorted(self.declared)])
            self.conn.commit()
            t2 = time.perf_counter()
            self.stats.copy += t2 - t1
            cur.execute(INDEXES)
            self.conn.commit()
            t3 = time.perf_counter()
            self.stats.index = t3 - t2
            cur.execute(DERIVED)
            self.conn.commit()
            t4 = time.perf_counter()
            self.stats.derive = t4 - t3
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")
        self.stats.analyze = time.perf_counter() - t4
        self.stats.bytes = self.conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        self.stats.tables = dict(self.conn.execute(
            "SELECT relname::text, n_live_tup FROM pg_stat_user_tables ORDER BY relname").fetchall())
        return self.stats


def load_pg(conn, batches: Iterable[list[dict]], context=None) -> PgLoad:
    """Load batches of EPCIS events (raw JSON dicts) into a fresh database; return what the load did."""
    conn.autocommit = False
    loader = Loader(conn, context)
    for batch in batches:
        loader.add(batch)
    return loader.finish()


# --- the questions, in SQL -----------------------------------------------------------------------------------

# Over the event tables only: one step upstream of an object is the inputs of the events that output it, the
# children packed into it (aggregation ADD) and, for an item, its lot; downstream the reverse. UNION (not UNION ALL)
# drops rows reached before, so diamonds and cycles end.
def _step(came: str, goes: str, near: str, far: str, item: str, lot: str) -> str:
    """One hop from the working row w: (came, goes) event tables, aggregation (near, far), items (item, lot)."""
    return f"""
        SELECT g.object_id AS id FROM {came} c
          JOIN events e ON e.id = c.event_id AND NOT e.erroneous
          JOIN {goes} g ON g.event_id = c.event_id
         WHERE c.object_id = w.id
        UNION ALL
        SELECT a.{far} FROM aggregation_children a
          JOIN events e ON e.id = a.event_id AND e.action = 'ADD' AND NOT e.erroneous
         WHERE a.{near} = w.id
        UNION ALL
        SELECT it.{lot} FROM items it WHERE it.{item} = w.id AND it.{lot} IS NOT NULL"""


_STEP_BACK = _step("event_outputs", "event_inputs", "parent_id", "child_id", "object_id", "lot_id")
_STEP_FORWARD = _step("event_inputs", "event_outputs", "child_id", "parent_id", "lot_id", "object_id")


def _walk(step: str) -> str:
    return f"""
WITH RECURSIVE w(id) AS (
    SELECT id FROM objects WHERE key = %(key)s
    UNION
    SELECT s.id FROM w, LATERAL ({step}
    ) s
)"""


def _walk_lineage(direction: str) -> str:
    near, far = ("dst", "src") if direction == "back" else ("src", "dst")
    return f"""
WITH RECURSIVE w(id) AS (
    SELECT id FROM objects WHERE key = %(key)s
    UNION
    SELECT l.{far} FROM w JOIN lineage l ON l.{near} = w.id
)"""


# The keys (and holders) by one index look-up per row reached: the planner cannot estimate a recursive CTE's size
# (it guessed 3,801 rows for 8 at S) and a plain join then hashes the whole objects table, 440 ms a trace at M.
# Scalar subqueries are never turned into joins.
_KEYS = "\nSELECT (SELECT o.key FROM objects o WHERE o.id = w.id), NULL FROM w"
_HELD = ("\nSELECT (SELECT o.key FROM objects o WHERE o.id = w.id),"
         "\n       (SELECT array_agg(h.gln) FROM holdings h WHERE h.object_id = w.id AND h.quantity > 0) FROM w")
SQL = {
    ("events", "back"): _walk(_STEP_BACK) + _KEYS,
    ("events", "forward"): _walk(_STEP_FORWARD) + _KEYS,
    ("events", "recall"): _walk(_STEP_FORWARD) + _HELD,
    ("lineage", "back"): _walk_lineage("back") + _KEYS,
    ("lineage", "forward"): _walk_lineage("forward") + _KEYS,
    ("lineage", "recall"): _walk_lineage("forward") + _HELD,
}
PG_VARIANTS = {"events": "pg event tables", "lineage": "pg lineage table"}  # variant -> engine name


def pg_answer(conn, variant: str, question: str, key: str) -> tuple[frozenset, frozenset]:
    """(object keys, (holder GLN, key) pairs) one SQL statement answers; pairs only for the recall."""
    rows = conn.execute(SQL[(variant, question)], {"key": key}).fetchall()
    return frozenset(r[0] for r in rows), frozenset((gln, r[0]) for r in rows for gln in r[1] or ())


def neo4j_answer(graph, question: str, key: str) -> tuple[frozenset, frozenset]:
    """The same answer from Neo4j's traversal (graph/closure.py)."""
    if question == "recall":
        keys, held = closure.reach(graph, key)
        return frozenset(keys), frozenset(held)
    return frozenset(closure.closure(graph, key, question)), frozenset()


def product_trace(graph, question: str, key: str) -> tuple[frozenset, frozenset]:
    """The node set of the product's whole trace (graph/trace.py: walk, events, holders, parties)."""
    answer = trace.trace(graph, key, question)
    return frozenset(n["id"] for n in answer["nodes"]), frozenset()


# --- the comparison ------------------------------------------------------------------------------------------

def existing(conn, keys: list[str]) -> list[str]:
    """The keys PostgreSQL holds, in the given order."""
    have = {r[0] for r in conn.execute("SELECT key FROM objects WHERE key = ANY(%s)", [keys]).fetchall()}
    return [k for k in keys if k in have]


def sample(graph, conn, retail: int, origins: int) -> tuple[list[str], list[str], int]:
    """Retail packs and origin lots sampled from Neo4j (graph/samples.py) that PostgreSQL holds too.

    Returns:
        (retail keys, origin keys, how many sampled keys PostgreSQL does not hold: other benchmarks' data).
    """
    packs = samples.sample_starts(graph, "retail", retail)
    if len(packs) < retail:
        packs += samples.sample_starts(graph, "retail_lot", retail - len(packs))
    lots = samples.sample_starts(graph, "origin", origins)
    kept_packs, kept_lots = existing(conn, packs), existing(conn, lots)
    return kept_packs, kept_lots, len(packs) + len(lots) - len(kept_packs) - len(kept_lots)


def _check(question: str, key: str, answers: dict[str, tuple[frozenset, frozenset]]) -> None:
    ref_name, (ref_keys, ref_held) = next(iter(answers.items()))
    for name, (keys, held) in answers.items():
        if keys != ref_keys or held != ref_held:
            raise Mismatch(
                f"{question} from {key}: {name} differs from {ref_name}: keys only in {name} "
                f"{sorted(keys - ref_keys)[:5]}, only in {ref_name} {sorted(ref_keys - keys)[:5]}; "
                f"holdings only in {name} {sorted(held - ref_held)[:5]}, only in {ref_name} "
                f"{sorted(ref_held - held)[:5]}")


ENGINES = ("neo4j walk", "neo4j product trace", "pg event tables", "pg lineage table")


def compare(graph, conn, question: str, starts: list[str], runs: int = 3,
            product: bool = True) -> tuple[dict[str, list[list[float]]], list[int]]:
    """Answer `question` for every start with every engine, interleaved; check the answers are the same sets.

    Returns:
        ({engine: [per-run latencies in seconds]}, answer sizes per start).

    Raises:
        Mismatch: an engine answered a different set.
    """
    fns = {"neo4j walk": lambda k: neo4j_answer(graph, question, k)}
    if product and question != "recall":
        fns["neo4j product trace"] = lambda k: product_trace(graph, question, k)
    for variant, name in PG_VARIANTS.items():
        fns[name] = lambda k, v=variant: pg_answer(conn, v, question, k)
    for key in starts[:5]:  # warm caches, plans and the JIT of both engines
        for fn in fns.values():
            fn(key)
    times: dict[str, list[list[float]]] = {name: [] for name in fns}
    sizes = []
    for run in range(runs):
        for name in fns:
            times[name].append([])
        for key in starts:
            answers = {}
            for name, fn in fns.items():
                t0 = time.perf_counter()
                answers[name] = fn(key)
                times[name][-1].append(time.perf_counter() - t0)
            _check(question, key, answers)
            if run == 0:
                sizes.append(len(answers["neo4j walk"][0]))
    return times, sizes


def figures(label: str, times: dict[str, list[list[float]]], sizes: list[int], note: str = "") -> list[Figure]:
    """p50/p99 per engine and the ratios to Neo4j's walk (PostgreSQL / Neo4j: above 1, Neo4j is faster)."""
    out = []
    size = f"{len(sizes)} starts, answer size median {sorted(sizes)[len(sizes) // 2]} max {max(sizes)}"
    for name, per_run in times.items():
        out += benchlib.latency_figures(f"{label}: {name}", per_run, size + (f"; {note}" if note else ""))
    neo = times["neo4j walk"]
    for name, per_run in times.items():
        if name == "neo4j walk":
            continue
        for q in (50, 99):
            ratios = [benchlib.percentile(a, q) / benchlib.percentile(b, q) for a, b in zip(per_run, neo, strict=True)]
            out.append(Figure(f"{label}: {name} / neo4j walk, p{q}", "x", ratios, "above 1: Neo4j is faster", False))
    return out


def store_bytes(path: Path) -> int:
    """Bytes of the files under a directory."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def network_batches(scale: str, seed: int, wide_events: list[dict] | None, batch: int = 20_000) -> Iterator[list[dict]]:
    """The generator's events for (scale, seed) in batches, then the wide recall network's."""
    from scripts.gen.network import Network

    for events, _ in Network(scale, seed).batches(batch):
        yield events
    if wide_events:
        yield wide_events


def run(graph, scale: str, seed: int = 42, samples_n: int = 200, forward: int = 20, recall_target: int = 10_000,
        retailers: int = 200, runs: int = 3, neo4j_home: Path | None = None, log=print) -> list[Figure]:
    """The whole side-by-side on a Neo4j that holds the (scale, seed) network; returns the figures.

    Raises:
        Unavailable: PostgreSQL is not installed.
        Mismatch: the engines disagree.
    """
    from scripts.bench_trace import build_wide, wide_network
    from scripts.gen.network import CONTEXT

    out: list[Figure] = []
    wide_lot, wide_events = None, []
    if recall_target:
        wide_lot, wide_events = wide_network(recall_target, retailers, random.Random(WIDE_SEED))
        build_wide(graph, recall_target, retailers, random.Random(WIDE_SEED))  # a no-op when captured before
    with Postgres() as pg, pg.connect() as conn:
        wide = f" + the wide network ({len(wide_events):,} events)" if wide_events else ""
        log(f"PostgreSQL {conn.info.server_version} on 127.0.0.1:{pg.port} ({pg.dir}); loading {scale} "
            f"(seed {seed}){wide}; load {benchlib.load_average()}")
        stats = load_pg(conn, network_batches(scale, seed, wide_events), CONTEXT)
        log(f"loaded {stats.events:,} events, {stats.rows:,} rows in {stats.total:.0f} s: "
            f"convert {stats.convert:.0f} s, "
            f"COPY {stats.copy:.0f} s, indexes {stats.index:.0f} s, derived tables {stats.derive:.0f} s, "
            f"VACUUM ANALYZE {stats.analyze:.0f} s; {stats.bytes / 2**20:,.0f} MiB")
        out.append(Figure("PostgreSQL load (convert + COPY + index + derive + analyze)", "s", [stats.total],
                          f"{stats.events:,} events ({stats.events / stats.total:,.0f} events/s), {stats.rows:,} rows; "
                          f"convert (Python, EPCIS JSON -> rows) {stats.convert:.0f} s, COPY {stats.copy:.0f} s, "
                          f"indexes {stats.index:.0f} s, holdings + lineage {stats.derive:.0f} s, "
                          f"VACUUM ANALYZE {stats.analyze:.0f} s", False))
        out.append(Figure("PostgreSQL database size", "MiB", [stats.bytes / 2**20],
                          ", ".join(f"{k} {v:,}" for k, v in stats.tables.items()), False))
        if neo4j_home is not None and (neo4j_home / "data").is_dir():
            out.append(Figure("Neo4j store size (whole data directory)", "MiB",
                              [store_bytes(neo4j_home / "data") / 2**20],
                              f"{neo4j_home.name}/data: transaction logs included; also holds what other benchmarks "
                              "wrote", False))
        retail, origins, foreign = sample(graph, conn, samples_n, max(forward, 50))
        log(f"{len(retail)} retail packs, {len(origins)} origin lots sampled ({foreign} sampled keys only in Neo4j: "
            "other benchmarks' data, left out)")
        if not retail or not origins:
            raise RuntimeError("nothing to compare: does the Neo4j store hold this scale and seed? (--load-neo4j)")
        load = benchlib.load_average()
        times, sizes = compare(graph, conn, "back", retail, runs)
        out += figures("trace back from a retail pack", times, sizes, f"load {load}")
        times, sizes = compare(graph, conn, "forward", origins[:forward], runs)
        out += figures("trace forward from an origin lot", times, sizes)
        if wide_lot:
            times, sizes = compare(graph, conn, "recall", [wide_lot], max(runs, 5))
            out += figures(f"recall fan-out, {recall_target:,} lots", times, sizes,
                           f"objects and current holders; {retailers} retailers")
        log(f"identical answers from every engine for {len(retail)} back, {len(origins[:forward])} forward traces"
            f"{' and the wide recall' if wide_lot else ''}; load {benchlib.load_average()}")
    return out


def bench(ctx) -> list[Figure]:
    """scripts/bench.py plug-in: the side-by-side on the suite's store (skipped when PostgreSQL is absent)."""
    if pg_bindir() is None:
        print(f"bench_pg: skipped: {INSTALL_HINT}")
        return []
    home = Path(os.environ.get("NEO4J_HOME_DIR", str(REPO / ".neo4j-bench")))
    return run(ctx.graph, ctx.scale, getattr(ctx, "seed", 42), runs=max(1, min(ctx.runs, 5)), neo4j_home=home)


def main() -> int:
    """Run the side-by-side and print (and with --docs record) its figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="M", choices=["XS", "S", "M", "L"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7761"),
                    help="Neo4j holding the network (default: the suite's bench store)")
    ap.add_argument("--neo4j-home", default=os.environ.get("NEO4J_HOME_DIR", str(REPO / ".neo4j-bench")),
                    help="that server's home, for its store size; with --start-neo4j, the server to start")
    ap.add_argument("--start-neo4j", action="store_true", help="start (and at the end stop) the bench Neo4j")
    ap.add_argument("--load-neo4j", action="store_true", help="load the network into Neo4j first (bulk path)")
    ap.add_argument("--samples", type=int, default=200, help="back traces from retail packs")
    ap.add_argument("--forward", type=int, default=20, help="forward traces from origin lots")
    ap.add_argument("--recall-target", type=int, default=10_000, help="lots the wide farm lot fans out to (0: none)")
    ap.add_argument("--retailers", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--docs", action="store_true", help="append the figures to docs/benchmarks.md")
    args = ap.parse_args()

    if pg_bindir() is None:
        print(f"bench_pg: {INSTALL_HINT}", file=sys.stderr)
        return 2
    from graph.driver import Graph
    from graph.migrate import migrate

    home = Path(args.neo4j_home)
    env = dict(os.environ, NEO4J_HOME_DIR=str(home), NEO4J_BOLT_PORT=args.uri.rsplit(":", 1)[-1])
    env.setdefault("NEO4J_HEAP", "2g")
    env.setdefault("NEO4J_PAGECACHE_MB", "2048")
    ctl = [sys.executable, str(REPO / "scripts" / "neo4jctl.py")]
    if args.start_neo4j and subprocess.run([*ctl, "start"], env=env).returncode != 0:
        print("bench_pg: the bench Neo4j did not start", file=sys.stderr)
        return 2
    report = benchlib.Report(f"PostgreSQL side by side at scale {args.scale} (seed {args.seed}, {args.runs} runs)")
    report.note(f"load average at the start {benchlib.load_average()}")
    graph = Graph(args.uri)
    try:
        migrate(graph)
        if args.load_neo4j:
            from scripts.gen.load import load_bulk
            from scripts.gen.network import Network

            stats = load_bulk(graph, Network(args.scale, args.seed), batch=1000)
            report.add(Figure("Neo4j load (bulk path, graph/events.py)", "s", [stats.seconds + stats.master_seconds],
                              f"{stats.events:,} events, {stats.rate:,.0f} events/s, {stats.warnings} warnings", False))
        report.add(run(graph, args.scale, args.seed, args.samples, args.forward, args.recall_target, args.retailers,
                       args.runs, home))
    except Mismatch as exc:
        print(f"bench_pg: MISMATCH: {exc}", file=sys.stderr)
        return 1
    finally:
        graph.close()
        if args.start_neo4j:
            subprocess.run([*ctl, "stop"], env=env)
    report.note(f"load average at the end {benchlib.load_average()}")
    if args.docs:
        report.append()
    return 0


if __name__ == "__main__":
    sys.exit(main())
