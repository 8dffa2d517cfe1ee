"""EPCIS query subscriptions (Cypher): the subscriptions themselves, the stream feed a capture writes in its own
transaction, the worker's claims of feeds and due schedules, and the run that writes query documents into the
notification outbox (graph/outbox.py delivers them like every other notification: leases, retries, backoff).

A Subscription belongs to a named query (``(:NamedQuery)-[:HAS_SUBSCRIPTION]->``) and reads as its subscriber's
party (``party``; null for a regulator or admin), through the same event query as ``GET /epcis/events``
(graph/epcis_query.page with that party). It acts for the token that made it: once that token is revoked, nothing
more is sent. The signature token is kept encrypted (``token_enc``, app/subscriptions.py); it is never answered.
"""

from __future__ import annotations

import json
from typing import LiteralString

from neo4j import ManagedTransaction

from graph.driver import Graph, plain, tx_rows, tx_run
from graph.errors import NotFound, RuleViolation

_FIELDS: LiteralString = """
RETURN s.subscription_id AS subscription_id, s.query_name AS query_name, s.party AS party, s.dest AS dest,
       s.stream AS stream, s.schedule AS schedule, s.report_if_empty AS report_if_empty,
       s.initial_record_time AS initial_record_time, s.created_at AS created_at, s.cursor_time AS cursor_time,
       s.token_enc IS NOT NULL AS signed, s.last_notified_at AS last_notified_at
"""

_CREATE: LiteralString = """
MATCH (q:NamedQuery {name: $query_name})
OPTIONAL MATCH (mine:Subscription {token_id: $token_id})
WITH q, count(mine) AS held
CALL (q, held) {
    WITH q, held WHERE held < $max_per_token
    CREATE (s:Subscription {subscription_id: $id, query_name: $query_name, party: $party, token_id: $token_id,
                            dest: $dest, token_enc: $token_enc, stream: $stream, schedule: $schedule,
                            report_if_empty: $report_if_empty, initial_record_time: datetime($initial),
                            created_at: datetime($created), next_run: CASE WHEN $next_run IS NULL THEN null
                            ELSE datetime($next_run) END, backfill: $backfill})
    CREATE (q)-[:HAS_SUBSCRIPTION]->(s)
    RETURN s
}
WITH s
""" + _FIELDS


def create(graph: Graph, row: dict, max_per_token: int) -> dict:
    """Store a subscription on a named query.

    Args:
        graph: the database.
        row: id, query_name, party, token_id, dest, token_enc (or None), stream, schedule (JSON text or None),
            report_if_empty, initial (UTC ISO), created (UTC ISO), next_run (UTC ISO or None), backfill.
        max_per_token: how many subscriptions one token may hold.

    Raises:
        NotFound: the query does not exist.
        RuleViolation: the token holds max_per_token subscriptions already.
    """
    def work(tx: ManagedTransaction) -> dict:
        if not tx_rows(tx, "MATCH (q:NamedQuery {name: $name}) RETURN 1 AS ok", name=row["query_name"]):
            raise NotFound(f"no named query {row['query_name']}", field="queryName")
        rows = tx_rows(tx, _CREATE, max_per_token=max_per_token, **row)
        if not rows:
            raise RuleViolation(f"a token may hold at most {max_per_token} subscriptions: delete one first",
                                field="dest")
        return _shaped(rows[0])

    return graph.write(work)


_LIST: LiteralString = """
MATCH (:NamedQuery {name: $query_name})-[:HAS_SUBSCRIPTION]->(s:Subscription)
WHERE ($party IS NULL OR s.party = $party) AND ($after IS NULL OR s.subscription_id > $after)
WITH s ORDER BY s.subscription_id LIMIT $limit
""" + _FIELDS + " ORDER BY subscription_id"

_ONE: LiteralString = """
MATCH (:NamedQuery {name: $query_name})-[:HAS_SUBSCRIPTION]->(s:Subscription {subscription_id: $id})
WHERE $party IS NULL OR s.party = $party
""" + _FIELDS


def list_for(graph: Graph, query_name: str, party: str | None, limit: int, after: str | None) -> list[dict]:
    """A page of a query's subscriptions that the party holds (regulators and admins: all), by ID."""
    return [_shaped(r) for r in graph.query(_LIST, read=True, query_name=query_name, party=party, limit=limit,
                                            after=after)]


def get(graph: Graph, query_name: str, subscription_id: str, party: str | None) -> dict:
    """One subscription the party holds (regulators and admins: any).

    Raises:
        NotFound: no such subscription on that query, or another party's.
    """
    rows = graph.query(_ONE, read=True, query_name=query_name, id=subscription_id, party=party)
    if not rows:
        raise NotFound(f"no subscription {subscription_id} on query {query_name}", field="subscriptionID")
    return _shaped(rows[0])


