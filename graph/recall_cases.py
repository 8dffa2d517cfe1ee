"""Recall cases beyond one case's own record: the cases list, the public notice, the
escalation of holders silent past the start deadline, and a drill's delivery facts.

graph/recalls.py opens, reads, acknowledges and closes a case; this module reads across cases and raises alerts.
"""

from __future__ import annotations

from typing import LiteralString

from neo4j import ManagedTransaction

from graph import alerts as alerts_module
from graph import notify_rules, outbox
from graph.driver import Graph, plain, tx_rows
from graph.errors import Conflict, NotFound
from graph.recall_rules import deadlines
from graph.recalls import acknowledge_tx, case_tx, get
from gs1.identifiers import party_key

# Keyset paging, newest first: (opened_at, recall_id) of the last row of the page before. A party sees the cases
# it opened and those that notified it; regulators and admins ($viewer null) see all.
LIST: LiteralString = """
MATCH (r:Recall)
WHERE ($status IS NULL OR r.status = $status)
  AND ($level IS NULL OR r.level = $level)
  AND ($drill IS NULL OR coalesce(r.drill, false) = $drill)
  AND ($from IS NULL OR r.opened_at >= datetime($from))
  AND ($to IS NULL OR r.opened_at < datetime($to))
  AND ($after_at IS NULL OR r.opened_at < datetime($after_at)
       OR (r.opened_at = datetime($after_at) AND r.recall_id < $after_id))
  AND ($viewer IS NULL OR r.opened_by_party = $viewer OR EXISTS { (r)-[:NOTIFIES]->(:Party {gln: $viewer}) })
  AND ($party IS NULL OR r.opened_by_party = $party OR EXISTS { (r)-[:NOTIFIES]->(:Party {gln: $party}) })
  AND ($gtin IS NULL OR EXISTS { (r)-[:IMPLICATES]->(:Lot {gtin: $gtin}) }
       OR EXISTS { MATCH (r)-[:AFFECTS]->(n) WHERE n.gtin = $gtin })
WITH r ORDER BY r.opened_at DESC, r.recall_id DESC LIMIT $limit
RETURN r {.recall_id, .level, .reason, .status, .opened_at, .closed_at, .start_by, .complete_by, .drill,
          .initiated_by, .opened_by_party, .affected_count} AS recall,
       [(r)-[:IMPLICATES]->(l:Lot) | l.gtin][..20] AS gtins,
       COUNT { (r)-[:NOTIFIES]->() } AS holders,
       COUNT { MATCH (p:Party)-[:ACKNOWLEDGED]->(:RecallAck)-[:ACKNOWLEDGES]->(r) RETURN DISTINCT p } AS acknowledged
"""


def list_cases(graph: Graph, filters: dict, viewer: str | None, limit: int = 50,
               after: tuple[str, str] | None = None) -> dict:
    """Return one page of recall cases, newest first, and the position after its last row.

    Args:
        graph: the database.
        filters: status, level, gtin, party, from, to (ISO instants), drill (bool); each optional.
        viewer: a party's GLN (it sees the cases it opened or was notified in); None sees every case.
        limit: rows per page (1..200).
        after: (opened_at, recall_id) of the last row of the previous page.

    Returns:
        {"cases": [...], "next": (opened_at, recall_id) or None}.

    Raises:
        Unavailable: the database does not answer.
    """
    params = {k: filters.get(k) for k in ("status", "level", "gtin", "party", "from", "to", "drill")}
    rows = graph.query(LIST, read=True, viewer=viewer, limit=limit + 1, after_at=after[0] if after else None,
                       after_id=after[1] if after else None, **params)
    cases = []
    for r in rows[:limit]:
        case = plain(r["recall"])
        case["drill"] = bool(case.get("drill"))
        case["initiated_by"] = case.get("initiated_by") or "regulator"
        case["gtins"] = sorted(set(r["gtins"]))
        case["holders"], case["holders_acknowledged"] = r["holders"], r["acknowledged"]
        cases.append(case)
    last = cases[-1] if len(rows) > limit else None
    return {"cases": cases, "next": (last["opened_at"], last["recall_id"]) if last else None}


