"""Risk warnings (风险预警): alerts raised by rules over incoming data, with a state and an owner.

An alert is one node, ``(:Alert {alert_id, kind, state, owner, raised_at, subject_keys, summary, details_json,
region, dedupe_key, parties, updated_at, updated_by})``; each change of state or owner adds an
``(:Alert)-[:CHANGED]->(:AlertChange {at, by, before, after, owner, note})`` and, from a request, the request's
audit entry in the same transaction. ``parties`` are the GLNs the alert concerns (the owners of its subject lots
unless the rule names others): a party's token or account sees only alerts that name it.

Rules raise alerts with :func:`open_alert` inside the transaction that writes what triggered them (a failed
inspection), or in a sweep (`flask alerts sweep`); a ``dedupe_key`` makes raising idempotent: the same key never
raises a second alert, whatever the state of the first (constraint V0015).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import LiteralString

from neo4j import ManagedTransaction

from graph import audit as audit_trail
from graph.alert_rules import KINDS, STATES, region_prefix, transition_error
from graph.driver import Graph, plain, tx_rows
from graph.errors import Conflict, NotFound

ALERT_FIELDS = ("alert_id", "kind", "state", "owner", "raised_at", "subject_keys", "summary", "details", "region",
                "dedupe_key", "parties", "updated_at", "updated_by")
SORTS = {"raised_at": "raised_at", "-raised_at": "-raised_at", "kind": "kind", "state": "state"}

# MERGE on the constrained dedupe_key (V0015) is safe under concurrency: a second raiser waits for the first's
# lock and then matches its alert. The alert_id is new for every call, so it tells a creation from a match.
_OPEN: LiteralString = """
UNWIND $alerts AS a
CALL (a) {
    UNWIND a.subject_keys AS k
    OPTIONAL MATCH (l:Lot {key: k})
    RETURN collect(DISTINCT l.owner_gln) AS owners
}
WITH a, CASE WHEN a.parties IS NULL THEN owners ELSE a.parties END AS parties
CALL (a, parties) {
    WITH a, parties WHERE a.dedupe_key IS NOT NULL
    MERGE (n:Alert {dedupe_key: a.dedupe_key})
    ON CREATE SET n += a.fields, n.parties = parties, n.raised_at = datetime(a.raised_at)
    RETURN n
  UNION
    WITH a, parties WHERE a.dedupe_key IS NULL
    CREATE (n:Alert)
    SET n += a.fields, n.parties = parties, n.raised_at = datetime(a.raised_at)
    RETURN n
}
RETURN n.alert_id AS alert_id, n.alert_id = a.fields.alert_id AS created
"""


def open_alert(tx: ManagedTransaction, *, kind: str, subject_keys: list[str], summary: str, details: dict,
               region: str | None = None, dedupe_key: str | None = None, parties: list[str] | None = None,
               now: datetime | None = None) -> dict:
    """Raise an alert inside the caller's write transaction; with a dedupe_key, at most once per key.

    Args:
        tx: the caller's write transaction (the alert commits or rolls back with what triggered it).
        kind: one of alert_rules.KINDS.
        subject_keys: business keys the alert is about (lots, items, products `class:` keys, certificates).
        summary: one line for lists (shown to regulators as is).
        details: JSON-serialisable facts (the affected set, counts, the rule's parameters).
        region: the division code the alert belongs to (county where known), for regional lists.
        dedupe_key: raising again with this key returns the first alert instead of a new one.
        parties: GLNs the alert concerns; default: the owners of the subject lots.
        now: the raising instant (tests, sweeps); the current time otherwise.

    Returns:
        {"alert_id", "created"}: created is False when the dedupe_key had raised an alert already.

    Raises:
        ValueError: an unknown kind (a programming error, not client input).
    """
    return open_alerts(tx, [{"kind": kind, "subject_keys": subject_keys, "summary": summary, "details": details,
                             "region": region, "dedupe_key": dedupe_key, "parties": parties}], now=now)[0]


def open_alerts(tx: ManagedTransaction, alerts: list[dict], now: datetime | None = None) -> list[dict]:
    """Raise several alerts in one statement (sweeps); each dict has open_alert's keyword arguments but now.

    Returns:
        {"alert_id", "created"} for each alert, in order.
    """
    raised = (now or datetime.now(UTC)).astimezone(UTC)
    rows = []
    for alert in alerts:
        if alert["kind"] not in KINDS:
            raise ValueError(f"unknown alert kind {alert['kind']!r}")
        fields = {"alert_id": f"AL-{raised:%Y%m%d}-{uuid.uuid4().hex[:10].upper()}", "kind": alert["kind"],
                  "state": "open", "dedupe_key": alert.get("dedupe_key"),
                  "subject_keys": list(dict.fromkeys(alert["subject_keys"])), "summary": alert["summary"],
                  "details_json": json.dumps(alert["details"], ensure_ascii=False, sort_keys=True, default=str),
                  "region": alert.get("region")}
        rows.append({"fields": {k: v for k, v in fields.items() if v is not None},
                     "subject_keys": fields["subject_keys"], "parties": alert.get("parties"),
                     "dedupe_key": alert.get("dedupe_key"), "raised_at": raised.isoformat()})
    if not rows:
        return []
    return [{"alert_id": r["alert_id"], "created": bool(r["created"])} for r in tx_rows(tx, _OPEN, alerts=rows)]


def raise_alert(graph: Graph, **alert) -> dict:
    """Raise an alert in a transaction of its own (sweeps, callers outside a write); see :func:`open_alert`."""
    return graph.write(lambda tx: open_alert(tx, **alert))


_RETURN_ALERT: LiteralString = """
RETURN a {.alert_id, .kind, .state, .owner, .subject_keys, .summary, .details_json, .region, .dedupe_key,
          .parties, .updated_by, raised_at: toString(a.raised_at), updated_at: toString(a.updated_at)} AS alert
"""

_LIST: LiteralString = """
MATCH (a:Alert)
WHERE ($state IS NULL OR a.state = $state) AND ($kind IS NULL OR a.kind = $kind)
  AND ($prefix IS NULL OR a.region STARTS WITH $prefix) AND ($party IS NULL OR $party IN a.parties)
  AND ($subject IS NULL OR $subject IN a.subject_keys)
WITH a ORDER BY
    CASE WHEN $sort = 'raised_at' THEN a.raised_at END ASC,
    CASE WHEN $sort = '-raised_at' THEN a.raised_at END DESC,
    CASE WHEN $sort = 'kind' THEN a.kind END ASC,
    CASE WHEN $sort = 'state' THEN a.state END ASC,
    a.raised_at DESC, a.alert_id
WITH collect(a) AS kept
RETURN size(kept) AS total,
       [a IN kept[$skip..$skip + $limit] | a {.alert_id, .kind, .state, .owner, .subject_keys, .summary,
        .details_json, .region, .dedupe_key, .parties, .updated_by, raised_at: toString(a.raised_at),
        updated_at: toString(a.updated_at)}] AS items,
       [s IN $states | size([a IN kept WHERE a.state = s])] AS by_state
"""


def list_alerts(graph: Graph, *, state: str | None = None, kind: str | None = None, region: str | None = None,
                party: str | None = None, subject: str | None = None, page: int = 1, per_page: int = 50,
                sort: str = "-raised_at") -> dict:
    """Return one page of alerts with the total and counts by state, in one query.

    Args:
        graph: the database.
        state: open, acknowledged or closed; None for all.
        kind: one of alert_rules.KINDS; None for all.
        region: a division code at any level (province, city, county): alerts inside it.
        party: only alerts that concern this GLN (a party's own view); None for everything (regulators).
        subject: only alerts about this business key (a lot's alerts).
        page: 1-based page number.
        per_page: page size (1..500).
        sort: raised_at, -raised_at (default: newest first), kind or state.

    Returns:
        {"items": [alert...], "total", "page", "per_page", "by_state": {state: count}}; each alert has its
        details decoded.

    Raises:
        Unavailable: the database does not answer.
    """
    per_page = max(1, min(int(per_page), 500))
    page = max(1, int(page))
    rows = graph.query(_LIST, read=True, state=state, kind=kind, prefix=region_prefix(region) if region else None,
                       party=party, subject=subject, sort=SORTS.get(sort, "-raised_at"),
                       skip=(page - 1) * per_page, limit=per_page, states=list(STATES))
    row = rows[0]
    return {"items": [_shape(a) for a in row["items"]], "total": row["total"], "page": page, "per_page": per_page,
            "by_state": dict(zip(STATES, row["by_state"], strict=True))}


_GET: LiteralString = """
MATCH (a:Alert {alert_id: $id})
CALL (a) {
    OPTIONAL MATCH (a)-[:CHANGED]->(c:AlertChange)
    WITH c ORDER BY c.at
    RETURN collect(c {.by, .before, .after, .owner, .note, at: toString(c.at)}) AS history
}
RETURN a {.alert_id, .kind, .state, .owner, .subject_keys, .summary, .details_json, .region, .dedupe_key,
          .parties, .updated_by, raised_at: toString(a.raised_at), updated_at: toString(a.updated_at)} AS alert,
       history
"""


def get_alert(graph: Graph, alert_id: str) -> dict:
    """Return one alert with its history of state and owner changes (oldest first).

    Raises:
        NotFound: no such alert.
    """
    rows = graph.query(_GET, read=True, id=alert_id)
    if not rows:
        raise NotFound(f"no alert {alert_id}", field="alert_id")
    return {**_shape(rows[0]["alert"]), "history": plain(rows[0]["history"])}


_SET_STATE: LiteralString = """
MATCH (a:Alert {alert_id: $id})
WITH a, a.state AS before, a.owner AS owner_before
SET a.state = $state, a.owner = $owner, a.updated_at = datetime(), a.updated_by = $by
CREATE (a)-[:CHANGED]->(:AlertChange {change_id: $change_id, at: datetime(), by: $by, before: before,
                                      after: $state, owner: $owner, note: $note})
RETURN before
"""

_STATE_OF: LiteralString = """
MATCH (a:Alert {alert_id: $id}) RETURN a.state AS state, a.owner AS owner
"""


def set_state(graph: Graph, alert_id: str, state: str, owner: str | None, by: str, *, note: str | None = None,
              audit: tuple[dict, bytes] | None = None) -> dict:
    """Move an alert along open -> acknowledged -> closed (or set its owner), recorded and audited in one transaction.

    Args:
        graph: the database.
        alert_id: the alert.
        state: the new state (the same state changes only the owner).
        owner: who works on it (a user or team name); None keeps the current owner.
        by: who made the change (principal or user id).
        note: why (kept with the change).
        audit: the request's audit entry and key (app/audit.transaction_entry), appended in the same transaction.

    Returns:
        The alert as :func:`get_alert` answers it, and ``audit_seq``.

    Raises:
        NotFound: no such alert.
        Conflict: the change is not allowed from the alert's state (closed is final).
    """

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _STATE_OF, id=alert_id)
        if not rows:
            raise NotFound(f"no alert {alert_id}", field="alert_id")
        problem = transition_error(rows[0]["state"], state)
        if problem:
            raise Conflict(problem)
        tx_rows(tx, _SET_STATE, id=alert_id, state=state, owner=owner if owner is not None else rows[0]["owner"],
                by=by, note=note, change_id=uuid.uuid4().hex)
        if audit is None:
            return None
        entry, key = audit
        detail = json.dumps({"alert": alert_id, "before": rows[0]["state"], "after": state, "owner": owner},
                            ensure_ascii=False, sort_keys=True)
        return audit_trail.append_tx(tx, {**entry, "detail": detail}, key)

    seq = graph.write(work)
    return {**get_alert(graph, alert_id), "audit_seq": seq}


def _shape(a: dict) -> dict:
    """An alert as answers carry it: details decoded, lists never null."""
    out = {k: a.get(k) for k in ALERT_FIELDS if k != "details"}
    out["details"] = json.loads(a["details_json"]) if a.get("details_json") else {}
    out["subject_keys"] = a.get("subject_keys") or []
    out["parties"] = a.get("parties") or []
    return out