_DELETE: LiteralString = """
MATCH (:NamedQuery {name: $query_name})-[:HAS_SUBSCRIPTION]->(s:Subscription {subscription_id: $id})
WHERE $party IS NULL OR s.party = $party
CALL (s) {
    MATCH (n:Notification {subscription_id: s.subscription_id}) WHERE n.state = 'pending'
    SET n.state = 'cancelled', n.lease_until = null
    RETURN count(n) AS cancelled
}
DETACH DELETE s
RETURN cancelled
"""


def delete(graph: Graph, query_name: str, subscription_id: str, party: str | None) -> int:
    """Unsubscribe: delete the subscription and cancel its documents not yet delivered; return how many.

    Raises:
        NotFound: no such subscription on that query, or another party's.
    """
    rows = graph.write(lambda tx: tx_rows(tx, _DELETE, query_name=query_name, id=subscription_id, party=party))
    if not rows:
        raise NotFound(f"no subscription {subscription_id} on query {query_name}", field="subscriptionID")
    return rows[0]["cancelled"]


def _shaped(row: dict) -> dict:
    out = plain(row)
    out["schedule"] = json.loads(out["schedule"]) if out.get("schedule") else None
    return out


# --- the stream feed: written by capture, in its own transaction ---------------------------------------------------

_FEED: LiteralString = """
OPTIONAL MATCH (s:Subscription {stream: true})
WITH s LIMIT 1
WITH s WHERE s IS NOT NULL
CREATE (f:SubscriptionFeed {feed_id: randomUUID(), event_ids: $ids, created_at: datetime()})
RETURN count(f) AS written
"""


def mark_captured_tx(tx: ManagedTransaction, event_ids: list[str]) -> None:
    """In a capture's transaction: when any stream subscription exists, note the captured eventIDs for the worker.

    The feed commits with the events or not at all, so a crash after the capture's commit loses no stream
    notification (the worker turns the feed into documents later); without stream subscriptions it writes nothing.
    """
    if event_ids:
        tx_run(tx, _FEED, ids=list(event_ids))


_CLAIM_FEEDS: LiteralString = """
MATCH (f:SubscriptionFeed)
WHERE f.lease_until IS NULL OR f.lease_until < datetime()
WITH f ORDER BY f.created_at LIMIT $batch
SET f.feed_id = f.feed_id
WITH f WHERE f.lease_until IS NULL OR f.lease_until < datetime()
SET f.lease_owner = $worker, f.lease_until = datetime() + duration({seconds: $lease})
RETURN f.feed_id AS feed_id, f.event_ids AS event_ids
ORDER BY f.created_at
"""


def claim_feeds(graph: Graph, worker: str, lease_seconds: int, batch: int = 200) -> list[dict]:
    """Lease up to ``batch`` unprocessed feeds to ``worker`` (lock first, then look again, as outbox.claim does)."""
    return graph.write(lambda tx: tx_rows(tx, _CLAIM_FEEDS, worker=worker, lease=lease_seconds, batch=batch))


_LIVE: LiteralString = """
  AND EXISTS { MATCH (t:Token {token_id: s.token_id}) WHERE t.revoked_at IS NULL }
MATCH (q:NamedQuery)-[:HAS_SUBSCRIPTION]->(s)
RETURN s.subscription_id AS subscription_id, s.query_name AS query_name, q.query AS query,
       q.extensions AS extensions, s.party AS party, s.stream AS stream, s.schedule AS schedule,
       s.report_if_empty AS report_if_empty, s.initial_record_time AS initial_record_time,
       s.created_at AS created_at, s.cursor_time AS cursor_time, s.cursor_id AS cursor_id, s.backfill AS backfill,
       s.last_run AS last_run
ORDER BY s.subscription_id
"""

_STREAMS: LiteralString = """
MATCH (s:Subscription {stream: true})
WHERE true
""" + _LIVE


def stream_subscriptions(graph: Graph) -> list[dict]:
    """Every stream subscription whose token is still live, with its query's definition."""
    return [_run_row(r) for r in graph.query(_STREAMS, read=True)]


# Scheduled ones when due; stream ones once, for their initialRecordTime backfill.
_CLAIM_DUE: LiteralString = """
CALL () {
    MATCH (s:Subscription {stream: false}) WHERE s.next_run <= datetime() RETURN s
    UNION
    MATCH (s:Subscription {stream: true}) WHERE s.backfill = true RETURN s
}
WITH s WHERE s.lease_until IS NULL OR s.lease_until < datetime()
WITH s ORDER BY s.next_run LIMIT $batch
SET s.subscription_id = s.subscription_id
WITH s WHERE s.lease_until IS NULL OR s.lease_until < datetime()
SET s.lease_owner = $worker, s.lease_until = datetime() + duration({seconds: $lease})
WITH s WHERE true
""" + _LIVE


