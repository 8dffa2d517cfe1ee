"""The notification outbox: recall notices written in the case's own transaction, claimed under a lease by a worker
(app/notify.py), and marked delivered or due again; one-time acknowledgement links; parties' webhook endpoints.

A Notification is keyed by its delivery ID (graph/notify_rules.delivery_id: the same for every retry and for the
same notice written twice), so a receiver can de-duplicate what at-least-once delivery may send twice. A worker
claims due notices by taking each one's lock first and only then checking that nobody leased it meanwhile: two
workers never hold the same notice at once; a worker that dies leaves a lease that runs out, and the notice is
claimed again under the same ID.
"""

from __future__ import annotations

import json
from typing import LiteralString

from neo4j import ManagedTransaction

from graph import notify_rules
from graph.driver import Graph, plain, tx_rows
from graph.errors import NotFound

ENQUEUE: LiteralString = """
UNWIND $rows AS row
CALL (row) {
    WITH row WHERE row.token_hash IS NOT NULL
    MERGE (l:AckLink {link_id: row.link_id})
    ON CREATE SET l.token_hash = row.token_hash, l.recall_id = row.recall_id, l.party_gln = row.party_gln,
                  l.kind = row.kind, l.created_at = datetime()
}
CALL (row) {
    UNWIND row.channels AS ch
    MERGE (n:Notification {delivery_id: ch.delivery_id})
    ON CREATE SET n.recall_id = row.recall_id, n.party_gln = row.party_gln, n.channel = ch.channel,
                  n.kind = row.kind, n.drill = row.drill, n.state = 'pending', n.attempts = 0,
                  n.created_at = datetime(), n.next_at = datetime(), n.payload = row.payload,
                  n.link_id = CASE WHEN row.token_hash IS NULL THEN null ELSE row.link_id END
    RETURN count(n) AS written
}
RETURN sum(written) AS written
"""


def enqueue_tx(tx: ManagedTransaction, key: bytes, payloads: list[dict], with_link: bool = True) -> int:
    """Write one notification per payload (holder) and channel, and the holder's one-time link, in `tx`.

    Args:
        tx: the transaction that opens, changes or closes the case (all or nothing with it).
        key: the server's notification key (link tokens are derived from it; only their hashes are stored).
        payloads: graph.notify_rules.notices of the case.
        with_link: whether the notice carries an acknowledgement link (a closing notice does not).

    Returns:
        How many notifications the rows name (a rewrite of the same notice writes none again).
    """
    rows = []
    for p in payloads:
        token = notify_rules.link_token(key, p["link_id"]) if with_link else None
        rows.append({
            "recall_id": p["recall_id"], "party_gln": p["party_gln"], "kind": p["kind"], "drill": p["drill"],
            "link_id": p["link_id"], "token_hash": notify_rules.token_hash(token) if token else None,
            "payload": json.dumps(p, ensure_ascii=False, sort_keys=True),
            "channels": [{"channel": c, "delivery_id": notify_rules.delivery_id(
                p["recall_id"], p.get("notice", p["kind"]), p["party_gln"], c)} for c in notify_rules.CHANNELS],
        })
    if not rows:
        return 0
    return tx_rows(tx, ENQUEUE, rows=rows)[0]["written"]


# Lock first (SET of a property that is never null: setting a null one writes nothing and locks nothing), then look
# again: a notice another worker leased while this one waited for the lock is skipped.
CLAIM: LiteralString = """
MATCH (n:Notification)
WHERE n.state = 'pending' AND n.next_at <= datetime() AND ($recall IS NULL OR n.recall_id = $recall)
  AND ($channel IS NULL OR n.channel = $channel)
  AND (n.lease_until IS NULL OR n.lease_until < datetime())
WITH n ORDER BY n.next_at, n.delivery_id LIMIT $batch
SET n.attempts = n.attempts
WITH n
WHERE n.state = 'pending' AND (n.lease_until IS NULL OR n.lease_until < datetime())
SET n.lease_owner = $worker, n.lease_until = datetime() + duration({seconds: $lease}), n.attempts = n.attempts + 1
WITH n
OPTIONAL MATCH (p:Party {gln: n.party_gln})
OPTIONAL MATCH (w:Webhook {party_gln: n.party_gln})
OPTIONAL MATCH (s:Subscription {subscription_id: n.subscription_id})  // EPCIS subscriptions (graph/subscriptions.py)
RETURN n.delivery_id AS delivery_id, n.channel AS channel, n.payload AS payload, n.link_id AS link_id,
       n.subscription_id AS subscription_id, s.dest AS dest, s.token_enc AS token_enc,
       n.attempts AS attempts, p.contact_email AS email, p.contact_phone AS phone, w.url AS webhook_url,
       w.secret_version AS secret_version,
       CASE WHEN w.rotated_at IS NOT NULL AND w.rotated_at + duration({seconds: $overlap}) > datetime()
            THEN w.secret_version - 1 END AS previous_version
"""


