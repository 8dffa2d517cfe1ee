"""An append-only audit trail of every write, chained by keyed hashes so a changed or removed entry shows.

Each entry's MAC (HMAC-SHA256 with a key that is never stored in the database) covers its content, its number and
the previous entry's MAC. Someone who can write to Neo4j but does not hold the key can change an entry and
recompute plain SHA-256 hashes, but not the MACs: the first entry they touch no longer verifies.

Entries written before the chain was keyed carry no `alg` and a plain SHA-256 link ("legacy"). They are kept as
they are (rewriting past hashes is exactly what the chain forbids) and still verify; once a keyed entry follows
them, its MAC covers the last legacy hash, so a rewrite of the legacy prefix breaks that keyed link. A legacy entry
after a keyed one is refused (it would be a downgrade).

Entries are numbered without gaps under a lock on the single AuditHead node, so concurrent writers form one chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, LiteralString, TypeVar

from neo4j import ManagedTransaction

from graph.driver import Graph, tx_rows, tx_run

T = TypeVar("T")
_META = {"seq", "hash", "prev_hash", "alg", "key_id"}
GENESIS = "0" * 64
LEGACY = "sha256"
KEYED = "hmac-sha256"
# What the legacy (unkeyed) hash covered; kept only to verify entries written before the chain was keyed.
LEGACY_FIELDS = ("at", "token_id", "role", "party_gln", "method", "path", "status", "body_sha256")
# What a keyed entry holds (all scalars: Neo4j properties cannot be maps); `detail` is a JSON text.
ENTRY_FIELDS = (
    "at", "kind", "actor", "token_id", "role", "party_gln", "client_addr", "method", "path", "query", "status",
    "outcome", "error_code", "message", "content_type", "body", "body_sha256", "body_bytes", "body_note", "detail",
)

_LOCK_HEAD: LiteralString = """
MERGE (h:AuditHead {id: 'audit'}) ON CREATE SET h.seq = 0, h.hash = $genesis
SET h.locked_at = datetime()
RETURN h.seq AS seq, h.hash AS hash
"""
_CREATE: LiteralString = """
MATCH (h:AuditHead {id: 'audit'})
CREATE (a:AuditEntry {seq: $seq, hash: $hash, prev_hash: $prev, alg: $alg, key_id: $key_id})
SET a += $entry
SET h.seq = $seq, h.hash = $hash
"""
_HEAD: LiteralString = "MATCH (h:AuditHead {id: 'audit'}) RETURN h.seq AS seq, h.hash AS hash"
_RANGE: LiteralString = """
MATCH (a:AuditEntry) WHERE a.seq >= $from AND a.seq < $to
RETURN a {.*} AS a ORDER BY a.seq
"""
_MAX_SEQ: LiteralString = "MATCH (a:AuditEntry) RETURN max(a.seq) AS seq"
_FLAGS_RAISED: LiteralString = """
UNWIND $rows AS r
MATCH (i:Item {key: r.key}) WHERE i.suspect_since = r.time
RETURN r.scan_id AS scan_id, i.key AS key, i.gtin AS gtin, i.lot AS lot, i.serial AS serial, i.suspect_reason AS reason,
       toString(i.suspect_since) AS since, i.suspect_detail AS detail
