"""The one write path for EPCIS events: normalised events -> Event nodes, their edges and the derived indexes.

(Over 500 lines on purpose: every statement capture runs is here beside the one function that runs it, so what a
capture reads and writes is read in one file; the rules it applies are in graph/capture_rules.py and
graph/ownership.py.)

Every capture (EPCIS /epcis/capture, the producer-friendly API, lot registration, the bulk importer, the demo)
comes here as a list of ``gs1.epcis.NormalizedEvent``. One transaction per document: a few reads (existing event
IDs, the state of every lot/item/party named, cycle candidates), the checks in Python, then a handful of UNWIND
statements grouped by what they write. The transaction function is re-run whole on a transient error, so it reads
everything it decides on inside the transaction.

Custody (``HOLDS``) follows the events: an ADD/commissioning and a transformation output give the acting party
(the party of bizLocation, else readPoint) the quantity; shipping moves it from the source party to the
destination party at once (``pending`` until received, so a recall reaches goods in transit); receiving settles
``pending``; destroying, retail selling and DELETE take it away. Each event keeps the deltas it applied
(``custody``), so an errorDeclaration can reverse them exactly.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, LiteralString

import orjson
from neo4j import ManagedTransaction
from neo4j.exceptions import TransientError

from graph import audit as audit_trail
from graph import cold_chain, ownership
from graph.capture_rules import (  # noqa: F401 - the capture API: callers import these from here
    CaptureJob,
    Held,
    Ledger,
    Policy,
    _dt,
    _here,
    _ilmd_lot,
    content_hash,
    error,
    legacy_custody,
    lineage,
    new_capture_id,
    now_iso,
    raise_first_error,
)
from graph.driver import Graph, tx_rows, tx_run, tx_single
from graph.errors import Conflict, Unavailable
from graph.subscriptions import mark_captured_tx
from gs1.epcis import EPCQuantity, NormalizedEvent
from gs1.identifiers import Ref, class_key, key_prefix

# Ref.kind -> node label; "class" refs point at the Product (matched by GTIN, not by key).
LABELS = {"lot": "Lot", "item": "Item", "sscc": "LogisticUnit", "other": "OtherObject", "class": "Product"}
RETRIES = 8


def capture(graph: Graph, events: list[tuple[int, NormalizedEvent]], policy: Policy, job: CaptureJob,
            record: bool = True, context: Any = None, audit_entry: dict | None = None,
            audit_key: bytes | None = None) -> CaptureJob:
    """Check and write a document's events in one transaction; fill and (optionally) store the capture job.

    Args:
        graph: the database.
        events: (index in the document, normalised event with its event_id set), in document order; events that
            failed normalisation are already in ``job.errors``.
        policy: who captures and the rules that apply.
        job: the capture job to fill: its ID, error behaviour, creation time and prior errors.
        record: store the Capture node (the EPCIS capture interface); the producer API raises instead.
        context: the document's JSON-LD ``@context`` (kept with each event so its CURIEs read back).
        audit_entry: the request's audit entry, appended (with the job's counts) in the same transaction as the
            writes, so both commit or neither; not appended when nothing is written (a refused producer-API call
            is recorded as refused by the caller). ``job.audit_seq`` says whether and where.
        audit_key: the audit chain's key (needed with audit_entry).

    Returns:
        The job, with captured/duplicate event IDs, errors and warnings.

    Raises:
        Forbidden: an event is outside what the token may record (nothing is written).
        Unavailable: the database does not answer.
    """
    if not job.created_at:
        job.created_at = now_iso()
    prior_errors = list(job.errors)

    def work(tx: ManagedTransaction) -> CaptureJob:
        job.errors = list(prior_errors)
        job.warnings, job.captured, job.duplicates = [], [], []
        _Capture(tx, events, policy, job, context).run(record)
        job.audit_seq = None
        wrote = record or not job.errors
        if audit_entry is not None and audit_key is not None and wrote:
            # last: it locks the chain's head until commit (objects first, then the head: one lock order)
            detail = {"captureID": job.capture_id, "captured": len(job.captured), "duplicates": len(job.duplicates),
                      "errors": len(job.errors), "warnings": len(job.warnings)}
            job.audit_seq = audit_trail.append_tx(tx, {**audit_entry, "detail": json.dumps(detail, sort_keys=True)},
                                                  audit_key)
        return job

    for attempt in range(RETRIES):
        try:
            return graph.write(work)
        except Conflict:
            # Another writer committed one of these eventIDs after we read: run again, it is now a duplicate.
            if attempt == RETRIES - 1:
                raise
        except Unavailable as exc:
            # A deadlock between writers outlasted the driver's retries: back off and run the document again.
            if attempt == RETRIES - 1 or not isinstance(exc.__cause__, TransientError):
                raise
        time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
    raise AssertionError("unreachable")


def capture_tx(tx: ManagedTransaction, events: list[tuple[int, NormalizedEvent]], policy: Policy,
               job: CaptureJob) -> CaptureJob:
    """Run the write path inside a caller's transaction (lot registration records its origin event this way).

    Raises:
        Forbidden: an event is outside what the token may record.
    """
    if not job.created_at:
        job.created_at = now_iso()
    _Capture(tx, events, policy, job).run(record=False)
    return job


# --- the statements (fixed text; values only as $parameters) --------------------------------------------------

_EXISTING: LiteralString = """
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
RETURN collect({event_id: e.event_id, content_hash: e.content_hash, erroneous: e.erroneous, custody: e.custody,
                hashed: e.hashed, recorded_by: e.recorded_by, eid: elementId(e)}) AS rows
