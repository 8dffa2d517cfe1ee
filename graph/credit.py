"""Credit records (信用): a party's status (normal, watch, blacklist), each change with its reason and decider,
appeals that can reverse a change, and the approvals a blacklisted party needs to print labels or issue 合格证.

``Party.credit_status`` (absent means normal) is the current status. Each change is
``(:Party)-[:CREDIT]->(:CreditChange {change_id, party_gln, before, after, event_kind, reason, evidence,
decided_by, decided_at, seq, reversed, reversed_by, reversed_at, appeal_state})``; an appeal is
``(:CreditChange)-[:APPEALED]->(:CreditAppeal {appeal_id, change_id, party_gln, text, filed_by, filed_at, state,
decided_by, decided_at, note})``; an approval is ``(:Party)-[:APPROVED]->(:CreditApproval {approval_id, party_gln,
action, reason, granted_by, granted_at, valid_until})``. The rules are graph/credit_rules.py's; every write is one
transaction with its audit entry. :func:`ensure_permitted` is called inside the label and 合格证 writes.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import LiteralString

from neo4j import ManagedTransaction

from graph import audit as audit_trail
from graph import credit_rules
from graph.driver import Graph, plain, tx_rows
from graph.errors import Conflict, Forbidden, NotFound, RuleViolation

# The party's write lock first (a counter), then its status and latest change: concurrent decisions about one
# party queue up, each seeing the one before it.
_STATUS: LiteralString = """
MATCH (p:Party {gln: $gln})
SET p.credit_lock = coalesce(p.credit_lock, 0) + 1
WITH p
OPTIONAL MATCH (p)-[:CREDIT]->(c:CreditChange)
WITH p, c ORDER BY c.seq DESC
WITH p, collect(c)[0] AS latest
RETURN coalesce(p.credit_status, 'normal') AS status, latest.change_id AS latest_change_id,
       coalesce(latest.seq, 0) AS seq
"""

_CHANGE: LiteralString = """
MATCH (p:Party {gln: $gln})
SET p.credit_status = $c.after, p.credit_changed_at = datetime()
CREATE (p)-[:CREDIT]->(c:CreditChange)
SET c = $c, c.decided_at = datetime(), c.reversed = false
RETURN c.change_id AS change_id
"""


def _audit(tx: ManagedTransaction, audit: tuple[dict, bytes] | None, detail: dict) -> int | None:
    if audit is None:
        return None
    entry, key = audit
    return audit_trail.append_tx(tx, {**entry, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)},
                                 key)


def change_status(graph: Graph, gln: str, after: str, event_kind: str, reason: str, by: str,
                  evidence: str | None = None, audit: tuple[dict, bytes] | None = None) -> dict:
    """Move a party to a credit status for an event, with the reason and the regulator who decided.

    Args:
        graph: the database.
        gln: the party.
        after: normal, watch or blacklist.
        event_kind: credit_rules.EVENT_KINDS (a violation, or rectified).
        reason: why (shown to the party and in the record).
        by: the deciding regulator (principal or user id).
        evidence: a business key or document the decision rests on (an inspection key, a recall case id).
        audit: the request's audit entry and key, appended in the same transaction.

    Returns:
        The party's record as :func:`record_of` answers it, and ``audit_seq``.

    Raises:
        NotFound: no such party.
        RuleViolation: the change breaks credit_rules.transition_error.
    """

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _STATUS, gln=gln)
        if not rows:
            raise NotFound(f"no party with GLN {gln}", field="gln")
        before = rows[0]["status"]
        problem = credit_rules.transition_error(before, after, event_kind)
        if problem:
            raise RuleViolation(problem, field="status")
        change = {"change_id": "CR-" + uuid.uuid4().hex[:12].upper(), "party_gln": gln, "before": before,
                  "after": after, "event_kind": event_kind, "reason": reason, "evidence": evidence,
                  "decided_by": by, "seq": rows[0]["seq"] + 1, "appeal_state": None}
        tx_rows(tx, _CHANGE, gln=gln, c={k: v for k, v in change.items() if v is not None})
        return _audit(tx, audit, {"credit": gln, "change": change["change_id"], "before": before, "after": after,
                                  "event_kind": event_kind})

    seq = graph.write(work)
    return {**record_of(graph, gln), "audit_seq": seq}


_CHANGE_OF: LiteralString = """
MATCH (c:CreditChange {change_id: $id})
MATCH (locked:Party {gln: c.party_gln})
SET locked.credit_lock = coalesce(locked.credit_lock, 0) + 1
WITH c
OPTIONAL MATCH (p:Party {gln: c.party_gln})-[:CREDIT]->(other:CreditChange)
WITH c, other ORDER BY other.seq DESC
WITH c, collect(other)[0] AS latest
RETURN c {.change_id, .party_gln, .before, .after, .decided_by, .reversed, .appeal_state} AS change,
       latest.change_id AS latest_change_id
