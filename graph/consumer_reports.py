"""Consumer reports (举报) from the scan page: filed under limits, queued with states and a reward flag.

``(:ConsumerReport {report_no, code, subject_key, text, phone, phone_digest, photo_sha256, photo_type, state,
reward, created_at, updated_at, updated_by})`` with ``-[:CHANGED]->(:ReportChange {at, by, before, after, reward,
note})`` for every regulator update. The phone number is kept for the investigator to call back and shown only to
regulators; limits count reports by a keyed digest of it. The public status page reads state and dates only.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import LiteralString

from neo4j import ManagedTransaction

from graph import audit as audit_trail
from graph import report_rules
from graph.driver import Graph, plain, tx_rows
from graph.errors import Conflict, NotFound, RuleViolation
from gs1.timezones import CHINA

_COUNTS: LiteralString = """
CALL () {
    MATCH (r:ConsumerReport) WHERE r.phone_digest = $phone_digest AND r.created_at >= datetime($since)
    RETURN count(r) AS by_phone
}
CALL () {
    MATCH (r:ConsumerReport) WHERE r.code = $code AND r.created_at >= datetime($since)
    RETURN count(r) AS by_code
}
RETURN by_phone, by_code
"""

_FILE: LiteralString = """
CREATE (r:ConsumerReport)
SET r = $r, r.state = 'received', r.reward = false, r.created_at = datetime(), r.updated_at = datetime()
RETURN r.report_no AS report_no
"""


def file_report(graph: Graph, report: dict, phone_digest: str, audit: tuple[dict, bytes] | None = None) -> dict:
    """File a consumer report under the per-phone and per-code daily limits (one transaction, audited).

    Args:
        graph: the database.
        report: code, subject_key (or None), text, phone, photo_sha256 and photo_type (or None).
        phone_digest: report_rules.phone_digest of the phone (the app holds the key).
        audit: the request's audit entry and key.

    Returns:
        {"report_no", "state", "created_at"} and ``audit_seq``.

    Raises:
        RuleViolation: the phone or the code reached its limit for the last 24 hours (field "phone" or "code").
    """
    now = datetime.now(UTC)
    number = report_rules.new_number(now.astimezone(CHINA).strftime("%Y%m%d"))

    def work(tx: ManagedTransaction) -> int | None:
        counts = tx_rows(tx, _COUNTS, phone_digest=phone_digest, code=report["code"],
                         since=(now - timedelta(days=1)).isoformat())[0]
        problem = report_rules.limit_error(counts["by_phone"], counts["by_code"])
        if problem:
            raise RuleViolation("too many reports today", field=problem.split("_")[0], details={"limit": problem})
        fields = {**{k: report.get(k) for k in ("code", "subject_key", "text", "phone", "photo_sha256",
                                               "photo_type")}, "report_no": number, "phone_digest": phone_digest}
        tx_rows(tx, _FILE, r={k: v for k, v in fields.items() if v is not None})
        return _audit(tx, audit, {"consumer_report": number, "code": report["code"]})

    seq = graph.write(work)
    return {"report_no": number, "state": "received", "created_at": now.isoformat(), "audit_seq": seq}


def _audit(tx: ManagedTransaction, audit: tuple[dict, bytes] | None, detail: dict) -> int | None:
    if audit is None:
        return None
    entry, key = audit
    return audit_trail.append_tx(tx, {**entry, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)},
                                 key)


_PUBLIC: LiteralString = """
MATCH (r:ConsumerReport {report_no: $no})
RETURN r.report_no AS report_no, r.state AS state, toString(r.created_at) AS created_at,
       toString(r.updated_at) AS updated_at