def claim(graph: Graph, worker: str, batch: int = 100, lease_seconds: int = 60,
          recall_id: str | None = None, overlap_seconds: int = 0, channel: str | None = None) -> list[dict]:
    """Lease up to `batch` due notifications to `worker` and return them with their party's addresses.

    Args:
        graph: the database.
        worker: this worker's ID (the lease's owner; only it may mark the notice done).
        batch: how many at most.
        lease_seconds: how long the lease lasts (longer than one delivery try takes).
        recall_id: only this case's notices (None: every case's).
        overlap_seconds: for this long after a rotation the previous secret signs too (`previous_version`).
        channel: only this channel's notices (None: every channel's).

    Raises:
        Unavailable: the database does not answer.
    """
    rows = graph.write(lambda tx: tx_rows(tx, CLAIM, worker=worker, batch=batch, lease=lease_seconds,
                                          recall=recall_id, overlap=overlap_seconds, channel=channel))
    for r in rows:
        r["payload"] = json.loads(r["payload"])
    return rows


FINISH: LiteralString = """
UNWIND $rows AS d
MATCH (n:Notification {delivery_id: d.delivery_id})
WHERE n.lease_owner = $worker AND n.state = 'pending'
SET n.state = d.state, n.lease_until = null, n.last_error = d.error, n.receipt = d.receipt,
    n.delivered_at = CASE WHEN d.state = 'delivered' THEN datetime() ELSE n.delivered_at END,
    n.next_at = CASE WHEN d.retry_in IS NULL THEN n.next_at
                     ELSE datetime() + duration({milliseconds: toInteger(d.retry_in * 1000)}) END
RETURN count(n) AS finished
"""


def finish(graph: Graph, worker: str, results: list[dict]) -> int:
    """Record what happened to leased notifications: delivered, failed for good, no address, or due again.

    Args:
        graph: the database.
        worker: the lease's owner (a notice leased by someone else since is left alone).
        results: delivery_id, state ('delivered', 'pending', 'failed', 'no_address'), error, receipt, retry_in
            (seconds until the next try, for 'pending').

    Returns:
        How many were recorded.
    """
    rows = [{"delivery_id": r["delivery_id"], "state": r["state"], "error": r.get("error"),
             "receipt": r.get("receipt"), "retry_in": r.get("retry_in")} for r in results]
    return graph.write(lambda tx: tx_rows(tx, FINISH, rows=rows, worker=worker))[0]["finished"] if rows else 0


OF_CASE: LiteralString = """
MATCH (n:Notification {recall_id: $id})
RETURN n.delivery_id AS delivery_id, n.party_gln AS party_gln, n.channel AS channel, n.kind AS kind,
       n.state AS state, n.attempts AS attempts, n.created_at AS created_at, n.delivered_at AS delivered_at,
       n.last_error AS last_error
ORDER BY n.party_gln, n.kind, n.channel
"""


def of_case(graph: Graph, recall_id: str) -> list[dict]:
    """Return a case's notifications and where each stands (no payloads, no addresses)."""
    return [plain(r) for r in graph.query(OF_CASE, read=True, id=recall_id)]


SET_WEBHOOK: LiteralString = """
MATCH (p:Party {gln: $gln})
MERGE (w:Webhook {party_gln: $gln})
ON CREATE SET w.secret_version = 1, w.created_at = datetime()
SET w.url = $url, w.updated_at = datetime(),
    w.secret_version = CASE WHEN $rotate THEN w.secret_version + 1 ELSE w.secret_version END
MERGE (p)-[:HAS_WEBHOOK]->(w)
RETURN w.secret_version AS version, w.url AS url, w.created_at = w.updated_at AS created
"""
ROTATE: LiteralString = """
MATCH (w:Webhook {party_gln: $gln})
SET w.secret_version = w.secret_version + 1, w.rotated_at = datetime(), w.updated_at = datetime()
RETURN w.secret_version AS version, w.url AS url
"""
SET_FINGERPRINT: LiteralString = """
MATCH (w:Webhook {party_gln: $gln}) SET w.secret_fingerprint = $fp
"""