PUBLIC_LOTS_MAX = 200
# What anyone may read of a real case: no holders, no quantities, no trade partners; at most PUBLIC_LOTS_MAX lots
# (bounded work whatever the case's size); a drill is not public.
NOTICE: LiteralString = """
MATCH (r:Recall {recall_id: $id}) WHERE NOT coalesce(r.drill, false)
CALL (r) {
    // LIMIT without ORDER BY: the walk stops after $max lots, whatever the case's size (sorted in Python)
    MATCH (r)-[:AFFECTS]->(l:Lot)
    WITH l LIMIT $max
    OPTIONAL MATCH (p:Product {gtin: l.gtin})
    RETURN collect({gtin: l.gtin, lot: l.lot, product_zh: p.name_zh, product_en: p.name_en,
                    expiry_date: l.expiry_date}) AS lots
}
CALL (r) {
    OPTIONAL MATCH (r)-[:IMPLICATES]->(l:Lot)
    OPTIONAL MATCH (o:Party {gln: l.owner_gln})
    RETURN [x IN collect(DISTINCT {gln: o.gln, name_zh: o.name_zh, name_en: o.name_en}) WHERE x.gln IS NOT NULL]
           AS owners
}
RETURN r {.recall_id, .level, .reason, .status, .opened_at, .closed_at, .refund_contact, .affected_count} AS recall,
       lots, owners
"""


def public_notice(graph: Graph, recall_id: str) -> dict:
    """Return a case's public notice: product, lots, reason, level, dates, the brand owners and refund contact.

    Raises:
        NotFound: no such case, or it is a drill.
    """
    rows = graph.query(NOTICE, read=True, id=recall_id, max=PUBLIC_LOTS_MAX)
    if not rows:
        raise NotFound(f"no recall {recall_id}", field="recall_id")
    row = plain(rows[0])
    lots = sorted(row["lots"], key=lambda x: (x["gtin"] or "", x["lot"] or ""))
    return {**row["recall"], "lots": lots, "owners": row["owners"],
            "lots_shown_max": PUBLIC_LOTS_MAX}


# Holders of open real cases past the start deadline with no acknowledgement, not escalated yet: each is marked,
# so a second pass (or a second worker) escalates it no more.
SILENT: LiteralString = """
MATCH (r:Recall {status: 'open'})
WHERE NOT coalesce(r.drill, false) AND r.start_by < datetime() AND ($id IS NULL OR r.recall_id = $id)
MATCH (r)-[nf:NOTIFIES]->(p:Party)
WHERE nf.escalated_at IS NULL
  AND NOT EXISTS { MATCH (p)-[:ACKNOWLEDGED]->(a:RecallAck) WHERE a.recall_id = r.recall_id }
SET nf.escalated_at = datetime()
RETURN r.recall_id AS recall_id, collect(p.gln) AS glns
"""

def escalate(graph: Graph, key: bytes, recall_id: str | None = None) -> list[dict]:
    """Escalate every holder silent past its case's start deadline: an alert for the regulator and a second notice.

    All in one transaction: the holder is marked escalated, its alert opened and its reminder written to the outbox
    together, or none of it.

    Args:
        graph: the database.
        key: the notification key (the reminder carries a one-time link of its own).
        recall_id: only this case (None: every open case).

    Returns:
        One {recall_id, party_gln, alert_id} per holder escalated.
    """
    def work(tx: ManagedTransaction) -> list[dict]:
        raised, alerts = [], []
        for row in tx_rows(tx, SILENT, id=recall_id):
            case = case_tx(tx, row["recall_id"])
            silent = set(row["glns"])
            holders = [h for h in case["holders"] if h["party"]["gln"] in silent]
            outbox.enqueue_tx(tx, key, notify_rules.notices({**case, "holders": holders}, "escalation", False))
            for h in holders:
                gln = h["party"]["gln"]
                alerts.append({
                    "kind": "recall_holder_silent", "subject_keys": [f"recall:{case['recall_id']}", party_key(gln)],
                    "summary": f"{h['party'].get('name_zh') or gln} 未在召回 {case['recall_id']} 启动期限前确认 / "
                               f"holder silent past the start deadline {case['deadlines']['start_by']}",
                    "details": {"recall_id": case["recall_id"], "party_gln": gln, "level": case["level"],
                                "start_by": case["deadlines"]["start_by"], "held_at_opening": h["held_at_opening"]},
                    "region": h["party"].get("region_code"), "parties": [gln],
                    "dedupe_key": f"recall_holder_silent:{case['recall_id']}:{gln}"})
                raised.append({"recall_id": case["recall_id"], "party_gln": gln})
        if alerts:
            for r, opened in zip(raised, alerts_module.open_alerts(tx, alerts), strict=True):
                r["alert_id"] = opened["alert_id"]
        return raised

    return graph.write(work)


