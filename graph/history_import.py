"""Initial load of history into an empty store with Neo4j's own bulk importer (`neo4j-admin database import full`).

(Over 500 lines on purpose: the in-memory store answers each of the write path's statements with that statement's
effect, one handler per statement beside the CSV writer that streams the result; split, a handler would sit apart
from the bookkeeping it shares, and the identity check that stops an unknown statement needs them all in one place.
The cost of this design is that a change to a write statement's effect must be made here too: the equality proof
below fails until it is.)

The importer writes a store from CSV files in minutes where the write path writes ~1,100 events/s, but it runs no
Cypher: whatever the write path derives (custody ``HOLDS``, lineage ``TRANSFORMED_INTO``/``PACKED_IN``/``HAS_ITEM``,
first times, lot owners, capture jobs) must already be in the files. So this module does not re-implement capture:
it runs graph/events.py's own capture (``bulk.capture_events``' three lines, the same Ledger, the same checks, the
same ``event_props``) against :class:`MemoryStore`, an in-memory store that answers each fixed statement the write
path runs (matched by identity: a statement it does not know stops the import) with that statement's effect, and
streams what would have been written into importer CSVs. The equality with a load through the write path is proven
by tests/bench/test_history_import.py (every label, property and relationship compared as canonical dumps).

Master data and inspections are written as bulk.load_master and bulk.upsert_inspections write them, at the same
points of the stream (an inspection that arrives before its lot is classified and linked as the write path does it:
without the lot). Cold-chain events are judged as capture judges them (graph/cold_chain.judge), on what the
in-memory store says each carried when its document is captured (:meth:`MemoryStore.carried` answers the write
path's _CARRIED). What runs afterwards, against the started server, through the ordinary code: the migrations
(constraints and indexes are built on the imported data; uniqueness is checked there) and raising the alerts found
(graph/cold_chain.raise_found, a write transaction per document that has any, as capture raises them).

Limits (an import stops with ImportUnsupported rather than writing something else): an errorDeclaration of an event
stored by an earlier document (declarations inside one document are captured as usual); an empty list property.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import pickle
import queue as queues
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, LiteralString

from graph import bulk, cold_chain, events, products, subscriptions
from graph.parties import PARTY_FIELDS
from gs1.epcis import NormalizedEvent
from gs1.identifiers import key_prefix, lot_key

ARRAY_DELIMITER = "\x1f"  # unit separator: never inside a key, a name or JSON text
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLI = timedelta(milliseconds=1)
_MICRO = timedelta(microseconds=1)


class ImportUnsupported(RuntimeError):
    """The history needs something the importer does not build (load it through the write path instead)."""


class DateTimeText(str):
    """A datetime property as the text Cypher's ``datetime()`` and the importer both parse (offset kept)."""

    __slots__ = ()

    def instant(self) -> datetime:
        value = datetime.fromisoformat(self.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class DateText(str):
    """A date property (``date()``), ISO day."""

    __slots__ = ()


_clock: list = [None, None]  # (the second, its text): nodes made in one second share one string (L makes millions)


def _micros(time: DateTimeText) -> int:
    """An instant as microseconds since 1970 (what Cypher's datetime comparison compares, to the microsecond)."""
    return (time.instant() - _EPOCH) // _MICRO


def _now() -> DateTimeText:
    second = datetime.now(UTC).replace(microsecond=0)
    if _clock[0] != second:
        _clock[:] = second, DateTimeText(second.isoformat().replace("+00:00", "Z"))
    return _clock[1]


def neo4j_round(value: float, places: int = 6) -> float:
    """Cypher's round(value, places): HALF_UP on the decimal of the double's shortest text (BigDecimal.valueOf)."""
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# --- the importer's CSV files --------------------------------------------------------------------------------------

_KINDS = {str: "string", bool: "boolean", int: "long", float: "double", DateTimeText: "datetime", DateText: "date"}


def _kind(value: Any) -> str:
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, list):
        if not value:
            raise ImportUnsupported("an empty list here (the importer reads an empty array as no value)")
        kinds = {_kind(v) for v in value}
        if len(kinds) != 1 or next(iter(kinds)).endswith("[]"):
            raise ImportUnsupported(f"a list of mixed or nested values: {value[:3]!r}")
        return kinds.pop() + "[]"
    raise ImportUnsupported(f"a property of type {type(value).__name__}")


def _text(value: Any, kind: str) -> str:
    if kind.endswith("[]"):
        inner = kind[:-2]
        if inner == "string":
            return _text(ARRAY_DELIMITER.join(value), "string")
        return ARRAY_DELIMITER.join(_text(v, inner) for v in value)
    if kind == "string":
        return '"' + value.replace('"', '""') + '"'
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "double":
        return repr(value)
    return str(value)