def set_webhook(graph: Graph, key: bytes, gln: str, url: str) -> dict:
    """Register (or move) a party's webhook endpoint; the secret is answered only when it is new.

    Returns:
        {url, version, secret (first registration only, else None), fingerprint}.

    Raises:
        NotFound: no such party.
    """
    def work(tx: ManagedTransaction) -> dict:
        rows = tx_rows(tx, SET_WEBHOOK, gln=gln, url=url, rotate=False)
        if not rows:
            raise NotFound(f"no party with GLN {gln}", field="gln")
        return _secret_row(tx, key, gln, rows[0], new=rows[0]["created"])

    return graph.write(work)


def rotate_secret(graph: Graph, key: bytes, gln: str) -> dict:
    """Give a party's webhook a new signing secret and answer it once (the old one also signs for a while: see claim).

    Raises:
        NotFound: the party has no webhook.
    """
    def work(tx: ManagedTransaction) -> dict:
        rows = tx_rows(tx, ROTATE, gln=gln)
        if not rows:
            raise NotFound(f"party {gln} has no webhook endpoint", field="gln")
        return _secret_row(tx, key, gln, rows[0], new=True)

    return graph.write(work)


def _secret_row(tx: ManagedTransaction, key: bytes, gln: str, row: dict, new: bool) -> dict:
    secret = notify_rules.webhook_secret(key, gln, row["version"])
    fingerprint = notify_rules.token_hash(secret)[:16]
    tx.run(SET_FINGERPRINT, gln=gln, fp=fingerprint).consume()
    return {"url": row["url"], "version": row["version"], "secret": secret if new else None,
            "fingerprint": fingerprint}


GET_WEBHOOK: LiteralString = """
MATCH (w:Webhook {party_gln: $gln})
RETURN w.url AS url, w.secret_version AS version, w.secret_fingerprint AS fingerprint
"""


def get_webhook(graph: Graph, gln: str) -> dict:
    """Return a party's webhook endpoint (URL, secret version and fingerprint; never the secret).

    Raises:
        NotFound: the party has no webhook.
    """
    rows = graph.query(GET_WEBHOOK, read=True, gln=gln)
    if not rows:
        raise NotFound(f"party {gln} has no webhook endpoint", field="gln")
    return {**rows[0], "secret": None}


LINK: LiteralString = """
MATCH (l:AckLink {token_hash: $hash})
RETURN l.link_id AS link_id, l.recall_id AS recall_id, l.party_gln AS party_gln, l.used_at AS used_at
"""


def find_link(graph: Graph, token: str) -> dict | None:
    """Return the one-time link a token opens (recall, party, when it was used), or None."""
    rows = graph.query(LINK, read=True, hash=notify_rules.token_hash(token))
    return plain(rows[0]) if rows else None


LINK_LOCK: LiteralString = """
MATCH (l:AckLink {token_hash: $hash})
SET l.token_hash = l.token_hash
RETURN l.recall_id AS recall_id, l.party_gln AS party_gln, l.used_at AS used_at
"""
LINK_USE: LiteralString = """
MATCH (l:AckLink {token_hash: $hash}) SET l.used_at = datetime(), l.ack_id = $ack_id
"""


def use_link_tx(tx: ManagedTransaction, token: str) -> dict | None:
    """Lock a one-time link in `tx` and return it, or None when it is unknown; `used_at` says if it was used."""
    rows = tx_rows(tx, LINK_LOCK, hash=notify_rules.token_hash(token))
    return rows[0] if rows else None


def mark_link_used_tx(tx: ManagedTransaction, token: str, ack_id: str) -> None:
    """Mark a link used by the acknowledgement it recorded (in that acknowledgement's transaction)."""
    tx.run(LINK_USE, hash=notify_rules.token_hash(token), ack_id=ack_id).consume()

