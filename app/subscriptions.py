"""EPCIS query subscriptions, the worker's side: turning captures (stream) and due schedules into signed query
documents in the notification outbox, and sending one (a channel of app/notify.py's worker).

Nothing here is a second delivery system: ``prepare`` runs at the start of each pass of `flask notify worker` and
writes Notification nodes (channel ``epcis``) with each run's new position in one transaction; the worker then
leases, sends, retries and records them exactly as it does recall notices.

What a subscriber receives is what ``GET /epcis/events`` would answer its party: the named query's parameters run
through graph/epcis_query.page with the subscription's party, the very statement the event query runs.

The signature token is a secret the client chose, and HMAC needs the secret itself, so it cannot be hashed or
derived like our own webhook secrets. It is kept encrypted: AES-256-GCM under a key derived from NOTIFY_KEY (kept
outside the database), the subscription's ID as associated data (a ciphertext copied onto another subscription does
not open); a copy of the database or a backup holds no usable token. It is never answered, logged or audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from marshmallow import ValidationError

from app import outbound
from graph import epcis_query, notify_rules
from graph import subscriptions as store
from gs1 import subscription_rules as rules
from gs1.epcis import utc_iso

log = logging.getLogger(__name__)
CHANNEL = "epcis"
SIGNATURE_HEADER = "GS1-Signature"
_TOKEN_DOMAIN = b"tracegraph/subscription-token/v1"
_SEALED = "v1."
_PAGE_ONLY = ("perPage", "nextPageToken")
# Candidate reads one run makes at most when the query has predicates that filter after the graph (each reads up to
# graph.epcis_query.SCAN_LIMIT): a longer window goes on at the next pass, from where this one stopped.
_SCAN_ROUNDS = 10


# --- the signature token, encrypted at rest ----------------------------------------------------------------------

def _aead(key: bytes) -> AESGCM:
    return AESGCM(hmac.new(key, _TOKEN_DOMAIN, hashlib.sha256).digest())


def seal(key: bytes, subscription_id: str, token: str) -> str:
    """Encrypt a signature token for storage (AES-256-GCM, random nonce, the subscription ID as associated data)."""
    nonce = os.urandom(12)
    sealed = _aead(key).encrypt(nonce, token.encode("utf-8"), subscription_id.encode("utf-8"))
    return _SEALED + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, subscription_id: str, sealed: str) -> str:
    """Decrypt a stored signature token (raises for a ciphertext of another subscription or another key)."""
    if not sealed.startswith(_SEALED):
        raise ValueError("unknown token format")
    raw = base64.urlsafe_b64decode(sealed[len(_SEALED):])
    return _aead(key).decrypt(raw[:12], raw[12:], subscription_id.encode("utf-8")).decode("utf-8")


# --- from captures and schedules to documents in the outbox -------------------------------------------------------

def prepare(app: Flask, worker: str) -> int:
    """Write the query documents that are due into the outbox: one per stream subscription a new capture matches,
    and one per due schedule (several when a run has more events than SUBSCRIPTION_BATCH_EVENTS); return how many."""
    graph = app.extensions["graph"]
    lease = app.config["NOTIFY_LEASE_SECONDS"]
    written = 0
    with app.app_context():
        feeds = store.claim_feeds(graph, worker, lease, app.config["SUBSCRIPTION_FEED_BATCH"])
        if feeds:
            # every capture this pass claimed, read once per stream subscription (a backlog costs one read each)
            ids = list(dict.fromkeys(i for f in feeds for i in f["event_ids"]))
            run = "captures/" + hashlib.sha256("|".join(sorted(f["feed_id"] for f in feeds)).encode()).hexdigest()
            documents = []
            for sub in store.stream_subscriptions(graph):
                documents += _stream_documents(app, sub, ids, run)
            if store.finish_feeds(graph, worker, [f["feed_id"] for f in feeds], documents):
                written += len(documents)
        for sub in store.claim_due(graph, worker, lease):
            written += _run(app, worker, sub)
    return written


def _query(sub: dict) -> dict | None:
    """The subscription's named query, compiled as GET /epcis/events compiles it (None: it no longer loads)."""
    from app.schemas.epcis import EventQueryArgs
    from app.schemas.epcis_resources import query_params

    try:
        params = {k: v for k, v in query_params(sub["query"]).items() if k not in _PAGE_ONLY}
        return EventQueryArgs(extensions=sub["extensions"]).load(params)
    except ValidationError as exc:
        log.error("subscription %s: query %s no longer loads: %s", sub["subscription_id"], sub["query_name"],
                  exc.normalized_messages())
        return None


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if _at(a) >= _at(b) else b


