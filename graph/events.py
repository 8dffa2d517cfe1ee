"""The one write path for EPCIS events: normalised events -> Event nodes, their edges and the derived indexes.

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

import hashlib
import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, LiteralString

from neo4j import ManagedTransaction
from neo4j.exceptions import TransientError

from graph import ownership
from graph.driver import Graph, tx_rows
from graph.errors import Conflict, Forbidden, RuleViolation, Unavailable
from graph.ownership import CUSTODY_KINDS, EPSILON, ORIGIN_STEPS, PARTY_SDT, RECEIVE_STEPS, SHIP_STEPS  # noqa: F401
from graph.ownership import name as _name
from graph.ownership import party_of as _party_of
from gs1.epcis import EPCQuantity, NormalizedEvent
from gs1.identifiers import Ref

# Ref.kind -> node label; "class" refs point at the Product (matched by GTIN, not by key).
LABELS = {"lot": "Lot", "item": "Item", "sscc": "LogisticUnit", "other": "OtherObject", "class": "Product"}
REMOVE_STEPS = frozenset({"destroying", "retail_selling", "decommissioning", "dispensing", "disposing"})
REMOVE_DISPOSITIONS = frozenset({"destroyed", "retail_sold", "disposed", "dispensed", "inactive"})
DESTROY_STEPS = frozenset({"destroying", "disposing"})
DESTROY_DISPOSITIONS = frozenset({"destroyed", "disposed"})
BLOCKING_STATUSES = frozenset({"on_hold", "recalled"})
RETRIES = 8


@dataclass(frozen=True)
class Policy:
    """Who captures and how strictly: the rules the write path applies.

    ``strict`` turns mass balance and time order into errors (producers); otherwise they become warnings on the
    capture job (admin import). ``require_known`` refuses unknown lots, parties and products (producer API).
    """

    role: str = "admin"
    party_gln: str | None = None
    token_id: str | None = None
    strict: bool = False
    require_known: bool = False
    max_yield: float = 1.05
    max_future: timedelta = timedelta(minutes=5)

    @property
    def checks_master_data(self) -> bool:
        """Whether every product and party named must be registered: for party tokens always (capture never
        creates master data for them), and for the producer API."""
        return self.require_known or self.role != "admin"


@dataclass
class CaptureJob:
    """What a capture did: the job record stored as the Capture node and answered by GET /epcis/capture/{id}."""

    capture_id: str
    error_behaviour: str = "rollback"
    created_at: str = ""
    finished_at: str = ""
    event_count: int = 0
    captured: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """True when no event failed."""
        return not self.errors

    def as_dict(self) -> dict:
        """Return the job as the REST binding's CaptureJob document (plus our counts and warnings)."""
        return {
            "captureID": self.capture_id,
            "createdAt": self.created_at,
            "finishedAt": self.finished_at,
            "running": False,
            "success": self.success,
            "captureErrorBehaviour": self.error_behaviour,
            "errors": self.errors,
            "warnings": self.warnings,
            "eventCount": self.event_count,
            "capturedCount": len(self.captured),
            "duplicateCount": len(self.duplicates),
        }