"""

_STATE: LiteralString = """
CALL () {
    UNWIND $lots AS k MATCH (n:Lot {key: k}) RETURN n
    UNION ALL
    UNWIND $items AS k MATCH (n:Item {key: k}) RETURN n
    UNION ALL
    UNWIND $units AS k MATCH (n:LogisticUnit {key: k}) RETURN n
}
// an item's lot's owner: who may commission the item (a print run's serials belong to their lot's owner)
OPTIONAL MATCH (l:Lot)-[:HAS_ITEM]->(n:Item)
WITH n, head(collect(l.owner_gln)) AS lot_owner
OPTIONAL MATCH (p:Party)-[h:HOLDS]->(n)
WITH n, lot_owner,
     collect(CASE WHEN p IS NULL THEN null
             ELSE {gln: p.gln, quantity: h.quantity, pending: coalesce(h.pending, 0), unit: h.unit,
                   shipped_in: coalesce(h.shipped_in, h.pending, 0.0), received: coalesce(h.received, 0.0)} END)
     AS holders
RETURN collect({key: n.key, status: n.status, first_time: n.first_time.epochMillis, gtin: n.gtin,
                owner: n.owner_gln, lot_owner: lot_owner, holders: holders}) AS rows
"""

_KNOWN: LiteralString = """
CALL () { UNWIND $gtins AS g MATCH (p:Product {gtin: g})
          RETURN 'product' AS kind, g AS id, p.owner_gln AS owner, coalesce(p.licensees, []) AS licensees
          UNION ALL
          UNWIND $glns AS g MATCH (p:Party {gln: g}) RETURN 'party' AS kind, g AS id, null AS owner,
          [] AS licensees }