class CsvWriter:
    """Importer CSV files: one per label (or type) and property signature, so a missing property stays missing and
    every value keeps its own type (a quantity of 5 stays an integer, of 5.0 a float)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.files: dict[tuple, tuple[Any, str]] = {}  # (node|rel, label, signature) -> (file, name)
        # the importer's ID of a node of a SHARED label (_shared_id: the same in every part)
        self.shared_ids: dict[int, int] = {}
        self.multiline = False
        self.empty_lists: list[dict] = []
        self.nodes = 0
        self.rels = 0

    def _file(self, kind: str, name: str, signature: tuple) -> Any:
        key = (kind, name, signature)
        entry = self.files.get(key)
        if entry is None:
            path = self.folder / f"{kind}-{name}-{len([k for k in self.files if k[:2] == (kind, name)])}.csv"
            handle = path.open("w", encoding="utf-8", newline="")
            ids = [":ID"] if kind == "nodes" else [":START_ID", ":END_ID"]
            handle.write(",".join([*ids, *(f"{p}:{t}" for p, t in signature)]) + "\n")
            entry = self.files[key] = (handle, name)
        return entry[0]

    def _row(self, kind: str, name: str, ids: list[int | str], props: dict) -> None:
        shared = self.shared_ids
        signature, cells = [], [str(shared.get(i, i)) for i in ids]
        for key, value in sorted(props.items()):
            if value is None:
                continue
            type_ = _KINDS.get(type(value))
            if type_ == "string":
                cell = '"' + value.replace('"', '""') + '"'
                if "\n" in value or "\r" in value:
                    self.multiline = True
            elif type_ is None:
                type_ = _kind(value)
                cell = _text(value, type_)
                if "\n" in cell or "\r" in cell:
                    self.multiline = True
            elif type_ == "double":
                cell = repr(value)
            elif type_ == "boolean":
                cell = "true" if value else "false"
            else:  # long, datetime, date: their text
                cell = str(value)
            signature.append((key, type_))
            cells.append(cell)
        self._file(kind, name, tuple(signature)).write(",".join(cells) + "\n")

    def node(self, label: str, node_id: int, props: dict) -> None:
        empty = [k for k, v in props.items() if v == []]
        if empty:
            # the importer reads an empty array as no value: set afterwards (set_empty_lists)
            if label not in _EMPTY_LIST_LABELS:
                raise ImportUnsupported(f"an empty list on a {label} node")
            key = props[_KEY_PROP.get(label, "key")]
            self.empty_lists.append({"label": label, "key": key, "props": {k: [] for k in empty}})
            props = {k: v for k, v in props.items() if v != []}
        self.nodes += 1
        self._row("nodes", label, [node_id], props)

    def rel(self, rel_type: str, start: int, end: int, props: dict | None = None) -> None:
        self.rels += 1
        self._row("rels", rel_type, [start, end], props or {})

    def close(self) -> list[str]:
        """Close the files; return the importer's --nodes/--relationships arguments."""
        args = []
        for (kind, name, _), (handle, _) in self.files.items():
            handle.close()
            flag = "--nodes" if kind == "nodes" else "--relationships"
            args.append(f"{flag}={name}={handle.name}")
        return sorted(args)


# --- the in-memory store the write path runs against ---------------------------------------------------------------

class _Result:
    def __init__(self, rows: list[dict] | None = None):
        self.rows = rows or []

    def __iter__(self) -> Iterator[_Record]:
        return (_Record(r) for r in self.rows)

    def consume(self) -> None:
        return None

    def single(self, strict: bool = False) -> _Record | None:
        if len(self.rows) != 1:
            if strict:
                raise ImportUnsupported(f"a statement answered {len(self.rows)} rows where it answers one")
            return None
        return _Record(self.rows[0])


class _Record:
    __slots__ = ("row",)

    def __init__(self, row: dict):
        self.row = row

    def data(self) -> dict:
        return dict(self.row)

    def items(self) -> list[tuple[str, Any]]:
        return list(self.row.items())


_KEY_PROP = {"Party": "gln", "Product": "gtin"}
# Labels whose nodes more than one part of an import may make (master data; locations and class-level objects that
# several chains share): each part knows them by label and key, and the import writes each once (Shared).
SHARED = frozenset({"Party", "Product", "Certificate", "Location", "OtherObject"})
PART_IDS = 1 << 40  # node IDs per part: part k numbers its nodes from k * PART_IDS
SHARED_IDS = 1 << 55  # shared nodes' IDs: from here to the importer's largest integer ID, 2**56 - 1


def _shared_id(label: str, key: str) -> int:
    """The importer's ID of a shared node, the same in every part: 55 bits of a hash of its label and key, above
    every part's range. Integer IDs, not the label and key as text: the importer's relationship stage takes a third
    of the time at L (3 min 19 s with text IDs, 1 min 10 s). The importer hashes text IDs and checks them for
    collisions; here _keep_shared checks: two shared nodes with one ID stop the import (ImportUnsupported), odds of
    ~1 in 7 million for 100,000 shared nodes."""
    digest = hashlib.blake2b(f"{label}:{key}".encode(), digest_size=7).digest()
    return SHARED_IDS + (int.from_bytes(digest, "big") >> 1)


def _keep_shared(nodes: dict[int, tuple[str, dict]], node_id: int, label: str, props: dict) -> None:
    """Keep a shared node under its importer ID once (the first version: parts make them alike, but for the instant
    of creation); a different node under the same ID stops the import."""
    known = nodes.get(node_id)
    if known is None:
        nodes[node_id] = (label, props)
        return
    had, has = (f"{lb}:{pr[_KEY_PROP.get(lb, 'key')]}" for lb, pr in (known, (label, props)))
    if had != has:
        raise ImportUnsupported(f"two shared nodes, {had} and {has}, have one importer ID ({node_id}): "
                                "load this history through the write path")