def new_capture_id() -> str:
    """Return a fresh, unguessable capture job ID."""
    return "cap-" + uuid.uuid4().hex


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds and Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(raw: dict) -> str:
    """Return the hash that tells whether a re-sent event is the same as the stored one (recordTime aside)."""
    body = {k: v for k, v in raw.items() if k not in ("recordTime", "eventID")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def error(index: int | None, event_id: str | None, code: str, message: str, location: str | None = None) -> dict:
    """Return one per-event error (or warning) entry of a capture job."""
    entry = {"eventIndex": index, "eventID": event_id, "code": code, "message": message}
    if location:
        entry["location"] = location
    return entry


def capture(graph: Graph, events: list[tuple[int, NormalizedEvent]], policy: Policy, job: CaptureJob,
            record: bool = True, context: Any = None) -> CaptureJob:
    """Check and write a document's events in one transaction; fill and (optionally) store the capture job.

    Args:
        graph: the database.
        events: (index in the document, normalised event with its event_id set), in document order; events that
            failed normalisation are already in ``job.errors``.
        policy: who captures and the rules that apply.
        job: the capture job to fill: its ID, error behaviour, creation time and prior errors.
        record: store the Capture node (the EPCIS capture interface); the producer API raises instead.
        context: the document's JSON-LD ``@context`` (kept with each event so its CURIEs read back).

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


def raise_first_error(job: CaptureJob) -> None:
    """Raise the job's first error as a 422 naming every problem (the producer API's all-or-nothing answer).

    Raises:
        RuleViolation: the job has errors.
    """
    if not job.errors:
        return
    first = job.errors[0]
    problems = {"events": [e["message"] for e in job.errors]}
    raise RuleViolation(first["message"], details={"json": problems})


# --- the statements (fixed text; values only as $parameters) --------------------------------------------------

_EXISTING: LiteralString = """
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
RETURN e.event_id AS event_id, e.content_hash AS content_hash, e.erroneous AS erroneous, e.custody AS custody,
       e.hashed AS hashed, e.recorded_by AS recorded_by, elementId(e) AS eid
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
RETURN n.key AS key, n.status AS status, n.first_time.epochMillis AS first_time, n.gtin AS gtin,
       n.owner_gln AS owner, lot_owner,
       collect(CASE WHEN p IS NULL THEN null
               ELSE {gln: p.gln, quantity: h.quantity, pending: coalesce(h.pending, 0), unit: h.unit,
                     shipped_in: coalesce(h.shipped_in, h.pending, 0.0), received: coalesce(h.received, 0.0)} END)
       AS holders
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
        RETURN r.gln AS key, elementId(n) AS eid
    """,
    "Product": """
        UNWIND $rows AS r
        MERGE (n:Product {gtin: r.gtin})
        ON CREATE SET n.registered_by = 'capture', n.created_at = datetime()
        RETURN 'class:' + r.gtin AS key, elementId(n) AS eid
    """,
    "Location": """
        UNWIND $rows AS r
        MERGE (n:Location {key: r.key})
        ON CREATE SET n.gln = r.gln, n.ext = r.ext
        WITH n, r
        MERGE (p:Party {gln: r.gln})
        ON CREATE SET p.roles = [], p.registered_by = 'capture', p.created_at = datetime()
        MERGE (n)-[:OF_PARTY]->(p)
        RETURN r.key AS key, elementId(n) AS eid
    """,
    "Lot": """
        UNWIND $rows AS r
        MERGE (n:Lot {key: r.key})
        ON CREATE SET n.gtin = r.gtin, n.lot = r.lot, n.status = 'active', n.created_at = datetime(),
                      n.quantity = r.quantity, n.unit = r.unit, n.owner_gln = r.owner
        SET n.first_time = CASE WHEN r.first_time IS NOT NULL
                                 AND (n.first_time IS NULL OR n.first_time > datetime(r.first_time))
                                THEN datetime(r.first_time) ELSE n.first_time END
        WITH n, r
        MERGE (p:Product {gtin: r.gtin})
        ON CREATE SET p.registered_by = 'capture', p.created_at = datetime()
        MERGE (n)-[:OF_PRODUCT]->(p)
        RETURN r.key AS key, elementId(n) AS eid
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
        RETURN r.key AS key, elementId(n) AS eid
    """,
    "LogisticUnit": """
        UNWIND $rows AS r
        MERGE (n:LogisticUnit {key: r.key})
        ON CREATE SET n.sscc = r.sscc, n.created_at = datetime()
        RETURN r.key AS key, elementId(n) AS eid
    """,
    "OtherObject": """
        UNWIND $rows AS r
        MERGE (n:OtherObject {key: r.key})
        ON CREATE SET n.uri = r.uri
        RETURN r.key AS key, elementId(n) AS eid
    """,
}

_CREATE_EVENTS: LiteralString = """
UNWIND $rows AS r
CREATE (e:Event)
SET e = r.props, e.event_time = datetime(r.event_time), e.record_time = datetime(r.record_time)
RETURN r.props.event_id AS event_id, elementId(e) AS eid
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
    """Return the properties an Event node stores (one definition for every way events are written)."""
    return {
        "event_id": ev.event_id, "type": ev.type, "action": ev.action,
        "event_time_zone_offset": ev.event_time_zone_offset, "biz_step": ev.biz_step,
        "disposition": ev.disposition, "erroneous": ev.error_declaration is not None, "capture_id": capture_id,
        "recorded_by": policy.party_gln, "token_id": policy.token_id,
        "doc": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        "content_hash": chash, "hashed": "eventID" not in ev.raw,
        "custody": json.dumps(custody),
        "read_point": ev.read_point.key if ev.read_point else None,
        "biz_location": ev.biz_location.key if ev.biz_location else None,
        "context": context,
    }


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

def _here(ev: NormalizedEvent) -> str | None:
    """The acting party's GLN: the business location's, else the read point's."""
    for ref in (ev.biz_location, ev.read_point):
        if ref is not None and ref.gln:
            return ref.gln
    return None