RETURN kind, id, owner, licensees
"""

# Which of the document's lineage keys each source already reaches downstream in the stored graph: with the
# document's own edges this finds cycles that run partly through stored data and partly through the document.
# DISTINCT on the end node lets the planner prune the variable-length expansion (no path explosion).
_REACH: LiteralString = """
UNWIND $sources AS k
CALL (k) {
    MATCH (o:Lot {key: k}) RETURN o
    UNION
    MATCH (o:Item {key: k}) RETURN o
    UNION
    MATCH (o:LogisticUnit {key: k}) RETURN o
    UNION
    MATCH (o:OtherObject {key: k}) RETURN o
}
MATCH (o)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*1..64]->(x)
WITH DISTINCT k, x.key AS reached
WHERE reached IN $targets
RETURN k AS source, collect(reached) AS reached
"""

# Write locks on the custody nodes and parties a document touches, taken in one fixed order (objects by label and
# key, then parties by GLN) before anything is read: concurrent captures of the same lot serialise here, so a
# mass-balance check never passes against holdings another transaction is changing. The property is set and
# removed at once; the lock stays until commit.
_LOCK: LiteralString = """
CALL () {
    UNWIND $lots AS k MATCH (n:Lot {key: k}) SET n._lock = true REMOVE n._lock RETURN count(*) AS c
}
CALL () {
    UNWIND $items AS k MATCH (n:Item {key: k}) SET n._lock = true REMOVE n._lock RETURN count(*) AS c2
}
CALL () {
    UNWIND $units AS k MATCH (n:LogisticUnit {key: k}) SET n._lock = true REMOVE n._lock RETURN count(*) AS c3
}
CALL () {
    UNWIND $glns AS g MATCH (n:Party {gln: g}) SET n._lock = true REMOVE n._lock RETURN count(*) AS c4
}
RETURN c + c2 + c3 + c4 AS locked
"""

_MERGE_NODES: dict[str, LiteralString] = {
    "Party": """
        UNWIND $rows AS r
        MERGE (n:Party {gln: r.gln})
        ON CREATE SET n.roles = [], n.registered_by = 'capture', n.created_at = datetime()
        RETURN collect(r.gln) AS keys, collect(elementId(n)) AS eids
    """,
    "Product": """
        UNWIND $rows AS r
        MERGE (n:Product {gtin: r.gtin})
        ON CREATE SET n.registered_by = 'capture', n.created_at = datetime()
        RETURN collect($class_prefix + r.gtin) AS keys, collect(elementId(n)) AS eids
    """,
    "Location": """
        UNWIND $rows AS r
        MERGE (n:Location {key: r.key})
        ON CREATE SET n.gln = r.gln, n.ext = r.ext
        WITH n, r
        MERGE (p:Party {gln: r.gln})
        ON CREATE SET p.roles = [], p.registered_by = 'capture', p.created_at = datetime()
        MERGE (n)-[:OF_PARTY]->(p)
        RETURN collect(r.key) AS keys, collect(elementId(n)) AS eids
    """,
    "Lot": """
        UNWIND $rows AS r
        MERGE (n:Lot {key: r.key})
        ON CREATE SET n.gtin = r.gtin, n.lot = r.lot, n.status = 'active', n.created_at = datetime(),
                      n.quantity = r.quantity, n.unit = r.unit, n.owner_gln = r.owner,
                      n.production_date = date(r.production_date), n.expiry_date = date(r.expiry_date)
        SET n.first_time = CASE WHEN r.first_time IS NOT NULL
                                 AND (n.first_time IS NULL OR n.first_time > datetime(r.first_time))
                                THEN datetime(r.first_time) ELSE n.first_time END
        WITH n, r
        MERGE (p:Product {gtin: r.gtin})
        ON CREATE SET p.registered_by = 'capture', p.created_at = datetime()
        MERGE (n)-[:OF_PRODUCT]->(p)
        RETURN collect(r.key) AS keys, collect(elementId(n)) AS eids
    """,
    "Item": """
        UNWIND $rows AS r
        MERGE (n:Item {key: r.key})
        ON CREATE SET n.gtin = r.gtin, n.serial = r.serial, n.created_at = datetime()
        SET n.lot = coalesce(n.lot, r.lot),
            n.first_time = CASE WHEN r.first_time IS NOT NULL
                                 AND (n.first_time IS NULL OR n.first_time > datetime(r.first_time))
                                THEN datetime(r.first_time) ELSE n.first_time END
        WITH n, r
        MERGE (p:Product {gtin: r.gtin})
        ON CREATE SET p.registered_by = 'capture', p.created_at = datetime()
        MERGE (n)-[:OF_PRODUCT]->(p)
        RETURN collect(r.key) AS keys, collect(elementId(n)) AS eids
    """,
    "LogisticUnit": """
        UNWIND $rows AS r
        MERGE (n:LogisticUnit {key: r.key})
        ON CREATE SET n.sscc = r.sscc, n.created_at = datetime()
        RETURN collect(r.key) AS keys, collect(elementId(n)) AS eids
    """,
    "OtherObject": """
        UNWIND $rows AS r
        MERGE (n:OtherObject {key: r.key})
        ON CREATE SET n.uri = r.uri
        RETURN collect(r.key) AS keys, collect(elementId(n)) AS eids
    """,
}

_CREATE_EVENTS: LiteralString = """
UNWIND $rows AS r
CREATE (e:Event)
SET e = r.props, e.event_time = datetime(r.event_time), e.record_time = datetime(r.record_time)
RETURN collect(r.props.event_id) AS keys, collect(elementId(e)) AS eids
"""

_EVENT_EDGES: LiteralString = """
UNWIND $rows AS r
MATCH (e) WHERE elementId(e) = r.e
MATCH (n) WHERE elementId(n) = r.n
FOREACH (_ IN CASE r.rel WHEN 'OBJECT' THEN [1] ELSE [] END |
    CREATE (e)-[:OBJECT {quantity: r.q, uom: r.uom}]->(n))
FOREACH (_ IN CASE r.rel WHEN 'INPUT' THEN [1] ELSE [] END | CREATE (e)-[:INPUT {quantity: r.q, uom: r.uom}]->(n))
FOREACH (_ IN CASE r.rel WHEN 'OUTPUT' THEN [1] ELSE [] END |
    CREATE (e)-[:OUTPUT {quantity: r.q, uom: r.uom}]->(n))
FOREACH (_ IN CASE r.rel WHEN 'PARENT' THEN [1] ELSE [] END | CREATE (e)-[:PARENT]->(n))
FOREACH (_ IN CASE r.rel WHEN 'CHILD' THEN [1] ELSE [] END | CREATE (e)-[:CHILD {quantity: r.q, uom: r.uom}]->(n))
FOREACH (_ IN CASE r.rel WHEN 'READ_POINT' THEN [1] ELSE [] END | CREATE (e)-[:READ_POINT]->(n))
FOREACH (_ IN CASE r.rel WHEN 'BIZ_LOCATION' THEN [1] ELSE [] END | CREATE (e)-[:BIZ_LOCATION]->(n))
FOREACH (_ IN CASE r.rel WHEN 'SOURCE' THEN [1] ELSE [] END | CREATE (e)-[:SOURCE {type: r.type}]->(n))
FOREACH (_ IN CASE r.rel WHEN 'DESTINATION' THEN [1] ELSE [] END | CREATE (e)-[:DESTINATION {type: r.type}]->(n))
"""

_DERIVED: LiteralString = """
UNWIND $rows AS r
MATCH (a) WHERE elementId(a) = r.a
MATCH (b) WHERE elementId(b) = r.b
FOREACH (_ IN CASE r.rel WHEN 'TRANSFORMED_INTO' THEN [1] ELSE [] END |
    CREATE (a)-[:TRANSFORMED_INTO {event_id: r.event_id, time: datetime(r.time)}]->(b))