@dataclass
class Shared:
    """The nodes of SHARED labels one part made, by importer ID, and the edges between two of them."""

    nodes: dict[int, tuple[str, dict]] = field(default_factory=dict)
    rels: set[tuple[str, int, int]] = field(default_factory=set)


_EMPTY_LIST_LABELS = ("Inspection", "Party")  # passing inspections' failed_hazards, capture-made parties' roles


class MemoryStore:
    """The graph the write path builds, kept in memory as far as later documents read it, streamed to CSV as far as
    they do not (events, their edges, lineage edges, capture jobs are written once and never read back)."""

    def __init__(self, out: CsvWriter, first_id: int = 0):
        self.out = out
        self.next_id = first_id  # parts of one import number their nodes apart (PART_IDS each)
        self.nodes: dict[int, tuple[str, dict]] = {}  # every node but events and capture jobs
        self.by_key: dict[tuple[str, str], int] = {}
        self.events: dict[str, tuple] = {}  # event_id -> (content_hash, erroneous, hashed, recorded_by, node id)
        self.merged: dict[str, set[tuple[int, int]]] = defaultdict(set)  # OF_PARTY, OF_PRODUCT, OWNED_BY, ...
        self.has_item: set[tuple[int, int]] = set()
        self.item_lots: dict[int, list[int]] = defaultdict(list)
        self.down: dict[int, list[int]] = defaultdict(list)  # TRANSFORMED_INTO | HAS_ITEM | PACKED_IN, outgoing
        self.packed: dict[int, list[tuple[int, int]]] = defaultdict(list)  # PACKED_IN, incoming: (child, its µs)
        self.holds: dict[tuple[int, int], _Hold] = {}
        self.holders: dict[int, list[int]] = defaultdict(list)
        self.corrects: set[tuple[int, int]] = set()
        self.handlers: dict[int, tuple[str, Callable[[dict], list[dict]]]] = {}
        for cypher, handler in self._statements():
            self.handlers[id(cypher)] = (cypher, handler)

    def _statements(self) -> Iterable[tuple[LiteralString, Callable[[dict], list[dict]]]]:
        yield events._LOCK, lambda p: []
        yield events._EXISTING, self._existing
        yield events._STATE, self._state
        yield events._REACH, self._reach
        for label, cypher in events._MERGE_NODES.items():
            yield cypher, (lambda p, label=label: self._merge_nodes(label, p["rows"], p.get("class_prefix")))
        yield events._CREATE_EVENTS, self._create_events
        yield events._EVENT_EDGES, self._event_edges
        yield events._DERIVED, self._derived
        yield events._HOLDS, self._holds
        yield events._CORRECTS, self._corrects
        yield events._DECLARE, self._declare
        for label, cypher in events._FIND.items():
            yield cypher, (lambda p, label=label: [{"eid": i} for i in [self.by_key.get((label, p["key"]))] if i])
        yield events._STORE_JOB, self._store_job
        # stream subscriptions are noted only when one exists: an empty store has none
        yield subscriptions._FEED, lambda p: []

    def run(self, cypher: str, parameters: dict | None = None, **kwargs: Any) -> _Result:
        entry = self.handlers.get(id(cypher))
        if entry is None or entry[0] is not cypher:
            raise ImportUnsupported(f"the write path ran a statement the importer does not know: {cypher[:120]!r}")
        return _Result(entry[1]({**(parameters or {}), **kwargs}))

    # -- nodes --
    def _new(self, label: str, key: str, props: dict) -> int:
        node_id = self.next_id
        self.next_id += 1
        self.nodes[node_id] = (label, props)
        self.by_key[(label, key)] = node_id
        if label in SHARED:
            self.out.shared_ids[node_id] = _shared_id(label, key)
        return node_id

    def merge(self, label: str, key: str, on_create: Callable[[], dict]) -> tuple[int, dict, bool]:
        """MERGE (n:Label {key}) ON CREATE SET ...: the node's id, its properties and whether it was created."""
        node_id = self.by_key.get((label, key))
        if node_id is not None:
            return node_id, self.nodes[node_id][1], False
        props = {_KEY_PROP.get(label, "key"): key, **on_create()}
        node_id = self._new(label, key, {k: v for k, v in props.items() if v is not None})
        return node_id, self.nodes[node_id][1], True

    def merge_rel(self, rel_type: str, a: int, b: int) -> None:
        self.merged[rel_type].add((a, b))

    def _party(self, gln: str) -> int:
        return self.merge("Party", gln, lambda: {"roles": [], "registered_by": "capture", "created_at": _now()})[0]

    def _product(self, gtin: str) -> int:
        return self.merge("Product", gtin, lambda: {"registered_by": "capture", "created_at": _now()})[0]

    @staticmethod
    def _first_time(props: dict, first: str | None) -> None:
        if first is not None:
            new = DateTimeText(first)
            old = props.get("first_time")
            if old is None or old.instant() > new.instant():
                props["first_time"] = new

    def _merge_nodes(self, label: str, rows: list[dict], class_prefix: str | None) -> list[dict]:
        out = []
        for r in rows:
            if label == "Party":
                node_id, key = self._party(r["gln"]), r["gln"]
            elif label == "Product":
                node_id, key = self._product(r["gtin"]), class_prefix + r["gtin"]
            elif label == "Location":
                node_id, _, _ = self.merge("Location", r["key"], lambda r=r: {"gln": r["gln"], "ext": r["ext"]})
                self.merge_rel("OF_PARTY", node_id, self._party(r["gln"]))
                key = r["key"]
            elif label == "Lot":
                node_id, props, _ = self.merge("Lot", r["key"], lambda r=r: {
                    "gtin": r["gtin"], "lot": r["lot"], "status": "active", "created_at": _now(),
                    "quantity": r["quantity"], "unit": r["unit"], "owner_gln": r["owner"],
                    "production_date": DateText(r["production_date"]) if r["production_date"] else None,
                    "expiry_date": DateText(r["expiry_date"]) if r["expiry_date"] else None})
                self._first_time(props, r["first_time"])
                self.merge_rel("OF_PRODUCT", node_id, self._product(r["gtin"]))
                key = r["key"]
            elif label == "Item":
                node_id, props, _ = self.merge("Item", r["key"], lambda r=r: {
                    "gtin": r["gtin"], "serial": r["serial"], "created_at": _now()})
                if props.get("lot") is None and r["lot"] is not None:
                    props["lot"] = r["lot"]
                self._first_time(props, r["first_time"])
                self.merge_rel("OF_PRODUCT", node_id, self._product(r["gtin"]))
                key = r["key"]
            elif label == "LogisticUnit":
                node_id, _, _ = self.merge("LogisticUnit", r["key"],
                                           lambda r=r: {"sscc": r["sscc"], "created_at": _now()})
                key = r["key"]
            else:
                node_id, _, _ = self.merge("OtherObject", r["key"], lambda r=r: {"uri": r["uri"]})
                key = r["key"]
            out.append((key, node_id))
        return [{"keys": [k for k, _ in out], "eids": [i for _, i in out]}]

    # -- reads --
    def _existing(self, p: dict) -> list[dict]:
        return [{"rows": [{"event_id": i, "content_hash": e[0], "erroneous": e[1], "custody": None, "hashed": e[2],
                           "recorded_by": e[3], "eid": e[4]}
                          for i in p["ids"] if (e := self.events.get(i)) is not None]}]

    def _state(self, p: dict) -> list[dict]:
        rows = []
        for label, keys in (("Lot", p["lots"]), ("Item", p["items"]), ("LogisticUnit", p["units"])):
            for key in keys:
                node_id = self.by_key.get((label, key))
                if node_id is None:
                    continue
                props = self.nodes[node_id][1]
                lot_owner = None
                if label == "Item":
                    owners = [self.nodes[lot][1].get("owner_gln") for lot in self.item_lots.get(node_id, [])]
                    lot_owner = next((o for o in owners if o is not None), None)
                first = props.get("first_time")
                holders = []
                for party in self.holders.get(node_id, []):
                    h = self.holds[(party, node_id)]
                    holders.append({"gln": self.nodes[party][1]["gln"], "quantity": h.quantity, "pending": h.pending,
                                    "unit": h.unit, "shipped_in": h.shipped_in, "received": h.received})
                rows.append({"key": key, "status": props.get("status"),
                             "first_time": (first.instant() - _EPOCH) // _MILLI if first is not None else None,
                             "gtin": props.get("gtin"), "owner": props.get("owner_gln"), "lot_owner": lot_owner,
                             "holders": holders})
        return [{"rows": rows}]

    def _reach(self, p: dict) -> list[dict]:
        targets = set(p["targets"])
        rows = []
        for key in p["sources"]:
            starts = [self.by_key[(label, key)] for label in ("Lot", "Item", "LogisticUnit", "OtherObject")
                      if (label, key) in self.by_key]
            seen: set[int] = set()
            frontier = starts
            for _ in range(64):
                frontier = [n for node in frontier for n in self.down.get(node, ()) if n not in seen]
                if not frontier:
                    break
                seen.update(frontier)
            reached = sorted({self.nodes[n][1].get("key") for n in seen} & targets)
            if reached:
                rows.append({"source": key, "reached": reached})
        return rows

    def carried(self, judged: list[NormalizedEvent]) -> list[dict]:
        """graph/cold_chain._CARRIED's rows for these events, from memory: the lots each carried (those it names,
        the lots of the items it names, and of everything packed, up to 8 deep, into a unit it names by a packing
        at or before its time), with their products' storage ranges. An event that carried no lot has no row."""
        rows = []
        for ev in sorted(judged, key=lambda e: e.event_id):
            at = _micros(DateTimeText(ev.event_time))
            named = [eq.ref for eq in (*ev.objects, *ev.children, *ev.inputs, *ev.outputs)]
            if ev.parent is not None:
                named.append(ev.parent)
            seen = {n for ref in named if (n := self.by_key.get(events._target(ref))) is not None}
            frontier = list(seen)
            for _ in range(8):  # PACKED_IN*0..8
                frontier = [c for node in frontier for c, t in self.packed.get(node, ()) if t <= at and c not in seen]
                if not frontier:
                    break
                seen.update(frontier)
            lots = {x for x in seen if self.nodes[x][0] == "Lot"}
            lots.update(lot for x in seen for lot in self.item_lots.get(x, ()))
            if not lots:
                continue
            found = []
            for lot in lots:
                props = self.nodes[lot][1]
                product = self.by_key.get(("Product", props["gtin"]))
                made = self.nodes[product][1] if product is not None else {}
                found.append({"key": props["key"], "gtin": props["gtin"], "lot": props["lot"],
                              "owner": props.get("owner_gln"), "min_c": made.get("storage_min_c"),
                              "max_c": made.get("storage_max_c"), "name_zh": made.get("name_zh"),
                              "name_en": made.get("name_en")})
            rows.append({"event_id": ev.event_id, "lots": sorted(found, key=lambda lot: lot["key"])})
        return rows

    # -- writes that are never read back: straight to the files --
    def _create_events(self, p: dict) -> list[dict]:
        out = []
        for r in p["rows"]:
            props = {k: v for k, v in r["props"].items() if v is not None}
            props["event_time"] = DateTimeText(r["event_time"])
            props["record_time"] = DateTimeText(r["record_time"])
            node_id = self.next_id
            self.next_id += 1
            self.out.node("Event", node_id, props)
            # what a resend is compared by (not the custody a declaration reverses: _DECLARE is not supported)
            self.events[props["event_id"]] = (props.get("content_hash"), props.get("erroneous"), props.get("hashed"),
                                              props.get("recorded_by"), node_id)
            out.append((props["event_id"], node_id))
        return [{"keys": [k for k, _ in out], "eids": [i for _, i in out]}]

    def _event_edges(self, p: dict) -> list[dict]:
        for r in p["rows"]:
            rel = r["rel"]
            if rel in ("OBJECT", "INPUT", "OUTPUT", "CHILD"):
                props = {"quantity": r["q"], "uom": r["uom"]}
            elif rel in ("SOURCE", "DESTINATION"):
                props = {"type": r["type"]}
            else:
                props = {}
            self.out.rel(rel, r["e"], r["n"], props)
        return []

    def _derived(self, p: dict) -> list[dict]:
        for r in p["rows"]:
            a, b, rel = r["a"], r["b"], r["rel"]
            if rel == "HAS_ITEM":
                if (a, b) in self.has_item:
                    continue
                self.has_item.add((a, b))
                self.item_lots[b].append(a)
                self.out.rel("HAS_ITEM", a, b, {"event_id": r["event_id"]})
            else:
                time = DateTimeText(r["time"])
                self.out.rel(rel, a, b, {"event_id": r["event_id"], "time": time})
                if rel == "PACKED_IN":
                    self.packed[b].append((a, _micros(time)))
            self.down[a].append(b)
        return []

    def _store_job(self, p: dict) -> list[dict]:
        props = {k: v for k, v in p["props"].items() if v is not None}
        props["created_at"] = DateTimeText(p["created_at"])
        props["finished_at"] = DateTimeText(p["finished_at"])
        self.out.node("Capture", self.next_id, props)
        self.next_id += 1
        return []

    # -- custody: kept, written at the end --
    def _holds(self, p: dict) -> list[dict]:
        for r in p["rows"]:
            edge = (r["p"], r["n"])
            h = self.holds.get(edge)
            if h is None:
                h = self.holds[edge] = _Hold()
                self.holders[r["n"]].append(r["p"])
            s0, r0 = h.shipped_in, h.received
            own = h.quantity - (s0 if s0 > r0 else r0) + r["db"]
            s1, r1 = neo4j_round(s0 + r["ds"]), neo4j_round(r0 + r["dr"])
            h.shipped_in, h.received = s1, r1
            h.quantity = neo4j_round(own + (s1 if s1 > r1 else r1))
            h.pending = neo4j_round(s1 - r1) if s1 > r1 else 0.0
            if h.unit is None:
                h.unit = r["unit"]
            h.entries += r["dn"]
            if h.entries <= 0 and h.quantity == h.pending == h.shipped_in == h.received == 0.0:
                del self.holds[edge]
                self.holders[r["n"]].remove(r["p"])
        return []

    def _corrects(self, p: dict) -> list[dict]:
        for r in p["rows"]:
            c, x = self.events.get(r["corrective"]), self.events.get(r["erroneous"])
            if c is not None and x is not None:
                self.corrects.add((c[4], x[4]))
        return []

    def _declare(self, p: dict) -> list[dict]:
        raise ImportUnsupported("an errorDeclaration of an event stored by an earlier document")

    # -- master data: the statements of parties.upsert_many, products.upsert_many, bulk.upsert_certificates --
    def load_master(self, master: dict) -> None:
        """Upsert parties, products and certificates as bulk.load_master does (in that order)."""
        for party in master.get("parties", []):
            row = {k: party.get(k) for k in PARTY_FIELDS if party.get(k) is not None}
            _, props, _ = self.merge("Party", row["gln"], lambda: {"created_at": _now()})
            props.update(row)
        for product in master.get("products", []):
            row = {k: v for k, v in products.node_props(product).items() if v is not None}
            owner = self.by_key.get(("Party", row.get("owner_gln")))
            if owner is None:
                continue  # MATCH (o:Party {gln: row.owner_gln}) finds nothing: the row writes nothing
            node_id, props, _ = self.merge("Product", row["gtin"], lambda: {"created_at": _now()})
            props.update(row)
            self.merge_rel("OWNED_BY", node_id, owner)
        for cert in master.get("certificates", []):
            key = f"{cert['issuer_gln']}:{cert['number']}"
            node_id, props, _ = self.merge("Certificate", key, lambda: {})
            props.update({k: v for k, v in {"key": key, "type": cert["type"], "number": cert["number"],
                                            "issuer": cert["issuer_gln"], "name_zh": cert.get("name_zh")}.items()
                          if v is not None})
            for name in ("valid_from", "valid_until"):
                if cert.get(name):
                    props[name] = DateText(cert[name])
                else:
                    props.pop(name, None)
            lot = lot_key(cert["gtin"], cert["lot"]) if cert.get("gtin") and cert.get("lot") else None
            target = (self.by_key.get(("Lot", lot)) if lot else None) \
                or (self.by_key.get(("Product", cert.get("gtin"))) if lot is None else None) \
                or self.by_key.get(("Party", cert.get("party_gln")))
            if target is not None:
                self.merge_rel("CERTIFIES", node_id, target)

    def upsert_inspections(self, rows: list[dict]) -> None:
        """bulk.upsert_inspections against the store as it is now (a lot not captured yet is not linked)."""
        params = bulk.inspection_params(rows)
        facts = {}
        for p in params:
            lot = self.by_key.get(("Lot", p["lot_key"]))
            if lot is not None:
                props = self.nodes[lot][1]
                product = self.by_key.get(("Product", props.get("gtin")))
                owner = self.by_key.get(("Party", props.get("owner_gln")))
                facts[p["lot_key"]] = {"key": p["lot_key"], "owner_gln": props.get("owner_gln"),
                                       "category": self.nodes[product][1].get("category") if product is not None
                                       else None,
                                       "owner_region": self.nodes[owner][1].get("region_code") if owner is not None
                                       else None}
        bulk.classify_params(params, facts)
        for p in params:
            node_id, props, _ = self.merge("Inspection", p["key"], lambda: {})
            for k, v in p["props"].items():
                if v is None:
                    props.pop(k, None)
                else:
                    props[k] = v
            props["date"] = DateText(p["date"])
            lot, lab = self.by_key.get(("Lot", p["lot_key"])), self.by_key.get(("Party", p["lab_gln"]))
            if lot is not None:
                self.merge_rel("OF_LOT", node_id, lot)
            if lab is not None:
                self.merge_rel("PERFORMED", lab, node_id)

    def finish(self) -> Shared:
        """Write the nodes and edges kept in memory, but for the nodes of SHARED labels and the edges between two
        of them: those are returned, for the import to write once whatever part made them."""
        shared = Shared()
        ids = self.out.shared_ids
        for node_id, (label, props) in self.nodes.items():
            if node_id in ids:
                _keep_shared(shared.nodes, ids[node_id], label, props)
            else:
                self.out.node(label, node_id, props)
        for rel_type, pairs in self.merged.items():
            for a, b in pairs:
                if a in ids and b in ids:
                    shared.rels.add((rel_type, ids[a], ids[b]))
                else:
                    self.out.rel(rel_type, a, b)
        for (a, b), h in self.holds.items():
            self.out.rel("HOLDS", a, b, h.props())
        for a, b in self.corrects:
            self.out.rel("CORRECTS", a, b)
        return shared