def _amount(eq: EPCQuantity) -> float | None:
    """How much of a custody object an entry names: its quantity, or 1 for an instance (item, SSCC)."""
    if eq.ref.kind in ("item", "sscc"):
        return 1.0
    return float(eq.quantity) if eq.quantity is not None else None


def _ilmd_lot(ev: NormalizedEvent) -> str | None:
    """The lot number an ILMD declares (cbvmda:lotNumber in any notation)."""
    for key, value in (ev.ilmd or {}).items():
        if key.rsplit(":", 1)[-1].rsplit("#", 1)[-1] == "lotNumber" and isinstance(value, str):
            return value
    return None


def _dt(value: Any) -> datetime | None:
    """Epoch milliseconds (read back: the driver's DateTime conversion is slow per row), ISO text or a Neo4j DateTime
    as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.to_native()


class _Held:
    """One party's custody of one object, as the HOLDS relationship keeps it (see _HOLDS)."""

    __slots__ = ("own", "shipped_in", "received", "unit")

    def __init__(self, own: float = 0.0, shipped_in: float = 0.0, received: float = 0.0, unit: str | None = None):
        self.own, self.shipped_in, self.received, self.unit = own, shipped_in, received, unit

    @property
    def quantity(self) -> float:
        """What the party has, in transit to it included."""
        return self.own + max(self.shipped_in, self.received)

    @property
    def pending(self) -> float:
        """Shipped to the party and not received yet."""
        return max(self.shipped_in - self.received, 0.0)

    def add(self, d_own: float, d_shipped: float, d_received: float) -> None:
        """Apply one custody change."""
        self.own += d_own
        self.shipped_in += d_shipped
        self.received += d_received