FOREACH (_ IN CASE r.rel WHEN 'PACKED_IN' THEN [1] ELSE [] END |
    CREATE (a)-[:PACKED_IN {event_id: r.event_id, time: datetime(r.time)}]->(b))
FOREACH (_ IN CASE r.rel WHEN 'HAS_ITEM' THEN [1] ELSE [] END |
    MERGE (a)-[h:HAS_ITEM]->(b) ON CREATE SET h.event_id = r.event_id)
"""

# quantity = own (origin, outputs, minus what left) + max(shipped in, received); pending = shipped in not yet
# received. Both are sums or maxima of sums, so custody does not depend on the order or batching of events.
_HOLDS: LiteralString = """
UNWIND $rows AS r
MATCH (p) WHERE elementId(p) = r.p
MATCH (n) WHERE elementId(n) = r.n
MERGE (p)-[h:HOLDS]->(n)
ON CREATE SET h.quantity = 0.0, h.pending = 0.0, h.shipped_in = 0.0, h.received = 0.0, h.entries = 0
WITH h, r, coalesce(h.shipped_in, h.pending, 0.0) AS s0, coalesce(h.received, 0.0) AS r0
WITH h, r, coalesce(h.quantity, 0.0) - CASE WHEN s0 > r0 THEN s0 ELSE r0 END + r.db AS own,
     round(s0 + r.ds, 6) AS s1, round(r0 + r.dr, 6) AS r1
// Quantities are decimals (EPCIS): rounding every stored sum to 6 places makes custody independent of the order
// and batching of the additions (binary floats would leave order-dependent residue such as 0.30000000000000004).
SET h.shipped_in = s1, h.received = r1, h.quantity = round(own + CASE WHEN s1 > r1 THEN s1 ELSE r1 END, 6),
    h.pending = CASE WHEN s1 > r1 THEN round(s1 - r1, 6) ELSE 0.0 END, h.unit = coalesce(h.unit, r.unit),
    h.entries = h.entries + r.dn
// No custody entry left (the last was declared erroneous) and nothing held: the edge says nothing; a replay of the
// record without that event never makes it. Edges from before the count (entries null) stay.
WITH h WHERE h.entries <= 0 AND h.quantity = 0.0 AND h.pending = 0.0 AND h.shipped_in = 0.0 AND h.received = 0.0
DELETE h
"""

_DECLARE: LiteralString = """
UNWIND $rows AS r
MATCH (x) WHERE elementId(x) = r.e
// the event stays as captured (doc, content_hash); the declaration is kept beside it and read back with it
SET x.erroneous = true, x.error_declaration = r.declaration, x.declared_by = r.declared_by,
    x.corrective_event_ids = r.corrective, x.declared_in = r.capture_id
