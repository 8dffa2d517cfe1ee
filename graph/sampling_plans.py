"""双随机、一公开 sampling plans: scope, inspector pool, a reproducible draw with conflict exclusions, results.

``(:SamplingPlan {plan_id, title, categories, region_code, target_count, per_target, inspector_ids, state, seed,
created_by, created_at, drawn_by, drawn_at, draw_json})`` draws ``(:SamplingAssignment {assignment_id, plan_id,
party_gln, inspector_ids, result, note, inspected_on, recorded_by, recorded_at})`` with ``-[:TARGET]->(:Party)`` and
``-[:INSPECTOR]->(:User)``. An inspector's employment history is ``User.former_employers`` (GLNs). Candidates are
the parties of the plan's region owning a product of its categories (检查对象名录库); inspectors are the plan's pool
of regulator accounts (执法检查人员名录库). The draw is graph/sampling_rules.draw over the sorted candidates; the
candidates and the conflicts met are kept in ``draw_json`` so anyone with the seed can recompute it.
Every write is one transaction with its audit entry.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import LiteralString

from neo4j import ManagedTransaction

from graph import audit as audit_trail
from graph import sampling_rules
from graph.alert_rules import region_prefix
from graph.driver import Graph, plain, tx_rows
from graph.errors import Conflict, NotFound, RuleViolation

_POOL: LiteralString = """
UNWIND $ids AS uid
MATCH (u:User {user_id: uid})
RETURN u.user_id AS user_id, u.role AS role, coalesce(u.disabled, false) AS disabled
"""

_CREATE: LiteralString = """
CREATE (pl:SamplingPlan)
SET pl = $plan, pl.state = 'draft', pl.created_at = datetime()
RETURN pl.plan_id AS plan_id
"""


def _audit(tx: ManagedTransaction, audit: tuple[dict, bytes] | None, detail: dict) -> int | None:
    if audit is None:
        return None
    entry, key = audit
    return audit_trail.append_tx(tx, {**entry, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)},
                                 key)


def create_plan(graph: Graph, plan: dict, by: str, audit: tuple[dict, bytes] | None = None) -> dict:
    """Create a draft plan: scope, target count and the inspector pool (regulator accounts).

    Args:
        graph: the database.
        plan: title, categories (list), region_code, target_count, per_target, inspector_ids (user ids).
        by: who creates it (principal id).
        audit: the request's audit entry and key, appended in the same transaction.

    Returns:
        The plan as :func:`get_plan` answers it, and ``audit_seq``.

    Raises:
        NotFound: an inspector id names no account.
        RuleViolation: an inspector is not an active regulator account.
    """
    plan_id = f"SP-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"
    ids = sorted(set(plan["inspector_ids"]))

    def work(tx: ManagedTransaction) -> int | None:
        found = {r["user_id"]: r for r in tx_rows(tx, _POOL, ids=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no account {missing[0]}", field="inspector_ids")
        bad = [i for i in ids if found[i]["role"] != "regulator" or found[i]["disabled"]]
        if bad:
            raise RuleViolation(f"{bad[0]} is not an active regulator account", field="inspector_ids")
        fields = {"plan_id": plan_id, "title": plan["title"], "categories": sorted(set(plan["categories"])),
                  "region_code": plan["region_code"], "target_count": plan["target_count"],
                  "per_target": plan["per_target"], "inspector_ids": ids, "created_by": by}
        tx_rows(tx, _CREATE, plan=fields)
        return _audit(tx, audit, {"sampling_plan": plan_id, "action": "create"})

    seq = graph.write(work)
    return {**get_plan(graph, plan_id), "audit_seq": seq}


_SET_EMPLOYMENT: LiteralString = """
MATCH (u:User {user_id: $user_id})
SET u.former_employers = $glns
RETURN u.role AS role
"""


def set_employment(graph: Graph, user_id: str, former_employers: list[str],
                   audit: tuple[dict, bytes] | None = None) -> dict:
    """Record an inspector's former employers (party GLNs): a draw never sends them there.

    Raises:
        NotFound: no such account.
    """
    glns = sorted(set(former_employers))

    def work(tx: ManagedTransaction) -> int | None:
        if not tx_rows(tx, _SET_EMPLOYMENT, user_id=user_id, glns=glns):
            raise NotFound(f"no account {user_id}", field="user_id")
        return _audit(tx, audit, {"inspector": user_id, "former_employers": glns})

    seq = graph.write(work)
    return {"user_id": user_id, "former_employers": glns, "audit_seq": seq}


# The write lock first (a counter), then the state: of two draws of one plan at once, the second waits and sees
# the first's draw (read committed), so it answers 409 instead of drawing twice.
_PLAN_FOR_DRAW: LiteralString = """
MATCH (pl:SamplingPlan {plan_id: $plan_id})
SET pl.lock_seq = coalesce(pl.lock_seq, 0) + 1
RETURN pl {.*, created_at: toString(pl.created_at), drawn_at: toString(pl.drawn_at)} AS plan
"""

_CANDIDATES: LiteralString = """
MATCH (p:Party)
WHERE p.region_code STARTS WITH $prefix
  AND EXISTS { MATCH (pr:Product)-[:OWNED_BY]->(p) WHERE pr.category IN $categories }