def claim_due(graph: Graph, worker: str, lease_seconds: int, batch: int = 20) -> list[dict]:
    """Lease the scheduled subscriptions that are due (and stream ones owing a backfill) to ``worker``."""
    return [_run_row(r) for r in graph.write(lambda tx: tx_rows(tx, _CLAIM_DUE, worker=worker, lease=lease_seconds,
                                                                  batch=batch))]


def _run_row(row: dict) -> dict:
    out = plain(row)
    out["query"] = json.loads(out["query"]) if isinstance(out["query"], str) else out["query"]
    out["extensions"] = json.loads(out["extensions"]) if isinstance(out["extensions"], str) else \
        (out["extensions"] or {})
    out["schedule"] = json.loads(out["schedule"]) if out.get("schedule") else None
    return out


# --- a run's documents go into the outbox with the subscription's new position, in one transaction ---------------

_ENQUEUE: LiteralString = """
UNWIND $rows AS row
MERGE (n:Notification {delivery_id: row.delivery_id})
ON CREATE SET n.subscription_id = row.subscription_id, n.party_gln = row.party, n.channel = 'epcis',
              n.kind = 'subscription', n.drill = false, n.state = 'pending', n.attempts = 0, n.created_at = datetime(),
              n.next_at = datetime(), n.payload = row.payload, n.event_count = row.event_count
RETURN count(n) AS written
"""

_ADVANCE: LiteralString = """
MATCH (s:Subscription {subscription_id: $id})
WHERE s.lease_owner = $worker
SET s.cursor_time = CASE WHEN $cursor_time IS NULL THEN s.cursor_time ELSE datetime($cursor_time) END,
    s.cursor_id = CASE WHEN $cursor_time IS NULL THEN s.cursor_id ELSE $cursor_id END,
    s.next_run = CASE WHEN $next_run IS NULL THEN null ELSE datetime($next_run) END,
    s.last_run = datetime($ran_at), s.backfill = false, s.lease_until = null, s.lease_owner = null
RETURN count(s) AS advanced
"""

_DROP_FEEDS: LiteralString = """
UNWIND $ids AS id
MATCH (f:SubscriptionFeed {feed_id: id}) WHERE f.lease_owner = $worker
DELETE f
RETURN count(*) AS dropped
"""


def _enqueue_tx(tx: ManagedTransaction, documents: list[dict]) -> int:
    if not documents:
        return 0
    rows = [{**d, "payload": json.dumps(d["payload"], ensure_ascii=False, separators=(",", ":"))} for d in documents]
    return tx_rows(tx, _ENQUEUE, rows=rows)[0]["written"]


def finish_run(graph: Graph, worker: str, subscription_id: str, documents: list[dict], ran_at: str,
               cursor: tuple[str, str] | None, next_run: str | None) -> bool:
    """Write a scheduled (or backfill) run's documents and the subscription's new position at once.

    Args:
        documents: delivery_id, subscription_id, party, payload (the EPCISQueryDocument), event_count.
        ran_at: when the run's window ended (UTC ISO).
        cursor: (recordTime, eventID) of the last event read (None: unchanged).
        next_run: when it runs next (None: never: a stream subscription's backfill is done).

    Returns:
        False when the lease was lost to another worker meanwhile (nothing is written: that worker runs it).
    """
    def work(tx: ManagedTransaction) -> bool:
        moved = tx_rows(tx, _ADVANCE, id=subscription_id, worker=worker, cursor_time=cursor[0] if cursor else None,
                        cursor_id=cursor[1] if cursor else None, next_run=next_run, ran_at=ran_at)[0]["advanced"]
        if not moved:
            return False
        _enqueue_tx(tx, documents)
        return True

    return graph.write(work)


def finish_feeds(graph: Graph, worker: str, feed_ids: list[str], documents: list[dict]) -> bool:
    """Write the stream documents of claimed feeds and delete the feeds at once (False: a lease was lost meanwhile,
    nothing is written and whoever holds it now does the work)."""
    def work(tx: ManagedTransaction) -> bool:
        if tx_rows(tx, _DROP_FEEDS, ids=feed_ids, worker=worker)[0]["dropped"] != len(feed_ids):
            raise _LeaseLost  # rolls the deletes back
        _enqueue_tx(tx, documents)
        return True

    try:
        return graph.write(work)
    except _LeaseLost:
        return False


class _LeaseLost(Exception):
    """Another worker holds a lease this one had (it ran out): this one's work is dropped."""


_NOTIFIED: LiteralString = """
MATCH (s:Subscription {subscription_id: $id}) SET s.last_notified_at = datetime()
"""


def mark_notified(graph: Graph, subscription_id: str) -> None:
    """Record that the subscriber answered 2xx just now (lastNotifiedAt)."""
    graph.write(lambda tx: tx.run(_NOTIFIED, id=subscription_id).consume())