WITH x
CALL (x) {
    MATCH (x)-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)-[d:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]-()
    WHERE d.event_id = x.event_id
    DELETE d
}
"""

_CORRECTS: LiteralString = """
UNWIND $rows AS r
MATCH (c:Event {event_id: r.corrective})
MATCH (x:Event {event_id: r.erroneous})
MERGE (c)-[:CORRECTS]->(x)
"""

_STORE_JOB: LiteralString = """
CREATE (c:Capture)
SET c = $props, c.created_at = datetime($created_at), c.finished_at = datetime($finished_at)
"""


_OBSERVATIONS: LiteralString = """
UNWIND $rows AS r
CREATE (e:Event)
SET e = r.props, e.event_time = datetime(r.event_time), e.record_time = datetime(r.record_time)
WITH e, r
CALL (e, r) {
    UNWIND r.objects AS o
    MATCH (n) WHERE elementId(n) = o[0]
    CREATE (e)-[:OBJECT {quantity: o[1], uom: o[2]}]->(n)
    RETURN count(*) AS linked
}
RETURN sum(linked) AS linked
"""


def event_props(ev: NormalizedEvent, doc: dict, chash: str, custody: list, capture_id: str, policy: Policy,
                context: str | None) -> dict:
    """Return the properties an Event node stores (one definition for every way events are written).

    An event that arrives declared erroneous is stored as every declared event is: the event as captured in `doc`
    (and its content hash), the declaration beside it (`error_declaration`), so a replay of a backup, which sends
    the event with its declaration, stores what the original capture and the later declaration stored.
    """
    declaration = doc.get("errorDeclaration") if ev.error_declaration is not None else None
    if declaration is not None:
        doc = {k: v for k, v in doc.items() if k != "errorDeclaration"}
        chash = content_hash({k: v for k, v in ev.raw.items() if k != "errorDeclaration"})
    props = {
        "event_id": ev.event_id, "type": ev.type, "action": ev.action,
        "event_time_zone_offset": ev.event_time_zone_offset, "biz_step": ev.biz_step,
        "disposition": ev.disposition, "erroneous": ev.error_declaration is not None, "capture_id": capture_id,
        "recorded_by": policy.party_gln, "token_id": policy.token_id,
        "doc": _compact_json(doc),
        "content_hash": chash, "hashed": "eventID" not in ev.raw,
        "custody": json.dumps(custody),
        "read_point": ev.read_point.key if ev.read_point else None,
        "biz_location": ev.biz_location.key if ev.biz_location else None,
        "context": context,
    }
    if declaration is not None:
        props["error_declaration"] = json.dumps(declaration, ensure_ascii=False, separators=(",", ":"))
        props["declared_by"] = policy.party_gln
    return props


def _compact_json(value: Any) -> str:
    """JSON text without spaces, non-ASCII kept: orjson (a tenth of json's time: it is every event's stored document),
    or the standard library for what orjson refuses (an integer beyond 64 bits, which JSON allows)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def observation_rows(events: list[NormalizedEvent], targets: dict[str, str], policy: Policy,
                     capture_id: str) -> list[dict]:
    """Build the rows record_observations writes: OBSERVE ObjectEvents that change no custody and no lineage (a
    recall's `recalled` dispositions), with the same Event properties capture writes. Pure: a caller can build
    them while the database works on something else.

    The full write path would read and check the state of every object named (10,000 lots in a wide recall: most
    of the time of opening it); here the caller has just found every object in the same transaction, so there is
    nothing to check: no location means no custody change, OBSERVE means no lineage.

    Args:
        events: normalised ObjectEvents with action OBSERVE, an eventID, objects only (no location, source,
            destination or error declaration).
        targets: element ID of every object named, by key (as the caller's query returned them).
        policy: who records them (kept on each event).
        capture_id: the capture the events belong to.

    Raises:
        ValueError: an event is not a plain observation, or names an object not in ``targets`` (a caller's bug).
    """
    record_time = now_iso()
    rows = []
    for ev in events:
        if (ev.type != "ObjectEvent" or ev.action != "OBSERVE" or ev.event_id is None or ev.read_point is not None
                or ev.biz_location is not None or ev.sources or ev.destinations
                or ev.error_declaration is not None):
            raise ValueError(f"event {ev.event_id} is not a plain observation")
        missing = [eq.ref.key for eq in ev.objects if eq.ref.key not in targets]
        if missing:
            raise ValueError(f"event {ev.event_id} names objects not found: {missing[:3]}")
        doc = {**ev.raw, "eventID": ev.event_id, "recordTime": record_time}
        rows.append({"props": event_props(ev, doc, content_hash(ev.raw), [], capture_id, policy, None),
                     "event_time": ev.event_time, "record_time": record_time,
                     "objects": [[targets[eq.ref.key], eq.quantity, eq.uom] for eq in ev.objects]})
    return rows


def record_observations(tx: ManagedTransaction, rows: list[dict]) -> int:
    """Write observation_rows in one statement: Event nodes and OBJECT edges as capture writes them.

    Args:
        tx: the caller's write transaction (the one that found the objects).
        rows: what observation_rows built.

    Returns:
        How many OBJECT edges were written.
    """
    if not rows:
        return 0
    return tx_rows(tx, _OBSERVATIONS, rows=rows)[0]["linked"]


# --- the work of one capture ------------------------------------------------------------------------------------

def _want(nodes: dict[str, dict[str, dict]], ref: Ref | None) -> None:
    """Note the node an edge of the document needs (an item needs its lot too), once per key."""
    if ref is None:
        return
    kind = ref.kind
    if kind == "lot":
        nodes["Lot"].setdefault(ref.key, {"key": ref.key, "gtin": ref.gtin, "lot": ref.lot})
    elif kind == "item":
        nodes["Item"].setdefault(ref.key, {"key": ref.key, "gtin": ref.gtin, "serial": ref.serial,
                                           "lot": ref.lot})
        if ref.lot is not None:
            _want(nodes, Ref("lot", gtin=ref.gtin, lot=ref.lot))
    elif kind == "class":
        nodes["Product"].setdefault(class_key(ref.gtin), {"gtin": ref.gtin})
    elif kind == "sscc":
        nodes["LogisticUnit"].setdefault(ref.key, {"key": ref.key, "sscc": ref.sscc})
    elif kind == "location":
        nodes["Location"].setdefault(ref.key, {"key": ref.key, "gln": ref.gln, "ext": ref.ext})
    elif kind == "party":
        nodes["Party"].setdefault(ref.gln, {"gln": ref.gln})
    else:
        nodes["OtherObject"].setdefault(ref.key, {"key": ref.key, "uri": ref.canonical or ref.uri})