DELIVERIES: LiteralString = """
MATCH (n:Notification {recall_id: $id})
RETURN n.party_gln AS party_gln, n.channel AS channel, n.kind AS kind, n.state AS state,
       n.delivered_at AS delivered_at
"""


def deliveries(graph: Graph, recall_id: str) -> list[dict]:
    """Return where each notice of a case stands (party, channel, kind, state, delivered_at)."""
    return [plain(r) for r in graph.query(DELIVERIES, read=True, id=recall_id)]


def acknowledge_by_link(graph: Graph, token: str, ack: dict) -> dict:
    """Record a holder's acknowledgement through its one-time link: the link is used by it, in one transaction.

    Args:
        graph: the database.
        token: the link's token (from the message).
        ack: quantity_removed, quantity_recovered, unit, note (the party and case are the link's).

    Returns:
        {recall_id, party_gln, ack_id}.

    Raises:
        NotFound: no such link.
        Conflict: the link was used already, or the case is closed.
        RuleViolation: more than the holder had (graph.recalls.acknowledge_tx).
    """
    def work(tx: ManagedTransaction) -> dict:
        link = outbox.use_link_tx(tx, token)
        if link is None:
            raise NotFound("no such link", field="token")
        if link["used_at"] is not None:
            raise Conflict("this link was used already")
        ack_id = acknowledge_tx(tx, link["recall_id"], {**ack, "party_gln": link["party_gln"], "lot_key": None,
                                                        "token_id": "link"})
        outbox.mark_link_used_tx(tx, token, ack_id)
        return {"recall_id": link["recall_id"], "party_gln": link["party_gln"], "ack_id": ack_id}

    return graph.write(work)


CHANGE: LiteralString = """
MATCH (r:Recall {recall_id: $id})
WITH r, r.status AS before
FOREACH (_ IN CASE WHEN before = 'open' THEN [1] ELSE [] END |
    SET r.level = $level, r.reason = $reason, r.start_by = datetime($start_by),
        r.complete_by = datetime($complete_by), r.revision = coalesce(r.revision, 0) + 1,
        r.changed_at = datetime(), r.changed_by = $by)
RETURN before, r.revision AS revision, r.opened_at AS opened_at
"""
OPENED: LiteralString = """
MATCH (r:Recall {recall_id: $id}) RETURN r.opened_at AS opened_at, r.level AS level, r.reason AS reason
"""


def change(graph: Graph, recall_id: str, level: int | None = None, reason: str | None = None, by: str | None = None,
           notify_key: bytes | None = None) -> dict:
    """Change an open case's level or reason (deadlines follow the level from the opening time) and tell every
    holder in the same transaction (a `changed` notice per revision); return the case.

    Raises:
        NotFound: no such recall.
        Conflict: the case is closed.
    """
    def work(tx: ManagedTransaction) -> None:
        found = tx_rows(tx, OPENED, id=recall_id)
        if not found:
            raise NotFound(f"no recall {recall_id}", field="recall_id")
        new_level = level or found[0]["level"]
        due = deadlines(found[0]["opened_at"].to_native(), new_level)
        rows = tx_rows(tx, CHANGE, id=recall_id, level=new_level, reason=reason or found[0]["reason"], by=by,
                       start_by=due["start_by"].isoformat(), complete_by=due["complete_by"].isoformat())
        if rows[0]["before"] != "open":
            raise Conflict(f"recall {recall_id} is closed; it cannot change")
        if notify_key is not None:
            case = case_tx(tx, recall_id)
            outbox.enqueue_tx(tx, notify_key, notify_rules.notices(case, "changed", case["drill"],
                                                                   revision=rows[0]["revision"]))

    graph.write(work)
    return get(graph, recall_id)


OPENER: LiteralString = """
MATCH (r:Recall {recall_id: $id}) RETURN r.opened_by_party AS party
"""


def opened_by_party(graph: Graph, recall_id: str) -> str | None:
    """Return the party that opened a case (a producer's own recall), None for a regulator's.

    Raises:
        NotFound: no such recall.
    """
    rows = graph.query(OPENER, read=True, id=recall_id)
    if not rows:
        raise NotFound(f"no recall {recall_id}", field="recall_id")
    return rows[0]["party"]