"""


def key_id(key: bytes) -> str:
    """Return a public identifier of an audit key (an HMAC of a fixed text: it reveals nothing about the key)."""
    return hmac.new(key, b"tracegraph/audit-key-id/v1", hashlib.sha256).hexdigest()[:16]


def legacy_hash(previous: str, seq: int, entry: dict) -> str:
    """Return an unkeyed (legacy) entry's hash: SHA-256 over the previous hash, its number and LEGACY_FIELDS."""
    content = json.dumps({k: entry.get(k) for k in LEGACY_FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{previous}|{seq}|{content}".encode()).hexdigest()


def entry_mac(key: bytes, previous: str, seq: int, entry: dict) -> str:
    """Return a keyed entry's MAC: HMAC-SHA256 over its algorithm, key id, number, previous link and content.

    Args:
        key: the audit key (AUDIT_KEY, or the one derived from SECRET_KEY).
        previous: the previous entry's hash or MAC (GENESIS for the first entry).
        seq: the entry's number.
        entry: the entry (fields of ENTRY_FIELDS; others are ignored).
    """
    content = {"alg": KEYED, "key_id": key_id(key), "seq": seq, "prev": previous,
               "entry": {k: entry.get(k) for k in ENTRY_FIELDS}}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _clean(entry: dict) -> dict:
    """The entry's stored fields: ENTRY_FIELDS only, None dropped (Neo4j does not store nulls)."""
    return {k: entry[k] for k in ENTRY_FIELDS if entry.get(k) is not None}


def append(graph: Graph, entry: dict, key: bytes) -> int:
    """Append one entry in a transaction of its own and return its sequence number.

    Args:
        graph: the database.
        entry: fields of ENTRY_FIELDS (others are dropped).
        key: the audit key.

    Raises:
        Unavailable: the database does not answer.
        Conflict: two first-ever entries raced (the AuditEntry.seq constraint refused one): append again.
    """
    return graph.write(append_tx, entry, key)


def append_tx(tx: ManagedTransaction, entry: dict, key: bytes) -> int:
    """Append one entry inside the caller's write transaction (so a write and its entry commit together).

    Call it last in the transaction: it locks the chain's head until commit, which serialises audited writers.
    Safe under transaction retry (nothing outside the transaction changes).

    Args:
        tx: the caller's write transaction.
        entry: fields of ENTRY_FIELDS (others are dropped).
        key: the audit key.

    Returns:
        The entry's sequence number.
    """
    # SET on the head takes its write lock first, so the read of seq/hash cannot interleave with another writer.
    head = tx.run(_LOCK_HEAD, genesis=GENESIS).single()
    seq = head["seq"] + 1
    stored = _clean(entry)
    mac = entry_mac(key, head["hash"], seq, stored)
    tx_run(tx, _CREATE, seq=seq, hash=mac, prev=head["hash"], alg=KEYED, key_id=key_id(key), entry=stored)
    return seq


def write_audited(graph: Graph, key: bytes, work: Callable[..., T], entry: dict | Callable[[T], dict],
                  *args: Any) -> tuple[T, int]:
    """Run ``work(tx, *args)`` and append its audit entry in the same transaction; both commit or neither.

    Args:
        graph: the database.
        key: the audit key.
        work: a transaction function (idempotent: it may run again on retry).
        entry: the entry, or a function building it from work's result.
        args: passed to work after the transaction.

    Returns:
        (work's result, the entry's sequence number).

    Raises:
        Unavailable: the database does not answer.
    """

    def both(tx: ManagedTransaction) -> tuple[T, int]:
        result = work(tx, *args)
        return result, append_tx(tx, entry(result) if callable(entry) else entry, key)

    return graph.write(both)


def flags_raised(graph: Graph, rows: list[dict]) -> list[dict]:
    """Return the copy flags that scans just raised: items whose flag time is one of these scans' times.

    Args:
        graph: the database.
        rows: {"scan_id", "key": item key, "time": the scan's UTC datetime} of scans judged suspected_copy.

    Returns:
        {scan_id (the scan that raised it), key, gtin, lot, serial, reason, since, detail} per new flag.
    """
    if not rows:
        return []
    return graph.read(lambda tx: tx_rows(tx, _FLAGS_RAISED, rows=rows))


class ChainCheck:
    """The chain's rules, entry by entry, without a database: feed entries in sequence order (pure)."""

    def __init__(self, key: bytes | None):
        """Start at the genesis link.

        Args:
            key: the audit key; without it keyed entries cannot be checked.
        """
        self.key = key
        self.key_id = key_id(key) if key else None
        self.previous, self.expected = GENESIS, 1
        self.legacy = self.keyed = 0

    def feed(self, a: dict) -> str | None:
        """Check the next stored entry; return what is wrong with it (and stop advancing), or None."""
        if a["seq"] != self.expected:
            return f"entry {self.expected} is missing"
        problem = self._problem(a)
        if problem:
            return problem
        if a.get("alg") == KEYED:
            self.keyed += 1
        else:
            self.legacy += 1
        self.previous, self.expected = a["hash"], self.expected + 1
        return None

    def _problem(self, a: dict) -> str | None:
        seq = a["seq"]
        if a.get("prev_hash") != self.previous:
            return f"entry {seq} does not link to entry {seq - 1} (removed, re-ordered or changed)"
        alg = a.get("alg") or LEGACY
        if alg == LEGACY:
            if self.keyed:
                return f"entry {seq} is unkeyed after keyed entries (a downgrade)"
            if legacy_hash(self.previous, seq, a) != a["hash"]:
                return f"entry {seq} was changed (its SHA-256 link does not verify)"
            return None
        if alg != KEYED:
            return f"entry {seq} names an unknown algorithm {alg!r}"
        if self.key is None:
            return f"entry {seq} is keyed and no audit key was given"
        extra = sorted(set(a) - set(ENTRY_FIELDS) - _META)
        if extra:
            return f"entry {seq} carries fields outside its MAC: {', '.join(extra)}"
        if a.get("key_id") != self.key_id:
            return f"entry {seq} was made with another audit key (key id {a.get('key_id')}; configured {self.key_id})"
        if not hmac.compare_digest(entry_mac(self.key, self.previous, seq, a), str(a.get("hash"))):
            return f"entry {seq} was changed (its HMAC does not verify with the configured key)"
        return None


def verify(graph: Graph, key: bytes | None, batch: int = 5000) -> dict:
    """Recompute the chain with the key; report what was proved and the first changed, removed or forged entry.

    Args:
        graph: the database.
        key: the audit key; without it keyed entries cannot be checked (reported as a problem).
        batch: entries read per query.

    Returns:
        {"ok", "entries" (checked and good), "legacy" and "keyed" (of those), "first" and "last" ({seq, at} of
        the good entries), "head" ({seq, hash} as read), "broken_seq" (first bad number or None), "problem",
        "key_id" (of the key used)}.
    """
    check = ChainCheck(key)
    report: dict[str, Any] = {"ok": False, "entries": 0, "legacy": 0, "keyed": 0, "first": None, "last": None,
                              "head": None, "broken_seq": None, "problem": None, "key_id": check.key_id}

    def broken(seq: int, problem: str) -> dict:
        report.update(ok=False, broken_seq=seq, problem=problem, legacy=check.legacy, keyed=check.keyed,
                      entries=check.legacy + check.keyed)
        return report

    head = graph.query(_HEAD, read=True)
    last_seq = head[0]["seq"] if head else 0
    report["head"] = head[0] if head else None
    while check.expected <= last_seq:
        rows = graph.query(_RANGE, read=True, **{"from": check.expected,
                                                 "to": min(check.expected + batch, last_seq + 1)})
        if not rows:
            return broken(check.expected, f"entry {check.expected} is missing")
        for row in rows:
            a = row["a"]
            problem = check.feed(a)
            if problem:
                return broken(check.expected, problem)
            report["first"] = report["first"] or {"seq": a["seq"], "at": a.get("at")}
            report["last"] = {"seq": a["seq"], "at": a.get("at")}
    if head and head[0]["hash"] != check.previous:
        return broken(last_seq, f"the chain head (entry {last_seq}) does not match its last entry")
    # Entries are created with the head's update in one transaction, so any entry read now has a number at most
    # the head's as read afterwards; a larger one was slipped in beside the chain.
    beyond = graph.query(_MAX_SEQ, read=True)[0]["seq"]
    head_now = graph.query(_HEAD, read=True)
    if beyond is not None and beyond > (head_now[0]["seq"] if head_now else 0):
        return broken(last_seq + 1, f"entry {beyond} lies beyond the chain head")
    report.update(ok=True, legacy=check.legacy, keyed=check.keyed, entries=check.legacy + check.keyed)
    return report