class _Capture:
    """One document's capture inside one transaction."""

    def __init__(self, tx: ManagedTransaction, events: list[tuple[int, NormalizedEvent]], policy: Policy,
                 job: CaptureJob, context: Any = None):
        self.tx, self.events, self.policy, self.job = tx, events, policy, job
        self.context = json.dumps(context, ensure_ascii=False) if context else None
        self.record_time = now_iso()
        self.now = datetime.now(UTC)

    # -- reading --
    def _load(self) -> None:
        keys: dict[str, set[str]] = {"lot": set(), "item": set(), "sscc": set()}
        gtins: set[str] = set()
        glns: set[str] = set()
        for _, ev in self.events:
            for eq in (*ev.objects, *ev.children, *ev.inputs, *ev.outputs):
                if eq.ref.kind in keys:
                    keys[eq.ref.kind].add(eq.ref.key)
                if eq.ref.kind == "item" and eq.ref.lot is not None:
                    keys["lot"].add(Ref("lot", gtin=eq.ref.gtin, lot=eq.ref.lot).key)  # whose lot it is in
                if eq.ref.gtin:
                    gtins.add(eq.ref.gtin)
            if ev.parent is not None and ev.parent.kind in keys:
                keys[ev.parent.kind].add(ev.parent.key)
            for ref in (ev.read_point, ev.biz_location, *(sd.ref for sd in (*ev.sources, *ev.destinations))):
                if ref is not None and ref.gln:
                    glns.add(ref.gln)
        tx_run(self.tx, _LOCK, lots=sorted(keys["lot"]), items=sorted(keys["item"]), units=sorted(keys["sscc"]),
               glns=sorted(glns))
        ids = sorted({ev.event_id for _, ev in self.events})
        existing = {r["event_id"]: r for r in tx_single(self.tx, _EXISTING, ids=ids)["rows"]}
        rows = tx_single(self.tx, _STATE, lots=sorted(keys["lot"]), items=sorted(keys["item"]),
                         units=sorted(keys["sscc"]))["rows"]
        state: dict[str, dict] = {}
        for r in rows:
            holders = {}
            for h in r["holders"]:
                if h:
                    s_in, rec = float(h["shipped_in"] or 0.0), float(h["received"] or 0.0)
                    holders[h["gln"]] = Held(float(h["quantity"] or 0.0) - max(s_in, rec), s_in, rec, h["unit"])
            state[r["key"]] = {"status": r["status"] or "active", "first_time": _dt(r["first_time"]),
                                    "holders": holders, "exists": True, "owner": r["owner"],
                                    "lot_owner": r["lot_owner"]}
        products: dict[str, ownership.Product] = {}
        parties: set[str] = set()
        if self.policy.checks_master_data:
            for r in tx_rows(self.tx, _KNOWN, gtins=sorted(gtins), glns=sorted(glns)):
                if r["kind"] == "product":
                    products[r["id"]] = ownership.Product(r["owner"], frozenset(r["licensees"]))
                else:
                    parties.add(r["id"])
        # Stored reachability between the keys the document links: a transformation's outputs and every head of a
        # lineage edge the document adds may lead (in stored data) to its inputs or to a tail of such an edge.
        sources: set[str] = set()
        targets: set[str] = set()
        for _, ev in self.events:
            if ev.error_declaration is not None:
                continue
            for a, b in lineage(ev):
                targets.add(a)
                sources.add(b)
        stored_reach: dict[str, set[str]] = {}
        if any(ev.type == "TransformationEvent" for _, ev in self.events) and sources:
            for r in tx_rows(self.tx, _REACH, sources=sorted(sources), targets=sorted(targets)):
                stored_reach[r["source"]] = set(r["reached"])
        self.ledger = Ledger(self.events, self.policy, self.job, existing, state, products, parties, stored_reach,
                             self.now)

    # -- the checks (graph/capture_rules.py), then the writes --
    def run(self, record: bool) -> None:
        self._load()
        self.ledger.run()
        self.job.finished_at = now_iso()
        failed = bool(self.job.errors) and self.job.error_behaviour == "rollback"
        if failed:
            self.job.captured = []
        else:
            self._write()
            ledger = self.ledger
            # in this transaction: the warnings commit with the events that raise them (graph/cold_chain.py)
            if self.policy.alerts:
                cold_chain.on_captured(self.tx, [ev for _, ev, _, _ in ledger.good], self.policy.party_gln)
            self.job.captured = ([ev.event_id for _, ev, _, _ in ledger.good]
                                 + [ev.event_id for _, ev, _ in ledger.declared])
            mark_captured_tx(self.tx, self.job.captured)  # EPCIS stream subscriptions: a feed the worker reads
        if record:
            self._store_job()

    # -- writing --
    def _doc(self, ev: NormalizedEvent) -> dict:
        doc = dict(ev.raw)
        doc.setdefault("eventID", ev.event_id)
        doc["recordTime"] = self.record_time
        return doc

    def _write(self) -> None:
        tx = self.tx
        nodes: dict[str, dict[str, dict]] = {label: {} for label in _MERGE_NODES}
        first_times: dict[str, str] = {}
        owners: dict[str, tuple] = {}

        want = partial(_want, nodes)  # a partial, not a closure: a closure calling itself is a reference cycle

        event_rows, edge_rows, derived, declares, corrects = [], [], [], [], []
        for _index, ev, chash, plan in self.ledger.good:
            declared = ev.error_declaration is not None
            props = event_props(ev, self._doc(ev), chash, plan["custody"], self.job.capture_id, self.policy,
                                self.context)
            if declared:
                props["corrective_event_ids"] = ev.error_declaration["corrective_event_ids"]
                for cid in ev.error_declaration["corrective_event_ids"]:
                    corrects.append({"corrective": cid, "erroneous": ev.event_id})
            event_rows.append({"props": props, "event_time": ev.event_time, "record_time": self.record_time})
            self._edges(ev, want, edge_rows)
            if not declared:
                self._derive(ev, want, derived)
            t = ev.event_time
            for eq in (ev.outputs if ev.type == "TransformationEvent" else
                       ev.objects if ownership.is_origin(ev) and not declared else []):
                if eq.ref.kind in ("lot", "item"):
                    if eq.ref.key not in first_times or t < first_times[eq.ref.key]:
                        first_times[eq.ref.key] = t
                    if eq.ref.kind == "lot" and eq.quantity is not None:
                        dates = _ilmd_dates(ev) if ev.type == "TransformationEvent" else (None, None)
                        owners.setdefault(eq.ref.key, (eq.quantity, eq.uom, _here(ev), *dates))
        for _index, ev, _chash in self.ledger.declared:
            declares.append({"event_id": ev.event_id,
                             "declaration": json.dumps(ev.raw.get("errorDeclaration"), ensure_ascii=False,
                                                       separators=(",", ":")),
                             "corrective": ev.error_declaration["corrective_event_ids"]})
            for cid in ev.error_declaration["corrective_event_ids"]:
                corrects.append({"corrective": cid, "erroneous": ev.event_id})
        for gln, _key in self.ledger.deltas:
            nodes["Party"].setdefault(gln, {"gln": gln})
        for key, row in nodes["Lot"].items():
            row["first_time"] = first_times.get(key)
            qty, unit, owner, produced, expires = owners.get(key, (None,) * 5)
            row.update(quantity=qty, unit=unit, owner=owner, production_date=produced, expiry_date=expires)
        for key, row in nodes["Item"].items():
            row["first_time"] = first_times.get(key)

        ids: dict[tuple[str, str], str] = {}
        for label, rows in nodes.items():
            if rows:
                got = tx_single(tx, _MERGE_NODES[label], rows=list(rows.values()), class_prefix=key_prefix("class"))
                for key, eid in zip(got["keys"], got["eids"], strict=True):
                    ids[(label, key)] = eid
        event_ids: dict[str, str] = {}
        if event_rows:
            got = tx_single(tx, _CREATE_EVENTS, rows=event_rows)
            event_ids = dict(zip(got["keys"], got["eids"], strict=True))
        resolved = []
        for row in edge_rows:
            n = ids.get(row.pop("target"))
            if n is not None:
                resolved.append({**row, "e": event_ids[row.pop("event_id")], "n": n})
        if resolved:
            tx_run(tx, _EVENT_EDGES, rows=resolved)
        drows = []
        for row in derived:
            a, b = ids.get(row.pop("a")), ids.get(row.pop("b"))
            if a is not None and b is not None:
                drows.append({**row, "a": a, "b": b})
        if drows:
            tx_run(tx, _DERIVED, rows=drows)
        if declares:
            rows = [{"e": self.ledger.existing[d["event_id"]]["eid"], "declaration": d["declaration"],
                     "declared_by": self.policy.party_gln, "corrective": d["corrective"],
                     "capture_id": self.job.capture_id} for d in declares]
            tx_run(tx, _DECLARE, rows=rows)
        holds = []
        for (gln, key), (d_own, d_ship, d_rec, unit, touched) in sorted(self.ledger.deltas.items()):
            if not touched and all(abs(x) <= ownership.EPSILON for x in (d_own, d_ship, d_rec)):
                continue
            label = _label_of_key(key)
            n = ids.get((label, key))
            if n is None:
                n = self._lookup(label, key)
            if n is not None:
                holds.append({"p": ids[("Party", gln)], "n": n, "db": d_own, "ds": d_ship, "dr": d_rec,
                              "unit": unit, "dn": touched})
        if holds:
            tx_run(tx, _HOLDS, rows=holds)
        if corrects:
            tx_run(tx, _CORRECTS, rows=corrects)

    def _lookup(self, label: str, key: str) -> str | None:
        """Element ID of a custody node a declaration touches that this document does not name otherwise."""
        rows = tx_rows(self.tx, _FIND[label], key=key)
        return rows[0]["eid"] if rows else None

    @staticmethod
    def _edges(ev: NormalizedEvent, want, rows: list[dict]) -> None:
        def add(rel: str, ref: Ref, eq: EPCQuantity | None = None, sd_type: str | None = None) -> None:
            want(ref)
            rows.append({"event_id": ev.event_id, "rel": rel, "target": _target(ref),
                         "q": eq.quantity if eq else None, "uom": eq.uom if eq else None, "type": sd_type})

        for eq in ev.objects:
            add("OBJECT", eq.ref, eq)
        for eq in ev.inputs:
            add("INPUT", eq.ref, eq)
        for eq in ev.outputs:
            add("OUTPUT", eq.ref, eq)
        for eq in ev.children:
            add("CHILD", eq.ref, eq)
        if ev.parent is not None:
            add("PARENT", ev.parent)
        if ev.read_point is not None:
            add("READ_POINT", ev.read_point)
        if ev.biz_location is not None:
            add("BIZ_LOCATION", ev.biz_location)
        for sd in ev.sources:
            add("SOURCE", sd.ref, sd_type=sd.type)
        for sd in ev.destinations:
            add("DESTINATION", sd.ref, sd_type=sd.type)

    def _derive(self, ev: NormalizedEvent, want, rows: list[dict]) -> None:
        t = ev.event_time
        for a in ev.inputs:
            for b in ev.outputs:
                if a.ref.kind != "class" and b.ref.kind != "class":
                    rows.append({"rel": "TRANSFORMED_INTO", "a": _target(a.ref), "b": _target(b.ref),
                                 "event_id": ev.event_id, "time": t})
        if ev.type == "AggregationEvent" and ev.action == "ADD" and ev.parent is not None:
            for c in ev.children:
                if c.ref.kind != "class":
                    rows.append({"rel": "PACKED_IN", "a": _target(c.ref), "b": _target(ev.parent),
                                 "event_id": ev.event_id, "time": t})
        ilmd_lot = _ilmd_lot(ev) if ownership.is_origin(ev) else None
        for eq in (*ev.objects, *ev.children, *ev.inputs, *ev.outputs):
            ref = eq.ref
            lot = ref.lot if ref.kind == "item" else None
            if lot is None and ref.kind == "item" and ilmd_lot is not None and eq in ev.objects:
                lot = ilmd_lot
            if lot is not None:
                lot_ref = Ref("lot", gtin=ref.gtin, lot=lot)
                want(lot_ref)
                rows.append({"rel": "HAS_ITEM", "a": _target(lot_ref), "b": _target(ref), "event_id": ev.event_id,
                             "time": t})

    def _store_job(self) -> None:
        job = self.job
        props = {
            "capture_id": job.capture_id, "running": False, "success": job.success,
            "error_behaviour": job.error_behaviour, "errors": json.dumps(job.errors, ensure_ascii=False),
            "warnings": json.dumps(job.warnings, ensure_ascii=False), "warning_count": len(job.warnings),
            "event_count": job.event_count, "captured_count": len(job.captured),
            "duplicate_count": len(job.duplicates), "token_id": self.policy.token_id,
            "party_gln": self.policy.party_gln, "role": self.policy.role,
        }
        tx_run(self.tx, _STORE_JOB, props=props, created_at=job.created_at, finished_at=job.finished_at)