"""

_APPEAL: LiteralString = """
MATCH (c:CreditChange {change_id: $id})
SET c.appeal_state = 'pending'
CREATE (c)-[:APPEALED]->(a:CreditAppeal)
SET a = $a, a.filed_at = datetime(), a.state = 'pending'
"""


def appeal(graph: Graph, change_id: str, text: str, appellant_gln: str | None, by: str,
           audit: tuple[dict, bytes] | None = None) -> dict:
    """File an appeal of the latest change of a party's record (the party itself, or an admin for it).

    Args:
        graph: the database.
        change_id: the change appealed.
        text: the party's grounds.
        appellant_gln: the appealing party's GLN (None: an admin files it).
        by: who files (principal or user id).
        audit: the request's audit entry and key.

    Returns:
        {"appeal_id", "change_id", "state", "audit_seq"}.

    Raises:
        NotFound: no such change.
        Forbidden: the change is another party's.
        Conflict: the change was reversed, is appealed already, or is no longer the latest.
    """
    appeal_id = "AP-" + uuid.uuid4().hex[:12].upper()

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _CHANGE_OF, id=change_id)
        if not rows:
            raise NotFound(f"no credit change {change_id}", field="change_id")
        change = rows[0]["change"]
        problem = credit_rules.appeal_error(change, appellant_gln, rows[0]["latest_change_id"])
        if problem == "a party appeals only its own record":
            raise Forbidden(problem)
        if problem:
            raise Conflict(problem)
        tx_rows(tx, _APPEAL, id=change_id, a={"appeal_id": appeal_id, "change_id": change_id,
                                               "party_gln": change["party_gln"], "text": text, "filed_by": by})
        return _audit(tx, audit, {"credit_appeal": appeal_id, "change": change_id})

    seq = graph.write(work)
    return {"appeal_id": appeal_id, "change_id": change_id, "state": "pending", "audit_seq": seq}


_APPEAL_OF: LiteralString = """
MATCH (c:CreditChange)-[:APPEALED]->(a:CreditAppeal {appeal_id: $id})
MATCH (locked:Party {gln: c.party_gln})
SET locked.credit_lock = coalesce(locked.credit_lock, 0) + 1
WITH c, a
OPTIONAL MATCH (:Party {gln: c.party_gln})-[:CREDIT]->(other:CreditChange)
WITH c, a, other ORDER BY other.seq DESC
WITH c, a, collect(other)[0] AS latest
RETURN a.state AS state, c {.change_id, .party_gln, .before, .after, .decided_by} AS change,
       latest.change_id AS latest_change_id
"""

_DECIDE: LiteralString = """
MATCH (c:CreditChange)-[:APPEALED]->(a:CreditAppeal {appeal_id: $id})
SET a.state = $decision, a.decided_by = $by, a.decided_at = datetime(), a.note = $note,
    c.appeal_state = $decision
WITH c
MATCH (p:Party {gln: c.party_gln})
FOREACH (_ IN CASE WHEN $decision = 'reversed' THEN [1] ELSE [] END |
    SET c.reversed = true, c.reversed_by = $by, c.reversed_at = datetime(),
        p.credit_status = c.before, p.credit_changed_at = datetime())