def _legacy_custody(entry: list) -> tuple[str, str, float, float, float]:
    """A stored custody entry as (gln, key, own, shipped in, received) deltas; old events kept [gln, key, dq, dp]."""
    if len(entry) == 5:
        return entry[0], entry[1], entry[2], entry[3], entry[4]
    gln, key, dq, dp = entry
    shipped = max(dp, 0.0)
    return gln, key, dq - shipped, shipped, max(-dp, 0.0)


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
        self.tx.run(_LOCK, lots=sorted(keys["lot"]), items=sorted(keys["item"]), units=sorted(keys["sscc"]),
                    glns=sorted(glns)).consume()
        ids = sorted({ev.event_id for _, ev in self.events})
        self.existing = {r["event_id"]: r for r in tx_rows(self.tx, _EXISTING, ids=ids)}
        rows = tx_rows(self.tx, _STATE, lots=sorted(keys["lot"]), items=sorted(keys["item"]),
                       units=sorted(keys["sscc"]))
        self.state: dict[str, dict] = {}
        for r in rows:
            holders = {}
            for h in r["holders"]:
                if h:
                    s_in, rec = float(h["shipped_in"] or 0.0), float(h["received"] or 0.0)
                    holders[h["gln"]] = _Held(float(h["quantity"] or 0.0) - max(s_in, rec), s_in, rec, h["unit"])
            self.state[r["key"]] = {"status": r["status"] or "active", "first_time": _dt(r["first_time"]),
                                    "holders": holders, "exists": True, "owner": r["owner"],
                                    "lot_owner": r["lot_owner"]}
        self.known_products: dict[str, ownership.Product] = {}
        self.known_parties: set[str] = set()
        if self.policy.checks_master_data:
            for r in tx_rows(self.tx, _KNOWN, gtins=sorted(gtins), glns=sorted(glns)):
                if r["kind"] == "product":
                    self.known_products[r["id"]] = ownership.Product(r["owner"], frozenset(r["licensees"]))
                else:
                    self.known_parties.add(r["id"])
        self.view = ownership.View(product=self.known_products.get, party_known=self.known_parties.__contains__,
                                   thing=self._thing)
        # Stored reachability between the keys the document links: a transformation's outputs and every head of a
        # lineage edge the document adds may lead (in stored data) to its inputs or to a tail of such an edge.
        sources: set[str] = set()
        targets: set[str] = set()
        for _, ev in self.events:
            if ev.error_declaration is not None:
                continue
            for a, b in self._lineage(ev):
                targets.add(a)
                sources.add(b)
        self.stored_reach: dict[str, set[str]] = {}
        if any(ev.type == "TransformationEvent" for _, ev in self.events) and sources:
            for r in tx_rows(self.tx, _REACH, sources=sorted(sources), targets=sorted(targets)):
                self.stored_reach[r["source"]] = set(r["reached"])

    def _lineage(self, ev: NormalizedEvent) -> list[tuple[str, str]]:
        """The downstream lineage edges (from key, to key) an event adds: transformations, packing, lot items."""
        out = [(a.ref.key, b.ref.key) for a in ev.inputs for b in ev.outputs
               if a.ref.kind != "class" and b.ref.kind != "class"]
        if ev.type == "AggregationEvent" and ev.action == "ADD" and ev.parent is not None:
            out += [(c.ref.key, ev.parent.key) for c in ev.children if c.ref.kind != "class"]
        for eq in (*ev.objects, *ev.children, *ev.inputs, *ev.outputs):
            if eq.ref.kind == "item" and eq.ref.lot is not None:
                out.append((Ref("lot", gtin=eq.ref.gtin, lot=eq.ref.lot).key, eq.ref.key))
        return out

    def _node(self, ref: Ref) -> dict:
        node = self.state.get(ref.key)
        if node is None:
            node = {"status": "active", "first_time": None, "holders": {}, "exists": False, "owner": None,
                    "lot_owner": None}
            self.state[ref.key] = node
        return node

    def _thing(self, ref: Ref) -> ownership.Thing:
        """An object as the ownership rules see it at this point of the document."""
        node = self._node(ref)
        return ownership.Thing(exists=node["exists"], owner=node["owner"], lot_owner=node["lot_owner"],
                               holders={gln: held.quantity for gln, held in node["holders"].items()})

    # -- the checks, in event-time order, applying each good event to the simulated state --
    def run(self, record: bool) -> None:
        self._load()
        self.good: list[tuple[int, NormalizedEvent, str, dict]] = []  # (index, event, content hash, plan)
        self.declared: list[tuple[int, NormalizedEvent, str]] = []
        # (gln, key) -> [own, shipped in, received, unit, custody entries that moved something (reversals count -1)]
        self.deltas: dict[tuple[str, str], list] = defaultdict(lambda: [0.0, 0.0, 0.0, None, 0])
        self.batch_edges: dict[str, set[str]] = defaultdict(set)
        seen: dict[str, str] = {}
        order = sorted(range(len(self.events)), key=lambda i: (self.events[i][1].event_time, i))
        # When each object comes into being in this document: using it before then is a time-order gap too.
        self.born: dict[str, datetime] = {}
        for _, ev in self.events:
            if ev.error_declaration is None:
                for eq in ev.outputs if ev.type == "TransformationEvent" else ev.objects if self._is_origin(ev) else []:
                    t = _dt(ev.event_time)
                    if eq.ref.key not in self.born or t < self.born[eq.ref.key]:
                        self.born[eq.ref.key] = t
        forbidden: list[dict] = []
        for i in order:
            index, ev = self.events[i]
            eid = ev.event_id
            chash = content_hash(ev.raw)
            if ev.error_declaration is not None and (eid in self.existing or eid in seen):
                problems, denied = self._declare(index, ev, chash)
                forbidden.extend(denied)
                self.job.errors.extend(problems)
                continue
            previous = seen.get(eid) or (self.existing[eid]["content_hash"] if eid in self.existing else None)
            if previous is not None:
                if previous == chash or "eventID" not in ev.raw:
                    self.job.duplicates.append(eid)
                else:
                    self.job.errors.append(error(index, eid, "conflict", (
                        f"event {eid} was captured before with different content; an eventID names one event"),
                        "eventID"))
                continue
            problems, denied = self._check(i, index, ev)
            if denied:
                forbidden.extend(denied)
                continue
            if problems:
                self.job.errors.extend(problems)
                continue
            seen[eid] = chash
            self.good.append((index, ev, chash, self._apply(ev)))
        if forbidden:
            first = forbidden[0]
            raise Forbidden(first["message"], details={"json": {"events": [f["message"] for f in forbidden]}})
        self.job.finished_at = now_iso()
        failed = bool(self.job.errors) and self.job.error_behaviour == "rollback"
        if failed:
            self.job.captured = []
        else:
            self._write()
            self.job.captured = [ev.event_id for _, ev, _, _ in self.good] + [ev.event_id for _, ev, _ in self.declared]
        if record:
            self._store_job()

    def _problem(self, out: list[dict], index: int, ev: NormalizedEvent, code: str, message: str,
                 location: str | None = None, strict_only: bool = False) -> None:
        """Record a rule problem: an error, or a warning when the rule is strict-only and the policy lenient."""
        entry = error(index, ev.event_id, code, message, location)
        if strict_only and not self.policy.strict:
            self.job.warnings.append(entry)
        else:
            out.append(entry)

    def _check(self, i: int, index: int, ev: NormalizedEvent) -> tuple[list[dict], list[dict]]:
        policy = self.policy
        problems: list[dict] = []
        denied: list[dict] = []
        denied.extend(error(index, ev.event_id, "forbidden", message)
                      for message in ownership.denials(ev, policy.role, policy.party_gln, self.view))
        if ev.error_declaration is not None:
            return problems, denied  # declared erroneous on arrival: stored, counts for nothing
        t = _dt(ev.event_time)
        if t > self.now + policy.max_future:
            self._problem(problems, index, ev, "time", (
                f"eventTime {ev.event_time} is more than {int(policy.max_future.total_seconds() // 60)} minutes "
                "in the future"), "eventTime", strict_only=True)
        origin = self._is_origin(ev)
        step, disp = ev.biz_step, ev.disposition
        destroying = step in DESTROY_STEPS or disp in DESTROY_DISPOSITIONS
        used = ev.inputs if ev.type == "TransformationEvent" else (ev.objects if ev.type != "AggregationEvent"
                                                                   and ev.type != "AssociationEvent"
                                                                   else ev.children)
        if policy.checks_master_data:
            problems.extend(error(index, ev.event_id, "not_found", message)
                            for message in ownership.unknown_master_data(ev, self.view))
        for eq in used:
            if eq.ref.kind not in CUSTODY_KINDS:
                continue
            node = self._node(eq.ref)
            name = _name(eq.ref)
            if origin and ev.type == "ObjectEvent":
                continue
            if policy.require_known and not node["exists"]:
                problems.append(error(index, ev.event_id, "not_found", f"no {name} registered"))
                continue
            if node["status"] in BLOCKING_STATUSES:
                status = node["status"].replace("_", " ")
                if ev.type == "TransformationEvent":
                    self._problem(problems, index, ev, "lot_status", (
                        f"{name} is {status}: it may not be consumed as an input"), strict_only=True)
                elif (step in SHIP_STEPS | REMOVE_STEPS or disp in REMOVE_DISPOSITIONS) and not destroying:
                    # Destroying the stock is what a recall or hold asks of a holder: never refused.
                    problems.append(error(index, ev.event_id, "lot_status", (
                        f"{name} is {status}: it may not be shipped, sold or consumed, only destroyed")))
            first = min((x for x in (node["first_time"], self.born.get(eq.ref.key)) if x is not None), default=None)
            if first is not None and t < first:
                self._problem(problems, index, ev, "time", (
                    f"eventTime {ev.event_time} is before {name} existed "
                    f"({first.isoformat().replace('+00:00', 'Z')})"), "eventTime", strict_only=True)
            if policy.role == "producer" and step not in RECEIVE_STEPS:
                held = node["holders"].get(policy.party_gln)
                if held is None or held.quantity <= EPSILON:
                    denied.append(error(index, ev.event_id, "forbidden",
                                        f"party {policy.party_gln} does not hold {name}"))
        if ev.type == "TransformationEvent":
            self._check_transformation(i, index, ev, problems)
        self._check_balance(index, ev, problems)
        return problems, denied

    def _check_transformation(self, i: int, index: int, ev: NormalizedEvent, problems: list[dict]) -> None:
        for a in ev.inputs:
            for b in ev.outputs:
                if a.ref.kind == "class" or b.ref.kind == "class":
                    continue
                if a.ref.key == b.ref.key or self._reaches(b.ref.key, a.ref.key):
                    problems.append(error(index, ev.event_id, "cycle", (
                        f"{_name(b.ref)} is already upstream of {_name(a.ref)}: this transformation would make a "
                        "cycle")))
        by_uom_in: dict[str | None, float] = defaultdict(float)
        by_uom_out: dict[str | None, float] = defaultdict(float)
        for eq in ev.inputs:
            if eq.quantity is not None:
                by_uom_in[eq.uom] += float(eq.quantity)
        for eq in ev.outputs:
            if eq.quantity is not None:
                by_uom_out[eq.uom] += float(eq.quantity)
        for uom, out_qty in by_uom_out.items():
            in_qty = by_uom_in.get(uom)
            if in_qty is not None and out_qty > in_qty * self.policy.max_yield + EPSILON:
                self._problem(problems, index, ev, "mass_balance", (
                    f"outputs total {out_qty:g} {uom or ''} but inputs only {in_qty:g}: more than the yield "
                    f"tolerance x{self.policy.max_yield:g}").replace("  ", " "), strict_only=True)

    def _reaches(self, start: str, goal: str) -> bool:
        """Does ``start`` lead to ``goal`` downstream, through stored lineage and this document's edges so far?"""
        stack, seen = [start], {start}
        while stack:
            here = stack.pop()
            for nxt in (*self.batch_edges.get(here, ()), *self.stored_reach.get(here, ())):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def _check_balance(self, index: int, ev: NormalizedEvent, problems: list[dict]) -> None:
        """Refuse (or warn about) taking more of a lot from a party than it holds, or receiving what nobody shipped."""
        for gln, ref, d_own, _ds, d_rec, _unit in self._plan_custody(ev):
            held = self._node(ref)["holders"].get(gln) or _Held()
            if d_own < 0 and held.quantity + d_own < -EPSILON:
                self._problem(problems, index, ev, "mass_balance", (
                    f"party {gln} holds {held.quantity:g} of {_name(ref)} and cannot ship, consume or destroy "
                    f"{-d_own:g}"), strict_only=True)
            if d_rec > 0 and held.pending + EPSILON < d_rec:
                self._problem(problems, index, ev, "receipt", (
                    f"party {gln} receives {d_rec:g} of {_name(ref)} but only {held.pending:g} was shipped to it "
                    "and not yet received"), strict_only=True)

    # -- custody planning --
    _is_origin = staticmethod(ownership.is_origin)

    def _plan_custody(self, ev: NormalizedEvent) -> list[tuple[str, Ref, float, float, float, str | None]]:
        """The HOLDS changes an event makes: (party GLN, object, own delta, shipped-in delta, received delta, unit).

        Every change is a plain delta (never "what is there"), so the custody of a set of events is the same
        whatever order and documents they arrive in.
        """
        here = _here(ev)
        out: list[tuple[str, Ref, float, float, float, str | None]] = []
        step, disp = ev.biz_step, ev.disposition
        if ev.type == "TransformationEvent":
            if here:
                for eq in ev.inputs:
                    amount = _amount(eq)
                    if eq.ref.kind in CUSTODY_KINDS and amount is not None:
                        out.append((here, eq.ref, -amount, 0.0, 0.0, eq.uom))
                for eq in ev.outputs:
                    amount = _amount(eq)
                    if eq.ref.kind in CUSTODY_KINDS and amount is not None:
                        out.append((here, eq.ref, amount, 0.0, 0.0, eq.uom))
            return out
        if ev.type != "ObjectEvent":
            return out
        for eq in ev.objects:
            amount = _amount(eq)
            if eq.ref.kind not in CUSTODY_KINDS or amount is None:
                continue
            if self._is_origin(ev):
                if here:
                    out.append((here, eq.ref, amount, 0.0, 0.0, eq.uom))
            elif ev.action == "DELETE" or step in REMOVE_STEPS or disp in REMOVE_DISPOSITIONS:
                if here:
                    out.append((here, eq.ref, -amount, 0.0, 0.0, eq.uom))
            elif step in SHIP_STEPS:
                source = _party_of(ev.sources) or here
                dest = _party_of(ev.destinations)
                if source:
                    out.append((source, eq.ref, -amount, 0.0, 0.0, eq.uom))
                if dest and dest != source:
                    out.append((dest, eq.ref, 0.0, amount, 0.0, eq.uom))
            elif step in RECEIVE_STEPS:
                receiver = _party_of(ev.destinations) or here
                if receiver:
                    out.append((receiver, eq.ref, 0.0, 0.0, amount, eq.uom))
        return out

    def _apply(self, ev: NormalizedEvent) -> dict:
        """Apply a good event to the simulated state; return its write plan."""
        custody: list[list] = []
        planned = self._plan_custody(ev) if ev.error_declaration is None else []
        for gln, ref, d_own, d_ship, d_rec, unit in planned:
            held = self._node(ref)["holders"].setdefault(gln, _Held(unit=unit))
            held.add(d_own, d_ship, d_rec)
            self._delta(gln, ref.key, d_own, d_ship, d_rec, unit)
            custody.append([gln, ref.key, d_own, d_ship, d_rec])
        t = _dt(ev.event_time)
        if ev.error_declaration is None:
            created = ev.outputs if ev.type == "TransformationEvent" else (ev.objects if self._is_origin(ev) else [])
            for eq in created:
                if eq.ref.kind in CUSTODY_KINDS:
                    node = self._node(eq.ref)
                    if not node["exists"] and eq.ref.kind == "lot":
                        node["owner"] = _here(ev)  # as _write stores it: who first made the lot
                    node["exists"] = True
                    if node["first_time"] is None or t < node["first_time"]:
                        node["first_time"] = t
            for a, b in self._lineage(ev):
                self.batch_edges[a].add(b)
        return {"custody": custody}

    def _delta(self, gln: str, key: str, d_own: float, d_ship: float, d_rec: float, unit: str | None,
               reverse: bool = False) -> None:
        d = self.deltas[(gln, key)]
        d[0] += d_own
        d[1] += d_ship
        d[2] += d_rec
        d[3] = d[3] or unit
        # A party that custody touched keeps its HOLDS edge (at zero too): the same edges for any batching. The
        # edge counts the entries that touched it, so reversing the last of them (a declaration) removes it, as a
        # replay of the record without the erroneous event would never have made it.
        if any(abs(x) > EPSILON for x in (d_own, d_ship, d_rec)):
            d[4] += -1 if reverse else 1

    def _declare(self, index: int, ev: NormalizedEvent, chash: str) -> tuple[list[dict], list[dict]]:
        """An errorDeclaration of an event captured before (or earlier in this document): check who declares and
        that it repeats the event unchanged, then mark the event, reverse its custody and drop its lineage edges.
        The event itself stays in the record, as captured, with the declaration beside it.

        Returns:
            (rule problems, denials), as _check.
        """
        eid = ev.event_id
        prior = self.existing.get(eid)
        if prior is not None and prior.get("erroneous"):
            self.job.duplicates.append(eid)
            return [], []
        same_doc = next((k for k, (_, gev, _, plan) in enumerate(self.good)
                         if gev.event_id == eid and not plan.get("declared")), None)
        if prior is None and same_doc is None:
            self.job.duplicates.append(eid)  # declared twice in one document
            return [], []
        denied = [error(index, eid, "forbidden", m)
                  for m in ownership.denials(ev, self.policy.role, self.policy.party_gln, self.view)]
        recorder = prior.get("recorded_by") if prior is not None else self.policy.party_gln
        if self.policy.role != "admin" and recorder != self.policy.party_gln:
            denied.append(error(index, eid, "forbidden", (
                f"event {eid} was recorded by {recorder or 'an admin'}: only the party that recorded an event (or "
                "an admin) may declare it erroneous"), "errorDeclaration"))
        if denied:
            return [], denied
        original = content_hash({k: v for k, v in ev.raw.items() if k != "errorDeclaration"})
        stored = prior["content_hash"] if prior is not None else self.good[same_doc][2]
        if original != stored:
            return [error(index, eid, "conflict", (
                f"an errorDeclaration repeats event {eid} unchanged (EPCIS 2.0): this one differs from the event "
                "as captured; to say what really happened, capture corrective events and name them in "
                "correctiveEventIDs"), "errorDeclaration")], []
        if prior is not None:
            entries = [_legacy_custody(entry) for entry in json.loads(prior.get("custody") or "[]")]
        else:
            entries = [tuple(entry) for entry in self.good[same_doc][3]["custody"]]
        problems: list[dict] = []
        for gln, key, d_own, d_ship, d_rec in entries:
            held = self.state.get(key, {}).get("holders", {}).get(gln) or _Held()
            after = _Held(held.own - d_own, held.shipped_in - d_ship, held.received - d_rec)
            if after.quantity < -EPSILON or after.received > after.shipped_in + EPSILON:
                self._problem(problems, index, ev, "mass_balance", (
                    f"declaring event {eid} erroneous would leave party {gln} with {after.quantity:g} of {key} "
                    f"({after.received:g} received of {max(after.shipped_in, 0.0):g} shipped to it): declare the "
                    "events that used what it moved (a receipt, a shipment onward) erroneous first"),
                    "errorDeclaration", strict_only=True)
        if problems:
            return problems, []
        for gln, key, d_own, d_ship, d_rec in entries:
            self._delta(gln, key, -d_own, -d_ship, -d_rec, None, reverse=True)
            held = self.state.get(key, {}).get("holders", {}).get(gln)
            if held is not None:
                held.add(-d_own, -d_ship, -d_rec)
        if prior is None:
            # Declared in the same document as the event: the good entry is replaced by the declaration.
            self.good[same_doc] = (index, ev, chash, {"custody": [], "declared": True})
        else:
            self.declared.append((index, ev, chash))
        return [], []

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

        def want(ref: Ref | None) -> None:
            if ref is None:
                return
            kind = ref.kind
            if kind == "lot":
                nodes["Lot"].setdefault(ref.key, {"key": ref.key, "gtin": ref.gtin, "lot": ref.lot})
            elif kind == "item":
                nodes["Item"].setdefault(ref.key, {"key": ref.key, "gtin": ref.gtin, "serial": ref.serial,
                                                   "lot": ref.lot})
                if ref.lot is not None:
                    want(Ref("lot", gtin=ref.gtin, lot=ref.lot))
            elif kind == "class":
                nodes["Product"].setdefault("class:" + ref.gtin, {"gtin": ref.gtin})
            elif kind == "sscc":
                nodes["LogisticUnit"].setdefault(ref.key, {"key": ref.key, "sscc": ref.sscc})
            elif kind == "location":
                nodes["Location"].setdefault(ref.key, {"key": ref.key, "gln": ref.gln, "ext": ref.ext})
            elif kind == "party":
                nodes["Party"].setdefault(ref.gln, {"gln": ref.gln})
            else:
                nodes["OtherObject"].setdefault(ref.key, {"key": ref.key, "uri": ref.canonical or ref.uri})

        event_rows, edge_rows, derived, declares, corrects = [], [], [], [], []
        for _index, ev, chash, plan in self.good:
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
                       ev.objects if self._is_origin(ev) and not declared else []):
                if eq.ref.kind in ("lot", "item"):
                    if eq.ref.key not in first_times or t < first_times[eq.ref.key]:
                        first_times[eq.ref.key] = t
                    if eq.ref.kind == "lot" and eq.quantity is not None:
                        owners.setdefault(eq.ref.key, (eq.quantity, eq.uom, _here(ev)))
        for _index, ev, _chash in self.declared:
            declares.append({"event_id": ev.event_id,
                             "declaration": json.dumps(ev.raw.get("errorDeclaration"), ensure_ascii=False,
                                                       separators=(",", ":")),
                             "corrective": ev.error_declaration["corrective_event_ids"]})
            for cid in ev.error_declaration["corrective_event_ids"]:
                corrects.append({"corrective": cid, "erroneous": ev.event_id})
        for gln, _key in self.deltas:
            nodes["Party"].setdefault(gln, {"gln": gln})
        for key, row in nodes["Lot"].items():
            row["first_time"] = first_times.get(key)
            qty, unit, owner = owners.get(key, (None, None, None))
            row.update(quantity=qty, unit=unit, owner=owner)
        for key, row in nodes["Item"].items():
            row["first_time"] = first_times.get(key)

        ids: dict[tuple[str, str], str] = {}
        for label, rows in nodes.items():
            if rows:
                for r in tx_rows(tx, _MERGE_NODES[label], rows=list(rows.values())):
                    ids[(label, r["key"])] = r["eid"]
        event_ids = {r["event_id"]: r["eid"] for r in tx_rows(tx, _CREATE_EVENTS, rows=event_rows)} \
            if event_rows else {}
        resolved = []
        for row in edge_rows:
            n = ids.get(row.pop("target"))
            if n is not None:
                resolved.append({**row, "e": event_ids[row.pop("event_id")], "n": n})
        if resolved:
            tx.run(_EVENT_EDGES, rows=resolved).consume()
        drows = []
        for row in derived:
            a, b = ids.get(row.pop("a")), ids.get(row.pop("b"))
            if a is not None and b is not None:
                drows.append({**row, "a": a, "b": b})
        if drows:
            tx.run(_DERIVED, rows=drows).consume()
        if declares:
            rows = [{"e": self.existing[d["event_id"]]["eid"], "declaration": d["declaration"],
                     "declared_by": self.policy.party_gln, "corrective": d["corrective"],
                     "capture_id": self.job.capture_id} for d in declares]
            tx.run(_DECLARE, rows=rows).consume()
        holds = []
        for (gln, key), (d_own, d_ship, d_rec, unit, touched) in sorted(self.deltas.items()):
            if not touched and all(abs(x) <= EPSILON for x in (d_own, d_ship, d_rec)):
                continue
            label = _label_of_key(key)
            n = ids.get((label, key))
            if n is None:
                n = self._lookup(label, key)
            if n is not None:
                holds.append({"p": ids[("Party", gln)], "n": n, "db": d_own, "ds": d_ship, "dr": d_rec,
                              "unit": unit, "dn": touched})
        if holds:
            tx.run(_HOLDS, rows=holds).consume()
        if corrects:
            tx.run(_CORRECTS, rows=corrects).consume()

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
        ilmd_lot = _ilmd_lot(ev) if self._is_origin(ev) else None
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
        self.tx.run(_STORE_JOB, props=props, created_at=job.created_at, finished_at=job.finished_at).consume()


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
        return ("Product", "class:" + ref.gtin)
    if ref.kind == "location":
        return ("Location", ref.key)
    if ref.kind == "party":
        return ("Party", ref.gln)
    return (LABELS[ref.kind], ref.key)