_FIND: dict[str, LiteralString] = {
    "Lot": "MATCH (n:Lot {key: $key}) RETURN elementId(n) AS eid",
    "Item": "MATCH (n:Item {key: $key}) RETURN elementId(n) AS eid",
    "LogisticUnit": "MATCH (n:LogisticUnit {key: $key}) RETURN elementId(n) AS eid",
}


def _label_of_key(key: str) -> str:
    return {"lot": "Lot", "item": "Item", "sscc": "LogisticUnit"}[key.split(":", 1)[0]]


def _target(ref: Ref) -> tuple[str, str]:
    """The (label, key) under which _write finds a node's element ID."""
    if ref.kind == "class":
        return ("Product", class_key(ref.gtin))
    if ref.kind == "location":
        return ("Location", ref.key)
    if ref.kind == "party":
        return ("Party", ref.gln)
    return (LABELS[ref.kind], ref.key)


def _ilmd_dates(ev: NormalizedEvent) -> tuple[str | None, str | None]:
    """The production and expiry dates a transformation's ILMD gives the lots it makes (ISO days), in any notation
    of their names; kept on a lot the event creates, as graph/lots.create keeps an origin lot's."""
    found: dict[str, str] = {}
    for key, value in (ev.ilmd or {}).items():
        name = key.rsplit(":", 1)[-1].rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if name in ("productionDate", "itemExpirationDate") and isinstance(value, str):
            try:
                found[name] = date.fromisoformat(value).isoformat()
            except ValueError:
                continue  # not a calendar day: the lot keeps no date rather than a wrong one
    return found.get("productionDate"), found.get("itemExpirationDate")