"""


def decide_appeal(graph: Graph, appeal_id: str, decision: str, note: str, by: str,
                  audit: tuple[dict, bytes] | None = None) -> dict:
    """Decide an appeal: upheld keeps the change; reversed restores the status before it (and says so).

    Args:
        graph: the database.
        appeal_id: the appeal.
        decision: upheld or reversed.
        note: the reasons of the decision.
        by: the deciding regulator (never the one who made the change).
        audit: the request's audit entry and key.

    Returns:
        The party's record as :func:`record_of` answers it, and ``audit_seq``.

    Raises:
        NotFound: no such appeal.
        Conflict: decided already, or (reversed) a later change was made since: decide that first.
        RuleViolation: the decider made the change.
    """
    gln_box: list[str] = []

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _APPEAL_OF, id=appeal_id)
        if not rows:
            raise NotFound(f"no credit appeal {appeal_id}", field="appeal_id")
        change = rows[0]["change"]
        problem = credit_rules.decision_error(rows[0]["state"], decision, change["decided_by"], by)
        if problem and "decided already" in problem:
            raise Conflict(problem)
        if problem:
            raise RuleViolation(problem, field="decision")
        if decision == "reversed" and rows[0]["latest_change_id"] != change["change_id"]:
            raise Conflict("a later change was made since; it must be decided first")
        tx_rows(tx, _DECIDE, id=appeal_id, decision=decision, by=by, note=note)
        gln_box[:] = [change["party_gln"]]
        return _audit(tx, audit, {"credit_appeal": appeal_id, "decision": decision, "change": change["change_id"],
                                  "restored": change["before"] if decision == "reversed" else None})

    seq = graph.write(work)
    return {**record_of(graph, gln_box[0]), "audit_seq": seq}


_APPROVE: LiteralString = """
MATCH (p:Party {gln: $a.party_gln})
CREATE (p)-[:APPROVED]->(x:CreditApproval)
SET x = $a, x.granted_at = datetime(), x.valid_until = datetime($valid_until)
RETURN x.approval_id AS approval_id
"""


def grant_approval(graph: Graph, gln: str, action: str, reason: str, valid_days: int, by: str,
                   audit: tuple[dict, bytes] | None = None) -> dict:
    """Approve, for a while, one restricted action (labels or certificates) of a blacklisted party.

    Raises:
        NotFound: no such party.
        RuleViolation: an unknown action.
    """
    if action not in credit_rules.ACTIONS:
        raise RuleViolation(f"action: one of {', '.join(credit_rules.ACTIONS)}", field="action")
    approval_id = "CA-" + uuid.uuid4().hex[:12].upper()
    until = (datetime.now(UTC) + timedelta(days=valid_days)).isoformat()

    def work(tx: ManagedTransaction) -> int | None:
        row = {"approval_id": approval_id, "party_gln": gln, "action": action, "reason": reason, "granted_by": by}
        if not tx_rows(tx, _APPROVE, a=row, valid_until=until):
            raise NotFound(f"no party with GLN {gln}", field="gln")
        return _audit(tx, audit, {"credit_approval": approval_id, "party": gln, "action": action})

    seq = graph.write(work)
    return {"approval_id": approval_id, "party_gln": gln, "action": action, "valid_until": until,
            "audit_seq": seq}


_PERMITTED: LiteralString = """
MATCH (p:Party {gln: $gln})
RETURN coalesce(p.credit_status, 'normal') AS status,
       EXISTS { MATCH (p)-[:APPROVED]->(x:CreditApproval {action: $action}) WHERE x.valid_until > datetime() }
           AS approved
"""


def ensure_permitted(tx: ManagedTransaction, gln: str | None, action: str) -> None:
    """Inside a write: refuse a blacklisted party's labels or 合格证 unless a regulator's approval is in force.

    Raises:
        Forbidden: the party is blacklisted and no approval for the action is valid now.
    """
    if gln is None:
        return
    rows = tx_rows(tx, _PERMITTED, gln=gln, action=action)
    if rows and credit_rules.needs_approval(rows[0]["status"]) and not rows[0]["approved"]:
        raise Forbidden(f"party {gln} is on the serious-violation list (严重违法失信名单): {action} need a "
                        "regulator's approval", field="credit", details={"credit_status": "blacklist"})


_LOT_OWNER: LiteralString = "MATCH (l:Lot {key: $key}) RETURN l.owner_gln AS gln"


def ensure_lot_permitted(tx: ManagedTransaction, lot_key: str, action: str) -> None:
    """Inside a write: :func:`ensure_permitted` for the owner of a lot (its labels, its 合格证).

    Raises:
        Forbidden: the lot's owner is blacklisted and no approval for the action is valid now.
    """
    rows = tx_rows(tx, _LOT_OWNER, key=lot_key)
    if rows:
        ensure_permitted(tx, rows[0]["gln"], action)


_RECORD: LiteralString = """
MATCH (p:Party {gln: $gln})
CALL (p) {
    OPTIONAL MATCH (p)-[:CREDIT]->(c:CreditChange)
    WITH c ORDER BY c.seq DESC
    CALL (c) {
        OPTIONAL MATCH (c)-[:APPEALED]->(a:CreditAppeal)
        WITH a ORDER BY a.filed_at
        RETURN collect(a {.appeal_id, .text, .filed_by, .state, .decided_by, .note,
                          filed_at: toString(a.filed_at), decided_at: toString(a.decided_at)}) AS appeals
    }
    RETURN collect(c {.change_id, .before, .after, .event_kind, .reason, .evidence, .decided_by, .reversed,
                      .reversed_by, .appeal_state, decided_at: toString(c.decided_at),
                      reversed_at: toString(c.reversed_at), appeals: appeals}) AS changes
}
CALL (p) {
    OPTIONAL MATCH (p)-[:APPROVED]->(x:CreditApproval)
    WITH x ORDER BY x.granted_at DESC
    RETURN collect(x {.approval_id, .action, .reason, .granted_by, granted_at: toString(x.granted_at),
                      valid_until: toString(x.valid_until)}) AS approvals
}
RETURN p.gln AS gln, p.name_zh AS name_zh, p.name_en AS name_en, coalesce(p.credit_status, 'normal') AS status,
       toString(p.credit_changed_at) AS changed_at, changes, approvals