"""


def public_status(graph: Graph, report_no: str) -> dict:
    """What the reporter's status page shows: number, state, filed and last updated (nothing else).

    Raises:
        NotFound: no such report (or a malformed number: one look-up at most).
    """
    if not report_rules.NUMBER.match(report_no or ""):
        raise NotFound("no such report", field="report_no")
    rows = graph.lookup(_PUBLIC, no=report_no)  # the status page follows the filing, maybe on another worker
    if not rows:
        raise NotFound("no such report", field="report_no")
    return plain(rows[0])


_LIST: LiteralString = """
MATCH (r:ConsumerReport)
WHERE ($state IS NULL OR r.state = $state) AND ($reward IS NULL OR r.reward = $reward)
WITH r ORDER BY r.created_at DESC, r.report_no
WITH collect(r) AS kept
RETURN size(kept) AS total,
       [r IN kept[$skip..$skip + $limit] | r {.report_no, .code, .subject_key, .text, .phone, .photo_sha256,
        .photo_type, .state, .reward, .updated_by, created_at: toString(r.created_at),
        updated_at: toString(r.updated_at)}] AS items,
       [s IN $states | size([r IN kept WHERE r.state = s])] AS by_state
"""


def list_reports(graph: Graph, state: str | None = None, reward: bool | None = None, page: int = 1,
                 per_page: int = 50) -> dict:
    """The regulators' queue, newest first: {"items", "total", "page", "per_page", "by_state"} in one query."""
    per_page = max(1, min(int(per_page), 500))
    page = max(1, int(page))
    row = graph.query(_LIST, read=True, state=state, reward=reward, skip=(page - 1) * per_page, limit=per_page,
                      states=list(report_rules.STATES))[0]
    return {"items": plain(row["items"]), "total": row["total"], "page": page, "per_page": per_page,
            "by_state": dict(zip(report_rules.STATES, row["by_state"], strict=True))}


_GET: LiteralString = """
MATCH (r:ConsumerReport {report_no: $no})
CALL (r) {
    OPTIONAL MATCH (r)-[:CHANGED]->(c:ReportChange)
    WITH c ORDER BY c.at
    RETURN collect(c {.by, .before, .after, .reward, .note, at: toString(c.at)}) AS history
}
RETURN r {.report_no, .code, .subject_key, .text, .phone, .photo_sha256, .photo_type, .state, .reward,
          .updated_by, created_at: toString(r.created_at), updated_at: toString(r.updated_at)} AS report, history
"""


def get_report(graph: Graph, report_no: str) -> dict:
    """One report with its history (regulators).

    Raises:
        NotFound: no such report.
    """
    rows = graph.query(_GET, read=True, no=report_no)
    if not rows:
        raise NotFound(f"no report {report_no}", field="report_no")
    return {**plain(rows[0]["report"]), "history": plain(rows[0]["history"])}


# The write lock first (a counter), then the state: two regulators' updates at once are applied one after the other.
_STATE_OF: LiteralString = """
MATCH (r:ConsumerReport {report_no: $no})
SET r.lock_seq = coalesce(r.lock_seq, 0) + 1
RETURN r.state AS state, r.reward AS reward
"""

_UPDATE: LiteralString = """
MATCH (r:ConsumerReport {report_no: $no})
WITH r, r.state AS before
SET r.state = $state, r.reward = $reward, r.updated_at = datetime(), r.updated_by = $by
CREATE (r)-[:CHANGED]->(:ReportChange {change_id: $change_id, at: datetime(), by: $by, before: before,
                                       after: $state, reward: $reward, note: $note})
"""


def update_report(graph: Graph, report_no: str, state: str | None, reward: bool | None, note: str | None, by: str,
                  audit: tuple[dict, bytes] | None = None) -> dict:
    """Move a report along received -> investigating -> closed and/or set its reward flag (audited).

    Raises:
        NotFound: no such report.
        Conflict: the state cannot follow the report's state (closed is final).
    """

    def work(tx: ManagedTransaction) -> int | None:
        rows = tx_rows(tx, _STATE_OF, no=report_no)
        if not rows:
            raise NotFound(f"no report {report_no}", field="report_no")
        new_state = state or rows[0]["state"]
        problem = report_rules.transition_error(rows[0]["state"], new_state)
        if problem:
            raise Conflict(problem)
        new_reward = rows[0]["reward"] if reward is None else reward
        tx_rows(tx, _UPDATE, no=report_no, state=new_state, reward=new_reward, by=by, note=note,
                change_id=uuid.uuid4().hex)
        return _audit(tx, audit, {"consumer_report": report_no, "before": rows[0]["state"], "after": new_state,
                                  "reward": new_reward})

    seq = graph.write(work)
    return {**get_report(graph, report_no), "audit_seq": seq}