RETURN collect(p.gln) AS glns
"""

# For each inspector: former employers, and the parties they were sent to in the last plan that drew them.
_INSPECTOR_HISTORY: LiteralString = """
UNWIND $ids AS uid
MATCH (u:User {user_id: uid})
CALL (u) {
    OPTIONAL MATCH (u)<-[:INSPECTOR]-(:SamplingAssignment)<-[:DREW]-(pl:SamplingPlan)
    WITH pl ORDER BY pl.drawn_at DESC LIMIT 1
    OPTIONAL MATCH (pl)-[:DREW]->(b:SamplingAssignment)-[:INSPECTOR]->(u)
    RETURN collect(DISTINCT b.party_gln) AS last
}
RETURN u.user_id AS user_id, coalesce(u.former_employers, []) AS former, last
"""

_WRITE_DRAW: LiteralString = """
MATCH (pl:SamplingPlan {plan_id: $plan_id})
SET pl.state = 'drawn', pl.seed = $seed, pl.drawn_by = $by, pl.drawn_at = datetime(), pl.draw_json = $draw_json
WITH pl
UNWIND $assignments AS a
MATCH (p:Party {gln: a.party_gln})
CREATE (pl)-[:DREW {order: a.order}]->(s:SamplingAssignment {assignment_id: a.assignment_id, plan_id: $plan_id,
        party_gln: a.party_gln, inspector_ids: a.inspector_ids, short: a.short, draw_order: a.order})