"""


def record_of(graph: Graph, gln: str) -> dict:
    """A party's credit record: status, changes newest first (each with its appeals), approvals.

    Raises:
        NotFound: no such party.
    """
    rows = graph.query(_RECORD, read=True, gln=gln)
    if not rows:
        raise NotFound(f"no party with GLN {gln}", field="gln")
    return plain(rows[0])


_LIST: LiteralString = """
MATCH (p:Party)
WHERE p.credit_status IN $statuses
OPTIONAL MATCH (p)-[:CREDIT]->(c:CreditChange)
WITH p, c ORDER BY c.seq DESC
WITH p, collect(c)[0] AS latest
ORDER BY p.credit_changed_at DESC, p.gln
WITH collect({gln: p.gln, name_zh: p.name_zh, name_en: p.name_en, region_code: p.region_code,
              status: p.credit_status, changed_at: toString(p.credit_changed_at), event_kind: latest.event_kind,
              reason: latest.reason, decided_by: latest.decided_by,
              appeal_state: latest.appeal_state}) AS rows
RETURN size(rows) AS total, rows[$skip..$skip + $limit] AS items
"""


def list_parties(graph: Graph, status: str | None = None, page: int = 1, per_page: int = 50) -> dict:
    """Parties on the watch list or blacklist (status None: both), most recently changed first, one page.

    Returns:
        {"items": [{gln, name_zh, name_en, region_code, status, changed_at, event_kind, reason, decided_by,
        appeal_state}], "total", "page", "per_page"}.
    """
    per_page = max(1, min(int(per_page), 500))
    page = max(1, int(page))
    statuses = [status] if status else ["watch", "blacklist"]
    row = graph.query(_LIST, read=True, statuses=statuses, skip=(page - 1) * per_page, limit=per_page)[0]
    return {"items": plain(row["items"]), "total": row["total"], "page": page, "per_page": per_page}


_WARNING: LiteralString = """
OPTIONAL MATCH (pr:Product {gtin: $gtin})-[:OWNED_BY]->(brand:Party)
OPTIONAL MATCH (l:Lot {key: $lot_key})
OPTIONAL MATCH (maker:Party {gln: l.owner_gln})
WITH [x IN [brand, maker] WHERE x IS NOT NULL AND x.credit_status IN ['watch', 'blacklist']] AS flagged
UNWIND flagged AS p
WITH DISTINCT p
RETURN p.gln AS gln, p.name_zh AS name_zh, p.name_en AS name_en, p.credit_status AS status,
       toString(p.credit_changed_at) AS since
ORDER BY CASE p.credit_status WHEN 'blacklist' THEN 0 ELSE 1 END, p.gln
"""


def scan_warnings(graph: Graph, gtin: str, lot_key: str | None = None) -> list[dict]:
    """What the consumer page warns about a product: its brand owner or the lot's maker on watch or blacklist.

    Args:
        graph: the database.
        gtin: the scanned product's GTIN-14.
        lot_key: the scanned lot's business key (gs1.identifiers.lot_key), when the code names one.

    Returns:
        [{gln, name_zh, name_en, status ("watch" | "blacklist"), since}], blacklist first; [] for good standing.
        Two indexed look-ups whatever the data.
    """
    return plain(graph.query(_WARNING, read=True, gtin=gtin, lot_key=lot_key))
