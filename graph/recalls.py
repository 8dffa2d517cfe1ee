"""Recall cases: the affected set (forward closure), `recalled` dispositions, holders, acknowledgements, holds.

Opening a case is one transaction: compute the forward closure of every implicated lot (optionally only through
what was made from it inside a contamination window), mark every affected Lot/Item `recalled`, snapshot who
holds or received any of it (NOTIFIES), and record a `recalled` disposition for each affected object as EPCIS
ObjectEvents (graph/events.py writes them as it writes every event), so the record itself shows the recall.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import LiteralString

from neo4j import ManagedTransaction

from graph import events, notify_rules, outbox
from graph.driver import Graph, tx_rows
from graph.errors import Conflict, Forbidden, NotFound, RuleViolation
from graph.key_data import recall_key_data_rows
from graph.recall_rules import (
    LEVELS,
    ack_capacity,
    ack_limit_error,
    deadlines,
    notify_list,
)
from graph.recall_shape import shape
from graph.trace import PARTY_FIELDS
from gs1.event_builders import recalled_events

AFFECTED: LiteralString = """
UNWIND range(0, size($keys) - 1) AS i
OPTIONAL MATCH (s:Lot {key: $keys[i]})
CALL (s) {
    WITH s WHERE s IS NOT NULL AND $from IS NULL
    MATCH (s)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d)
    RETURN collect(DISTINCT d) AS plain
}
CALL (s) {
    WITH s WHERE s IS NOT NULL AND $from IS NOT NULL
    MATCH (s)-[:HAS_ITEM|PACKED_IN*0..]->(x)
    WITH collect(DISTINCT x) AS ident
    CALL (ident) {
        UNWIND ident AS a
        MATCH (a)-[r:TRANSFORMED_INTO]->(n)
        WHERE r.time >= $from AND r.time <= $to
        WITH DISTINCT n
        MATCH (n)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d)
        RETURN collect(DISTINCT d) AS down
    }
    RETURN ident + down AS windowed
}
RETURN i, s IS NOT NULL AS found, [n IN plain + windowed | [n.key, elementId(n)]] AS nodes
"""

# The case's parts, one definition each, over the affected nodes `ns`: read by OPEN_AFFECTED and OPEN_HOLDERS (in
# the opening transaction: the case is answered from what opening it reads; the nodes are found by element ID,
# not through the 10,000 AFFECTS edges the transaction has just added) and by CASE (later). Rows are
# lists, not maps, and grouped where values repeat: the affected objects per product (names once per product),
# the holdings per party (its GLN once), the shipments per event (an event's JSON once, for its documents, not
# once per object it names): a 10,000-lot case was 10,000 copies of its shipping events' JSON before.
#
# A lot's or item's product is the one its GTIN names (OF_PRODUCT is merged on it): one index look-up per GTIN,
# not an OF_PRODUCT walk per object; a logistic unit has no GTIN and no product.
_AFFECTED_PART: LiteralString = """
CALL (ns) {
    UNWIND ns AS n
    WITH n.gtin AS gtin, collect([n.key, CASE WHEN n:Lot THEN 'lot' WHEN n:Item THEN 'item' ELSE 'sscc' END, n.gtin,
                                  n.lot, n.serial, n.sscc, n.status, n.quantity, n.unit]) AS objects
    OPTIONAL MATCH (p:Product {gtin: gtin})
    RETURN collect([p.name_zh, p.name_en, objects]) AS affected
}
"""

# everyone holding any of it, or with some of it in transit to them
_HOLDINGS_PART: LiteralString = """
CALL (ns) {
    UNWIND ns AS n
    MATCH (n)<-[h:HOLDS]-(p:Party)
    WHERE coalesce(h.quantity, 0) > 0 OR coalesce(h.pending, 0) > 0
    WITH p, collect([n.key, h.quantity, h.pending, h.unit]) AS held
    RETURN collect([p.gln, held]) AS holdings
}
"""

# The events that sent any of it somewhere, with the parties they name as destination (a party names itself; a
# location names its party: never expand from a dense party node). An object is named by a handful of events
# (made, shipped, received, recalled): group the names by event first and test each event's properties once.
# Events of $listed steps are the case's shipments (documents and what each sent); the other $notified steps
# (receipts) only name parties to notify.
_SHIPMENTS_PART: LiteralString = """
CALL (ns) {
    UNWIND ns AS n
    MATCH (n)<-[o:OBJECT]-(e:Event)
    WITH e, collect(o) AS named
    WHERE e.biz_step IN $notified AND NOT coalesce(e.erroneous, false)
    CALL (e) {
        MATCH (e)-[:DESTINATION]->(x)
        WITH CASE WHEN x:Party THEN x.gln ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp.gln]) END AS gln
        RETURN collect(gln) AS glns
    }
    WITH e, named, glns, e.biz_step IN $listed AS listed WHERE size(glns) > 0
    RETURN collect([glns, e.event_id, e.event_time, CASE WHEN listed THEN e.doc END,
                    CASE WHEN listed THEN [o IN named | [endNode(o).key, o.quantity, o.uom]] END]) AS shipments
}
"""

LISTED_STEPS = ["shipping", "departing"]
NOTIFIED_STEPS = ["shipping", "departing", "receiving", "arriving"]

_OPEN_WRITE: LiteralString = """
CREATE (r:Recall {recall_id: $r.recall_id, level: $r.level, reason: $r.reason, status: 'open',
                  opened_at: datetime($r.opened_at), opened_by: $r.opened_by, start_by: datetime($r.start_by),
                  complete_by: datetime($r.complete_by), window_from: $r.window_from, window_to: $r.window_to,
                  affected_count: size($affected), capture_id: $r.capture_id, drill: $r.drill,
                  initiated_by: $r.initiated_by, opened_by_party: $r.opened_by_party,
                  refund_contact: $r.refund_contact, trace_ms: $r.trace_ms})