class _Hold:
    """A HOLDS edge as the write path keeps it (graph/events.py _HOLDS: every figure set from the first entry on),
    in slots: L keeps millions of them."""

    __slots__ = ("quantity", "pending", "shipped_in", "received", "entries", "unit")

    def __init__(self) -> None:
        self.quantity = self.pending = self.shipped_in = self.received = 0.0
        self.entries = 0
        self.unit: str | None = None

    def props(self) -> dict:
        return {"quantity": self.quantity, "pending": self.pending, "shipped_in": self.shipped_in,
                "received": self.received, "entries": self.entries, "unit": self.unit}


class _MemoryGraph:
    """What graph/events.capture needs of a Graph: ``write`` runs the transaction function against the store."""

    def __init__(self, store: MemoryStore):
        self.store = store

    def write(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return work(self.store, *args, **kwargs)


# --- one import ----------------------------------------------------------------------------------------------------

Batches = Iterable[tuple[dict, list[dict]]]  # (EPCIS document, inspections ready after it), in load order


@dataclass
class Prepared:
    """What building the CSV files did, and what runs once the imported store is up."""

    folder: Path
    args: list[str] = field(default_factory=list)
    events: int = 0
    documents: int = 0
    warnings: int = 0
    errors: list[dict] = field(default_factory=list)
    inspections: int = 0
    # per document whose cold-chain events call for alerts, cold_chain.judge's findings (compressed pickles), raised
    # once the store is up
    alerts: list[bytes] = field(default_factory=list)
    empty_lists: list[dict] = field(default_factory=list)  # {label, key, props}: set after the import
    nodes: int = 0
    rels: int = 0
    multiline: bool = False
    seconds: float = 0.0
    parts: int = 1
    shared: Shared = field(default_factory=Shared)  # of one part, until the parts are combined


def prepare(master: dict, batches: Batches, folder: Path,
            progress: Callable[[Prepared], None] | None = None) -> Prepared:
    """Turn master data and EPCIS documents into importer CSV files, through the write path's own capture, in this
    process (prepare_parallel runs disjoint parts of a history in several).

    Args:
        master: {"parties", "products", "certificates"} as bulk.load_master takes it.
        batches: (EPCIS document, inspections ready after it), in load order; each document is one capture job,
            as bulk.capture_events makes it (the same batches give the same jobs).
        folder: where the CSV files go (created).
        progress: called after each document.

    Raises:
        ImportUnsupported: the history needs something the importer does not build.
    """
    start = time.perf_counter()
    done = _combine(folder, [_prepare_part(master, batches, folder / "part-0", 0, progress)])
    done.seconds = time.perf_counter() - start
    return done


def prepare_parallel(master: dict, parts: list[Callable[[], Batches]], folder: Path,
                     progress: Callable[[Prepared], None] | None = None) -> Prepared:
    """prepare, with each part of the history in a process of its own (forked), all at once.

    The parts must share no lot, item or logistic unit (the chains of one network: each part's capture rules see
    only its own events). What they may share is master data, locations and class-level objects (SHARED): each
    part makes them as capture would, and they are written once. Each part's documents are its capture jobs, so a
    load through the write path that sends the same documents builds the same graph (part after part, or
    interleaved: the parts share no state the rules read).

    Args:
        parts: per part, a function that returns its batches; it runs in the part's process.
        progress: called in this process with the sum of the parts so far (events, documents, warnings, seconds).
    """
    start = time.perf_counter()
    context = multiprocessing.get_context("fork")  # a forked part inherits ``parts``: nothing of it is pickled
    queue = context.Queue()  # (part, "progress", counts) | (part, "done", Prepared) | (part, "failed", error)
    workers = [context.Process(target=_run_part, args=(master, make, folder / f"part-{k}", k, queue), daemon=True)
               for k, make in enumerate(parts)]
    for worker in workers:
        worker.start()
    counts, results, failed, quiet = [(0, 0, 0)] * len(parts), {}, None, 0
    try:
        while len(results) < len(parts) and failed is None:
            try:
                k, what, value = queue.get(timeout=1.0)
            except queues.Empty:
                # a part killed from outside (out of memory: SIGKILL) says nothing: seen dead twice with nothing
                # left to read (what a part sends is in the pipe before it exits), the import stops, never hangs
                dead = [(k, w.exitcode) for k, w in enumerate(workers) if w.exitcode is not None and k not in results]
                quiet = quiet + 1 if dead else 0
                if quiet >= 2:
                    failed = RuntimeError(f"part {dead[0][0]} of the import ended without an answer "
                                          f"(exit code {dead[0][1]}; out of memory?)")
                continue
            quiet = 0
            if what == "progress":
                counts[k] = value
                if progress is not None:
                    progress(Prepared(folder, events=sum(c[0] for c in counts), documents=sum(c[1] for c in counts),
                                      warnings=sum(c[2] for c in counts), seconds=time.perf_counter() - start))
            elif what == "done":
                results[k] = value
            else:
                failed = value
    finally:
        for worker in workers:
            if failed is not None:
                worker.kill()
            worker.join()
    if failed is not None:
        raise failed
    done = _combine(folder, [results[k] for k in range(len(parts))])
    done.seconds = time.perf_counter() - start
    return done


def _run_part(master: dict, make: Callable[[], Batches], folder: Path, part: int, queue: Any) -> None:
    try:
        done = _prepare_part(master, make(), folder, part,
                             lambda p: queue.put((part, "progress", (p.events, p.documents, p.warnings))))
    except BaseException as error:  # noqa: BLE001 - handed to the parent, which raises it
        queue.put((part, "failed", error if isinstance(error, Exception) else RuntimeError(repr(error))))
        raise
    queue.put((part, "done", done))


def _prepare_part(master: dict, batches: Batches, folder: Path, part: int,
                  progress: Callable[[Prepared], None] | None) -> Prepared:
    start = time.perf_counter()
    out = CsvWriter(folder)
    store = MemoryStore(out, first_id=part * PART_IDS)
    store.load_master(master)
    memory = _MemoryGraph(store)
    done = Prepared(folder)
    policy = events.Policy(alerts=False)  # raised afterwards by raise_alerts, against the server
    with _frozen_as_it_grows() as settle:
        _capture_part(store, memory, policy, batches, done, start, progress, settle)
    done.shared = store.finish()
    done.args = out.close()
    done.nodes, done.rels, done.multiline, done.empty_lists = out.nodes, out.rels, out.multiline, out.empty_lists
    return done


def _capture_part(store: MemoryStore, memory: _MemoryGraph, policy: events.Policy, batches: Batches, done: Prepared,
                  start: float, progress: Callable[[Prepared], None] | None, settle: Callable[[], None]) -> None:
    for doc, inspections in batches:
        if doc["epcisBody"]["eventList"]:
            # bulk.capture_events, with the normalised events kept for the cold-chain rules
            normalised = bulk.normalize_document(doc)
            job = events.CaptureJob(events.new_capture_id(), event_count=len(normalised))
            events.capture(memory, normalised, policy, job, record=True, context=doc.get("@context"))
            # cold_chain.on_captured, judged here against the store as capture would find it: the alerts are
            # raised against the server at the end (finish_online), the rare document that has any
            captured = set(job.captured)
            judged = cold_chain.candidates([ev for _, ev in normalised if ev.event_id in captured])
            found = cold_chain.judge(judged, store.carried([ev for ev, _ in judged.values()]), None) if judged else []
            if found:
                done.alerts.append(zlib.compress(pickle.dumps(found, 5), 1))
            done.events += len(normalised)
            done.documents += 1
            done.warnings += len(job.warnings)
            done.errors += job.errors
        if inspections:
            store.upsert_inspections(inspections)
            done.inspections += len(inspections)
        settle()
        if progress is not None:
            done.seconds = time.perf_counter() - start
            progress(done)


@contextmanager
def _frozen_as_it_grows() -> Iterator[Callable[[], None]]:
    """The cyclic garbage collector, for a store that only grows: off, and run by hand (``settle``, after each
    document) over what was made since the last run, whose survivors are then frozen (never traversed again).

    Python's collector otherwise traverses every live object whenever the old generation grew by a quarter, and a
    document's ~100,000 objects live long enough to count: at M, 91 full collections that found nothing took a third
    of the CSV stage. Capture makes no reference cycles (tests/capture/test_capture_cycles.py holds it to that);
    one that did appear is still collected if it is garbage by the end of its document.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.freeze()

    def settle() -> None:
        gc.collect(0)
        gc.freeze()

    try:
        yield settle
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _combine(folder: Path, parts: list[Prepared]) -> Prepared:
    """One import of the parts: their counts and files, and the shared nodes and edges written once (the first
    part's version of a node: the parts make them alike, but for the instant of creation)."""
    nodes: dict[int, tuple[str, dict]] = {}
    rels: set[tuple[str, int, int]] = set()
    for part in parts:
        for node_id, (label, props) in part.shared.nodes.items():
            _keep_shared(nodes, node_id, label, props)
        rels |= part.shared.rels
    out = CsvWriter(folder / "shared")
    for node_id, (label, props) in nodes.items():
        out.node(label, node_id, props)
    for rel_type, a, b in sorted(rels):
        out.rel(rel_type, a, b)
    done = Prepared(folder, args=sorted(out.close() + [a for p in parts for a in p.args]), parts=len(parts),
                    nodes=out.nodes, rels=out.rels, multiline=out.multiline, empty_lists=out.empty_lists)
    for part in parts:
        done.events += part.events
        done.documents += part.documents
        done.warnings += part.warnings
        done.errors += part.errors
        done.inspections += part.inspections
        done.alerts += part.alerts
        done.empty_lists += part.empty_lists
        done.nodes += part.nodes
        done.rels += part.rels
        done.multiline |= part.multiline
    return done


_EMPTY_LISTS: LiteralString = """
UNWIND $rows AS r
CALL (r) {
    MATCH (n:Inspection {key: r.key}) WHERE r.label = 'Inspection' RETURN n
    UNION
    MATCH (n:Party {gln: r.key}) WHERE r.label = 'Party' RETURN n
}
SET n += r.props
"""


def finish_online(graph: Any, prepared: Prepared) -> int:
    """After the import and the migrations: the empty list properties (the importer reads an empty array as no
    value), then the cold-chain alerts the CSV stage found, through graph/cold_chain.raise_found, one write
    transaction per document that had any, as capture raises them. Returns how many alerts were raised."""
    rows = prepared.empty_lists
    for i in range(0, len(rows), 10000):
        graph.query(_EMPTY_LISTS, rows=rows[i:i + 10000])
    raised = 0
    for blob in prepared.alerts:
        found: list[tuple[dict, dict]] = pickle.loads(zlib.decompress(blob))  # noqa: S301 - made by this import
        raised += len(graph.write(lambda tx, found=found: cold_chain.raise_found(tx, found)))
    return raised


def importer_command(prepared: Prepared, database: str = "neo4j") -> list[str]:
    """The `neo4j-admin database import full` arguments for the prepared files (after the java/AdminTool part)."""
    # the database first: --nodes and --relationships take any number of files
    cmd = ["database", "import", "full", database, "--id-type=integer", "--array-delimiter=U+001F",
           "--overwrite-destination=true", f"--report-file={prepared.folder / 'import.report'}", *prepared.args]
    if prepared.multiline:
        cmd.append("--multiline-fields=true")
    return cmd


# --- what a load built, whole: the import's proof compares two of these --------------------------------------------

_DUMP: LiteralString = "CALL () {" + bulk.NAMESPACE_NODES + """
    UNION MATCH (n:Alert)-[:WARNS]->(l:Lot) WHERE l.gtin STARTS WITH '0' + $prefix RETURN n
    UNION MATCH (e:Event)-[:READ_POINT]->(l:Location) WHERE l.key STARTS WITH $loc + $prefix
          WITH DISTINCT e.capture_id AS id MATCH (n:Capture {capture_id: id}) RETURN n
}
// a COLLECT subquery per node, not an aggregation over all of them: the rows stream (S is 600k relationships)
RETURN labels(n) AS labels, properties(n) AS props,
       COLLECT { MATCH (n)-[r]->(m) RETURN {type: type(r), props: properties(r), labels: labels(m),
                                            end: m {.event_id, .gln, .gtin, .key, .dedupe_key, .capture_id}} } AS out
"""


def dump(graph: Any, prefix: str) -> list[dict]:
    """Every node of one company-prefix namespace (and the events, capture jobs and alerts of its data) with all
    its properties and outgoing relationships: {labels, props, out: [{type, props, labels, end}]}.

    Args:
        graph: the database.
        prefix: ``69`` + the namespace's 3 digits, as bulk.census takes it.
    """
    return graph.query(_DUMP, read=True, prefix=prefix, loc=key_prefix("location"), item=key_prefix("item"))