CREATE (s)-[:TARGET]->(p)
WITH s, a
UNWIND a.inspector_ids AS uid
MATCH (u:User {user_id: uid})
CREATE (s)-[:INSPECTOR]->(u)
"""


def draw(graph: Graph, plan_id: str, seed: str | None, by: str, audit: tuple[dict, bytes] | None = None) -> dict:
    """Draw a draft plan's targets and inspectors from a seed (a fresh one when None), excluding conflicts.

    Args:
        graph: the database.
        plan_id: the plan.
        seed: the seed to draw with (a published lottery number, or a replay); None draws a fresh one.
        by: who draws (principal id).
        audit: the request's audit entry and key.

    Returns:
        The plan with its assignments, and ``audit_seq``.

    Raises:
        NotFound: no such plan.
        Conflict: the plan was drawn already (a draw is never redone).
        RuleViolation: no candidate party in the plan's scope.
    """
    seed = seed or sampling_rules.new_seed()

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _PLAN_FOR_DRAW, plan_id=plan_id)
        if not rows:
            raise NotFound(f"no sampling plan {plan_id}", field="plan_id")
        plan = rows[0]["plan"]
        if plan["state"] != "draft":
            raise Conflict(f"plan {plan_id} was drawn already")
        targets = tx_rows(tx, _CANDIDATES, prefix=region_prefix(plan["region_code"]),
                          categories=plan["categories"])[0]["glns"]
        if not targets:
            raise RuleViolation("no party in the plan's region owns a product of its categories", field="plan_id")
        history = tx_rows(tx, _INSPECTOR_HISTORY, ids=plan["inspector_ids"])
        conflicts = sampling_rules.conflicts_of({h["user_id"]: h["former"] for h in history},
                                                {h["user_id"]: h["last"] for h in history})
        result = sampling_rules.draw(seed, targets, plan["inspector_ids"], plan["target_count"],
                                     plan["per_target"], conflicts)
        record = {"seed": seed, "targets": sorted(set(targets)), "inspectors": sorted(set(plan["inspector_ids"])),
                  "conflicts": {i: dict(sorted(c.items())) for i, c in sorted(conflicts.items())},
                  "excluded": result.excluded}
        assignments = [{"assignment_id": uuid.uuid4().hex, "party_gln": a.party_gln,
                        "inspector_ids": a.inspector_ids, "short": a.short, "order": n}
                       for n, a in enumerate(result.assignments)]
        tx_rows(tx, _WRITE_DRAW, plan_id=plan_id, seed=seed, by=by, assignments=assignments,
                draw_json=json.dumps(record, ensure_ascii=False, sort_keys=True))
        return _audit(tx, audit, {"sampling_plan": plan_id, "action": "draw", "seed": seed})

    seq = graph.write(work)
    return {**get_plan(graph, plan_id), "audit_seq": seq}


_RECORD: LiteralString = """
MATCH (pl:SamplingPlan {plan_id: $plan_id})-[:DREW]->(s:SamplingAssignment)
WITH pl, s, [r IN $results WHERE r.party_gln = s.party_gln][0] AS r
WHERE r IS NOT NULL
SET s.result = r.result, s.note = r.note, s.inspected_on = r.inspected_on, s.recorded_by = $by,
    s.recorded_at = datetime()
RETURN count(s) AS n
"""

_COUNTS: LiteralString = """
MATCH (pl:SamplingPlan {plan_id: $plan_id})-[:DREW]->(s:SamplingAssignment)
WITH pl, count(s) AS total, count(s.result) AS recorded
SET pl.state = CASE WHEN recorded >= total THEN 'completed' ELSE 'drawn' END
RETURN total, recorded
"""

_TARGETS: LiteralString = """
MATCH (pl:SamplingPlan {plan_id: $plan_id})
SET pl.lock_seq = coalesce(pl.lock_seq, 0) + 1
WITH pl
OPTIONAL MATCH (pl)-[:DREW]->(s:SamplingAssignment)
RETURN pl.state AS state, collect(s.party_gln) AS glns
"""


def record_results(graph: Graph, plan_id: str, results: list[dict], by: str,
                   audit: tuple[dict, bytes] | None = None) -> dict:
    """Record the inspection results of drawn targets (a result may be corrected while the plan is open).

    Args:
        graph: the database.
        plan_id: the plan.
        results: [{party_gln, result (sampling_rules.RESULTS), note, inspected_on (ISO date)}].
        by: who records (principal id).
        audit: the request's audit entry and key.

    Raises:
        NotFound: no such plan.
        Conflict: the plan is not drawn yet.
        RuleViolation: a result names a party the plan did not draw (nothing is written).
    """

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _TARGETS, plan_id=plan_id)
        if not rows:
            raise NotFound(f"no sampling plan {plan_id}", field="plan_id")
        if rows[0]["state"] == "draft":
            raise Conflict(f"plan {plan_id} is not drawn yet")
        drawn = set(rows[0]["glns"])
        stray = [r["party_gln"] for r in results if r["party_gln"] not in drawn]
        if stray:
            raise RuleViolation(f"plan {plan_id} did not draw {stray[0]}", field="results")
        tx_rows(tx, _RECORD, plan_id=plan_id, by=by, results=results)
        tx_rows(tx, _COUNTS, plan_id=plan_id)
        return _audit(tx, audit, {"sampling_plan": plan_id, "action": "results",
                                  "parties": [r["party_gln"] for r in results]})

    seq = graph.write(work)
    return {**get_plan(graph, plan_id), "audit_seq": seq}


_GET: LiteralString = """
MATCH (pl:SamplingPlan {plan_id: $plan_id})
CALL (pl) {
    OPTIONAL MATCH (pl)-[:DREW]->(s:SamplingAssignment)-[:TARGET]->(p:Party)
    WITH s, p ORDER BY s.draw_order
    CALL (s) {
        OPTIONAL MATCH (s)-[:INSPECTOR]->(u:User)
        WITH s, collect(u) AS found
        // in draw order (the order the seed drew them), not the order the relationships come back in
        RETURN [uid IN coalesce(s.inspector_ids, []) |
                [u IN found WHERE u.user_id = uid | u {.user_id, .display_name}][0]] AS inspectors
    }
    RETURN collect(CASE WHEN s IS NULL THEN null ELSE {party_gln: p.gln, party_name_zh: p.name_zh,
        party_name_en: p.name_en, region_code: p.region_code, region_zh: p.region_zh, inspectors: inspectors,
        short: s.short, result: s.result, note: s.note, inspected_on: s.inspected_on,
        recorded_at: toString(s.recorded_at)} END) AS assignments
}
RETURN pl {.plan_id, .title, .categories, .region_code, .target_count, .per_target, .inspector_ids, .state,
           .seed, .created_by, .drawn_by, .draw_json, created_at: toString(pl.created_at),
           drawn_at: toString(pl.drawn_at)} AS plan, assignments