def _earlier(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if _at(a) <= _at(b) else b


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _read(graph, filters: dict, predicates: list, after: tuple | None, cap: int, batch: int
          ) -> tuple[list[dict], tuple | None, bool]:
    """Events of a window in recordTime order after a cursor: (events, the last position read, whether more may be
    left for another run)."""
    found: list[dict] = []
    last = after
    for _ in range(_SCAN_ROUNDS):
        want = min(batch, cap - len(found))
        if want <= 0:
            return found, last, True
        rows, cut = epcis_query.page(graph, filters, want, last, order_by="recordTime", descending=False,
                                     predicates=predicates)
        found += rows
        if rows:
            last = (rows[-1]["sort_key"], rows[-1]["event_id"])
        if cut is not None:
            last = cut
        elif len(rows) < want:
            return found, last, False
    return found, last, True


def _documents(app: Flask, sub: dict, events: list[dict], run: str, empty: bool) -> list[dict]:
    """The run's EPCISQueryDocuments (queryName, subscriptionID), at most SUBSCRIPTION_BATCH_EVENTS events each; one
    empty document when there are no events and ``empty``."""
    from app.api.epcis import _vocabularies, query_document

    parts = rules.chunks(events, app.config["SUBSCRIPTION_BATCH_EVENTS"]) or ([[]] if empty else [])
    out = []
    for i, part in enumerate(parts):
        doc = query_document(part, sub["query_name"], _vocabularies(part) if part else None)
        results = doc["epcisBody"]["queryResults"]
        doc["epcisBody"]["queryResults"] = {"queryName": results["queryName"],
                                            "subscriptionID": sub["subscription_id"],
                                            "resultsBody": results["resultsBody"]}
        out.append({"delivery_id": rules.delivery_id(sub["subscription_id"], run, i),
                    "subscription_id": sub["subscription_id"], "party": sub["party"], "payload": doc,
                    "event_count": len(part)})
    return out


def _stream_documents(app: Flask, sub: dict, ids: list[str], run: str) -> list[dict]:
    """What new captures give a stream subscription: the captured events its query matches and its party may read,
    recorded from the subscription's creation on (earlier ones are its initialRecordTime backfill's)."""
    args = _query(sub)
    if args is None:
        return []
    filters = {**args["filters"], "party": sub["party"]}
    if filters.get("event_ids") is not None:
        wanted = set(filters["event_ids"])
        ids = [i for i in ids if i in wanted]
    if not ids:
        return []
    filters["event_ids"] = ids
    filters["ge_record_time"] = _later(_later(filters.get("ge_record_time"), sub["created_at"]),
                                       sub["initial_record_time"])
    events, _, _ = _read(app.extensions["graph"], filters, args["predicates"], None, len(ids), len(ids))
    return _documents(app, sub, events, run, empty=False)


def _run(app: Flask, worker: str, sub: dict) -> int:
    """One scheduled run (or a stream subscription's backfill): the events recorded since the last run, up to a
    moment SUBSCRIPTION_SETTLE_SECONDS ago (a capture still committing is read next time); an empty document only
    with reportIfEmpty."""
    config = app.config
    now = datetime.now(UTC)
    args = _query(sub)
    if sub["stream"]:
        end, next_run = sub["created_at"], None
    else:
        end = utc_iso(now - timedelta(seconds=config["SUBSCRIPTION_SETTLE_SECONDS"]))
        schedule = rules.parse_schedule(sub["schedule"])
        when = rules.next_run(schedule, now, now, config["SUBSCRIPTION_MIN_INTERVAL_S"])
        next_run = utc_iso(when) if when else None
    events, cursor, more = [], None, False
    if args is not None:
        filters = {**args["filters"], "party": sub["party"]}
        filters["ge_record_time"] = _later(filters.get("ge_record_time"), sub["initial_record_time"])
        filters["lt_record_time"] = _earlier(filters.get("lt_record_time"), end)
        after = (sub["cursor_time"], sub["cursor_id"]) if sub.get("cursor_time") else None
        events, cursor, more = _read(app.extensions["graph"], filters, args["predicates"], after,
                                     config["SUBSCRIPTION_MAX_EVENTS_PER_RUN"], config["SUBSCRIPTION_BATCH_EVENTS"])
        if cursor == after:
            cursor = None
    if more:
        next_run = utc_iso(now)  # the window is not finished: go on at the next pass
    documents = _documents(app, sub, events, f"run/{utc_iso(now)}",
                           empty=bool(sub["report_if_empty"]) and not sub["stream"] and args is not None)
    if store.finish_run(app.extensions["graph"], worker, sub["subscription_id"], documents, utc_iso(now),
                        cursor, next_run):
        return len(documents)
    return 0


# --- sending one document (the worker's `epcis` channel) ----------------------------------------------------------

def send(app: Flask, key: bytes, row: dict) -> str:
    """POST one query document to the subscriber's dest, signed with its token; return the receipt.

    Headers: ``GS1-Signature: v1=<hex HMAC-SHA256(signatureToken, "<timestamp>." + body)>`` (when the subscription
    has a token), ``X-TraceGraph-Timestamp`` (Unix seconds, part of what is signed) and ``X-TraceGraph-Delivery``
    (the same on every retry; de-duplicate on it).

    Raises:
        Exception: any failure (the worker retries with backoff).
    """
    body = json.dumps(row["payload"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stamp = int(time.time())
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "TraceGraph-EPCIS/1",
               "GS1-EPCIS-Version": "2.0.0", notify_rules.DELIVERY_HEADER: row["delivery_id"],
               notify_rules.TIMESTAMP_HEADER: str(stamp)}
    if row.get("token_enc"):
        token = unseal(key, row["subscription_id"], row["token_enc"])
        headers[SIGNATURE_HEADER] = notify_rules.sign(token, stamp, body)
    status = outbound.post(row["dest"], body, headers, app.config["WEBHOOK_TIMEOUT_S"],
                           public_only=app.config["ENV"] == "production")
    store.mark_notified(app.extensions["graph"], row["subscription_id"])
    return f"http {status}"