WITH r
CALL (r) {
    UNWIND $implicated AS k
    MATCH (l:Lot {key: k})
    CREATE (r)-[:IMPLICATES]->(l)
}
CALL (r) {
    UNWIND $affected AS a
    MATCH (n) WHERE elementId(n) = a
    CREATE (r)-[:AFFECTS]->(n)
    // when is the case's opened_at: a status_changed_at here was a new property record on 10,000 nodes
    // a drill (mock recall) walks and notifies the same, and changes no status
    FOREACH (_ IN CASE WHEN (n:Lot OR n:Item) AND NOT $r.drill THEN [1] ELSE [] END | SET n.status = 'recalled')
}
"""
_OPEN_RETURN: LiteralString = """
RETURN r {.*} AS recall
"""
OPEN: LiteralString = _OPEN_WRITE + _OPEN_RETURN
_OPEN_NODES: LiteralString = """
UNWIND $affected AS a
MATCH (n) WHERE elementId(n) = a
WITH collect(n) AS ns
"""
_OPEN_AFFECTED_RETURN: LiteralString = """
RETURN affected
"""
_OPEN_HOLDERS_RETURN: LiteralString = """
RETURN holdings, shipments
"""
# The affected objects' fields are read before OPEN (a lot's or item's identity and size never change; its status
# is the one OPEN sets); who holds them, and where they were shipped, after (see open_case).
OPEN_AFFECTED: LiteralString = _OPEN_NODES + _AFFECTED_PART + _OPEN_AFFECTED_RETURN
OPEN_HOLDERS: LiteralString = _OPEN_NODES + _HOLDINGS_PART + _SHIPMENTS_PART + _OPEN_HOLDERS_RETURN

# who to notify, with what each held when the case opened (per unit), as open_case works it out from the holdings
# and shipments OPEN_HOLDERS read
NOTIFY: LiteralString = """
MATCH (r:Recall {recall_id: $id})
UNWIND $notify AS x
MATCH (p:Party {gln: x.gln})
CREATE (r)-[:NOTIFIES {units: x.units, quantities: x.quantities}]->(p)
RETURN collect([[k IN $party_fields | p[k]], x.units, x.quantities]) AS notified
"""

# The case, read back in one round trip.
_CASE_RECALL: LiteralString = """
MATCH (r:Recall {recall_id: $id})
CALL (r) {
    OPTIONAL MATCH (r)-[:IMPLICATES]->(l:Lot)
    RETURN collect(l.key) AS implicated
}
CALL (r) {
    MATCH (r)-[:AFFECTS]->(n)
    RETURN collect(n) AS ns
}
"""
_CASE_REST: LiteralString = """
// only the party fields the case shows: every other property (created_at...) costs a temporal value to decode
CALL (r) {
    MATCH (r)-[nf:NOTIFIES]->(p:Party)
    RETURN collect([[k IN $party_fields | p[k]], nf.units, nf.quantities]) AS notified
}
CALL (r) {
    OPTIONAL MATCH (a:RecallAck)-[:ACKNOWLEDGES]->(r)
    WITH a ORDER BY a.at
    RETURN collect(a {.*}) AS acks
}
RETURN r {.*} AS recall, implicated, affected, holdings, shipments, notified, acks
"""
CASE: LiteralString = _CASE_RECALL + _AFFECTED_PART + _HOLDINGS_PART + _SHIPMENTS_PART + _CASE_REST


def open_case(graph: Graph, implicated: list[str], level: int, reason: str,
              window: tuple[datetime, datetime] | None = None, opened_by: str | None = None,
              now: datetime | None = None, notify_key: bytes | None = None, drill: bool = False,
              owner_gln: str | None = None, opened_by_party: str | None = None,
              refund_contact: str | None = None) -> dict:
    """Open a recall case: affected set, statuses, `recalled` events, the holders and their notices, all or nothing.

    Args:
        graph: the database.
        implicated: the implicated lots' keys.
        level: 1, 2 or 3 (Food Recall Administrative Measures).
        reason: why (shown to holders and on the record).
        window: optional (from, to): only what was made from an implicated lot inside it is affected.
        opened_by: the regulator's token ID.
        now: the opening instant (tests); the current time otherwise.
        notify_key: the server's notification key; with it, one notice per holder and channel is written to the
            outbox (graph/outbox.py) in the same transaction.
        drill: a mock recall: the same traversal, holders and notices (marked as a drill), no status changed and
            no `recalled` event recorded.
        owner_gln: a producer's own recall (自主召回): every implicated lot must be owned by this party.
        opened_by_party: the party of whoever opened it (a producer's own recall), for the cases list.
        refund_contact: who consumers contact for a refund (shown on the public notice).

    Returns:
        The case as `get` answers it.

    Raises:
        NotFound: an implicated lot does not exist (details name which).
        Forbidden: owner_gln is given and an implicated lot is not that party's.
        Unavailable: the database does not answer.
    """
    if level not in LEVELS:
        raise ValueError("level must be 1, 2 or 3")
    implicated = list(dict.fromkeys(implicated))
    opened = (now or datetime.now(UTC)).astimezone(UTC)
    due = deadlines(opened, level)
    recall_id = f"{'DR' if drill else 'RC'}-{opened:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"
    capture_id = events.new_capture_id()  # the case's own `recalled` events: left out of its spreadsheet
    record = {"recall_id": recall_id, "capture_id": capture_id, "level": level, "reason": reason,
              "opened_at": opened.isoformat(), "opened_by": opened_by, "start_by": due["start_by"].isoformat(),
              "complete_by": due["complete_by"].isoformat(),
              "window_from": window[0].astimezone(UTC).isoformat() if window else None,
              "window_to": window[1].astimezone(UTC).isoformat() if window else None,
              "drill": drill, "initiated_by": "producer" if owner_gln else ("drill" if drill else "regulator"),
              "opened_by_party": opened_by_party or owner_gln, "refund_contact": refund_contact, "trace_ms": None}

    def work(tx: ManagedTransaction) -> dict:
        started = time.perf_counter()
        if owner_gln is not None:
            foreign = tx_rows(tx, NOT_OWNED, keys=implicated, gln=owner_gln)
            if foreign:
                raise Forbidden(f"party {owner_gln} does not own " + ", ".join(r["key"] for r in foreign),
                                field="lots")
        # records as they come (no .data(): its recursive copy of 10,000 affected objects costs more than the read)
        rows = [dict(r) for r in tx.run(AFFECTED, keys=implicated, **{"from": window[0] if window else None,
                                                                        "to": window[1] if window else None})]
        missing = [r["i"] for r in rows if not r["found"]]
        if missing:
            raise NotFound(
                "no such lot: " + ", ".join(implicated[i] for i in missing), field=None,
                details={"json": {"lots": {str(i): ["no such lot"] for i in missing}}},
            )
        targets = {key: eid for r in rows for key, eid in r["nodes"]}
        affected = sorted(targets)
        ids = [targets[k] for k in affected]
        # read before OPEN changes them: the nodes' own fields read back from the transaction's state cost twice
        by_product = tx.run(OPEN_AFFECTED, affected=ids).single(strict=True)["affected"]
        for _, _, objects in by_product:
            for o in objects:
                if o[1] in ("lot", "item") and not drill:
                    o[6] = "recalled"  # as OPEN sets it
        # Holders after OPEN: AFFECTS locks every affected node, and capture locks the objects it names before it
        # reads them, so a shipment either committed before this point (and the read sees its holder) or waits
        # for this case and then finds its goods recalled. Read before, a shipment committed in between would go
        # to a holder nobody notifies.
        recall = tx.run(OPEN, r=record, implicated=implicated, affected=ids).single(strict=True)["recall"]
        holders = tx.run(OPEN_HOLDERS, affected=ids, listed=LISTED_STEPS, notified=NOTIFIED_STEPS)
        # the events are built while Neo4j reads the holders (the driver has sent the query; its answer waits), as
        # plain observations that graph/events.py's record_observations writes in the case's transaction
        recalled = None if drill else events.observation_rows(
            recalled_events(recall_id, affected, opened), targets,
            events.Policy(role="admin", token_id=opened_by), capture_id)
        row = dict(holders.single(strict=True))
        row["recall"], row["affected"] = recall, by_product
        row["notified"] = tx_rows(tx, NOTIFY, id=recall_id, notify=notify_list(row["holdings"], row["shipments"]),
                                  party_fields=list(PARTY_FIELDS))[0]["notified"]
        if recalled is not None:
            events.record_observations(tx, recalled)
        # the case as get() reads it, from the opening transaction's own reads: what it just wrote, nothing else yet
        row["implicated"], row["acks"] = implicated, []
        row["shipments"] = [s for s in row["shipments"] if s[4] is not None]
        case = shape(row)
        case["trace_ms"] = round((time.perf_counter() - started) * 1000, 1)
        tx.run(TRACE_TIME, id=recall_id, ms=case["trace_ms"]).consume()
        if notify_key is not None:
            outbox.enqueue_tx(tx, notify_key, notify_rules.notices(case, "opened", drill))
        return case

    return graph.write(work)


NOT_OWNED: LiteralString = """
UNWIND $keys AS k
MATCH (l:Lot {key: k}) WHERE coalesce(l.owner_gln, '') <> $gln
RETURN l.key AS key
"""
TRACE_TIME: LiteralString = """
MATCH (r:Recall {recall_id: $id}) SET r.trace_ms = $ms
"""


IMPLICATING: LiteralString = """
MATCH (r:Recall)-[:IMPLICATES]->(:Lot {key: $key})
WHERE NOT coalesce(r.drill, false)
RETURN r.recall_id AS recall_id ORDER BY r.opened_at, r.recall_id
"""


def implicating(graph: Graph, key: str) -> list[str]:
    """Return the IDs of the recall cases that implicate a lot, the first opened first.

    Args:
        graph: the database.
        key: the lot's business key.

    Raises:
        Unavailable: the database does not answer.
    """
    return [r["recall_id"] for r in graph.query(IMPLICATING, read=True, key=key)]


def get(graph: Graph, recall_id: str) -> dict:
    """Return a recall case: affected objects, holders with contacts and quantities, deadlines, effectiveness.

    Raises:
        NotFound: no such recall.
    """
    rows = graph.read(lambda tx: [dict(r) for r in tx.run(CASE, id=recall_id, party_fields=list(PARTY_FIELDS),
                                                           listed=LISTED_STEPS, notified=LISTED_STEPS)])
    if not rows:
        raise NotFound(f"no recall {recall_id}", field="recall_id")
    return shape(rows[0])


# Locks the case, so two acknowledgements of one party cannot both pass the cap on what it held.
ACK_LOCK: LiteralString = """
MATCH (r:Recall {recall_id: $id})
SET r.status = r.status
RETURN r.status AS status
"""

ACK_CREATE: LiteralString = """
MATCH (r:Recall {recall_id: $id}), (p:Party {gln: $a.party_gln})
CREATE (a:RecallAck {ack_id: $a.ack_id, recall_id: $id, party_gln: $a.party_gln, lot_key: $a.lot_key,
                     quantity_removed: $a.quantity_removed, quantity_recovered: $a.quantity_recovered,
                     unit: $a.unit, note: $a.note, token_id: $a.token_id, at: datetime()})
CREATE (a)-[:ACKNOWLEDGES]->(r)
CREATE (p)-[:ACKNOWLEDGED]->(a)
"""


def acknowledge(graph: Graph, recall_id: str, ack: dict) -> dict:
    """Record a holder's confirmation of removal/recovery and return the case.

    Args:
        graph: the database.
        recall_id: the case.
        ack: party_gln, quantity_removed, quantity_recovered, unit, optional lot_key, note, token_id.

    Raises:
        NotFound: no such recall.
        Conflict: the case is closed.
        RuleViolation: the party was not notified in this case, or its acknowledgements would report more removed
            or recovered (per unit, in total) than it held of the case when the case opened.
    """
    graph.write(acknowledge_tx, recall_id, ack)
    return get(graph, recall_id)


def acknowledge_tx(tx: ManagedTransaction, recall_id: str, ack: dict) -> str:
    """Record an acknowledgement in `tx` under the case's lock, within the holder's cap; return its ID.

    Raises:
        NotFound, Conflict, RuleViolation: as `acknowledge`.
    """
    ack = {**ack, "ack_id": "ACK-" + uuid.uuid4().hex[:12].upper()}
    rows = tx_rows(tx, ACK_LOCK, id=recall_id)
    if not rows:
        raise NotFound(f"no recall {recall_id}", field="recall_id")
    if rows[0]["status"] != "open":
        raise Conflict(f"recall {recall_id} is closed; it takes no more acknowledgements")
    case = case_tx(tx, recall_id)
    holder = next((h for h in case["holders"] if h["party"]["gln"] == ack["party_gln"]), None)
    if holder is None:
        raise RuleViolation(f"party {ack['party_gln']} holds none of recall {recall_id}", field="party_gln")
    # beyond what it had, an acknowledgement would inflate the case's effectiveness
    problem = ack_limit_error(ack_capacity(holder, case["affected"]), holder["acknowledgements"], ack)
    if problem is not None:
        raise RuleViolation(f"recall {recall_id}: {problem[1]}", field=problem[0])
    tx.run(ACK_CREATE, id=recall_id, a=ack).consume()
    return ack["ack_id"]


def case_tx(tx: ManagedTransaction, recall_id: str) -> dict:
    """Read a case inside a transaction (as `get` answers it)."""
    return shape(dict(tx.run(CASE, id=recall_id, party_fields=list(PARTY_FIELDS), listed=LISTED_STEPS,
                             notified=LISTED_STEPS).single(strict=True)))


CLOSE: LiteralString = """
MATCH (r:Recall {recall_id: $id})
WITH r, r.status AS before
SET r.status = 'closed', r.closed_at = coalesce(r.closed_at, datetime()), r.closed_by = coalesce(r.closed_by, $by),
    r.closing_note = coalesce(r.closing_note, $note)
RETURN before
"""


def close(graph: Graph, recall_id: str, by: str | None = None, note: str | None = None,
          notify_key: bytes | None = None) -> dict:
    """Close a case and return it; with notify_key, every holder's closing notice goes in the same transaction.

    Raises:
        NotFound: no such recall.
        Conflict: it was closed already.
    """
    def work(tx: ManagedTransaction) -> None:
        rows = tx_rows(tx, CLOSE, id=recall_id, by=by, note=note)
        if not rows:
            raise NotFound(f"no recall {recall_id}", field="recall_id")
        if rows[0]["before"] == "closed":
            raise Conflict(f"recall {recall_id} is closed already")
        if notify_key is not None:
            case = case_tx(tx, recall_id)
            outbox.enqueue_tx(tx, notify_key, notify_rules.notices(case, "closed", case["drill"]), with_link=False)

    graph.write(work)
    return get(graph, recall_id)


SET_STATUS: LiteralString = """
MATCH (l:Lot {key: $key})
WITH l, coalesce(l.status, 'active') AS before
SET l.status = CASE WHEN before IN $allowed THEN $status ELSE before END,
    l.status_changed_at = CASE WHEN before IN $allowed THEN datetime() ELSE l.status_changed_at END,
    l.hold_reason = CASE WHEN before IN $allowed THEN $reason ELSE l.hold_reason END
RETURN before, l.status AS after
"""


def set_hold(graph: Graph, key: str, hold: bool, reason: str | None = None) -> dict:
    """Put a lot on hold while investigating, or release it; a recalled lot stays recalled.

    Args:
        graph: the database.
        key: the lot's key.
        hold: True to hold, False to release.
        reason: why (kept on the lot while it is held).

    Returns:
        {key, before, status}.

    Raises:
        NotFound: no such lot.
        Conflict: the lot is recalled (a recall case, not a hold, governs it).
    """
    rows = graph.query(SET_STATUS, key=key, status="on_hold" if hold else "active",
                       allowed=["active", "on_hold"], reason=reason if hold else None)
    if not rows:
        raise NotFound(f"no lot {key}", field="lot")
    if rows[0]["before"] == "recalled":
        raise Conflict(f"{key} is recalled; a recall case governs it, not a hold")
    return {"key": key, "before": rows[0]["before"], "status": rows[0]["after"]}


CAPTURE_OF: LiteralString = """
MATCH (r:Recall {recall_id: $id})
RETURN r.capture_id AS capture_id
"""


def export_rows(graph: Graph, recall_id: str) -> list[dict]:
    """Return a case's spreadsheet rows: the key data elements of every tracking event on its affected objects.

    The case's own `recalled` events are left out (they record the recall, they are not a tracking event of the
    goods); the affected set is read from the case in the same query that reads the events.

    Raises:
        NotFound: no such recall.
        Unavailable: the database does not answer.
    """
    rows = graph.query(CAPTURE_OF, read=True, id=recall_id)
    if not rows:
        raise NotFound(f"no recall {recall_id}", field="recall_id")
    return recall_key_data_rows(graph, recall_id, skip_capture=rows[0]["capture_id"])