"""


def get_plan(graph: Graph, plan_id: str, public: bool = False) -> dict:
    """One plan with its draw; ``public`` leaves out draft plans, the pool, who acted and the inspectors' ids.

    Raises:
        NotFound: no such plan (or, when public, a plan not drawn yet).
    """
    rows = graph.lookup(_GET, plan_id=plan_id)  # its page follows its creation, maybe on another worker
    if not rows or (public and rows[0]["plan"]["state"] == "draft"):
        raise NotFound(f"no sampling plan {plan_id}", field="plan_id")
    plan = plain(rows[0]["plan"])
    draw_json = plan.pop("draw_json", None)
    plan["draw"] = json.loads(draw_json) if draw_json else None
    plan["assignments"] = plain(rows[0]["assignments"])
    if public:
        return _public(plan)
    return plan


def _public(plan: dict) -> dict:
    """What the public page shows: scope, seed, candidate count, drawn parties, inspectors by name, results."""
    draw_record = plan.get("draw") or {}
    return {"plan_id": plan["plan_id"], "title": plan["title"], "categories": plan["categories"],
            "region_code": plan["region_code"], "target_count": plan["target_count"], "state": plan["state"],
            "seed": plan["seed"], "drawn_at": plan["drawn_at"],
            "candidate_count": len(draw_record.get("targets", [])),
            "assignments": [{**{k: a[k] for k in ("party_gln", "party_name_zh", "party_name_en", "region_zh",
                                                  "result", "inspected_on")},
                             "inspectors": [i["display_name"] for i in a["inspectors"]]}
                            for a in plan["assignments"]]}


_LIST: LiteralString = """
MATCH (pl:SamplingPlan)
WHERE ($state IS NULL OR pl.state = $state) AND (NOT $public OR pl.state <> 'draft')
WITH pl ORDER BY pl.created_at DESC, pl.plan_id
WITH collect(pl) AS kept
RETURN size(kept) AS total,
       [pl IN kept[$skip..$skip + $limit] | pl {.plan_id, .title, .categories, .region_code, .target_count,
        .per_target, .state, .seed, created_at: toString(pl.created_at), drawn_at: toString(pl.drawn_at)}] AS items
"""


def list_plans(graph: Graph, state: str | None = None, page: int = 1, per_page: int = 50,
               public: bool = False) -> dict:
    """One page of plans, newest first: {"items", "total", "page", "per_page"}; ``public`` skips drafts.

    Raises:
        Unavailable: the database does not answer.
    """
    per_page = max(1, min(int(per_page), 200))
    page = max(1, int(page))
    row = graph.query(_LIST, read=True, state=state, public=public, skip=(page - 1) * per_page,
                      limit=per_page)[0]
    return {"items": plain(row["items"]), "total": row["total"], "page": page, "per_page": per_page}
