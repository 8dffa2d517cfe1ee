"""An append-only audit trail of every write, chained by SHA-256 hashes so a changed or removed entry shows.

Each entry's hash covers its content and the previous entry's hash; entries are numbered without gaps under a
lock on the single AuditHead node, so concurrent writers still form one chain.
"""

from __future__ import annotations

import hashlib
import json

from neo4j import ManagedTransaction

from graph.driver import Graph

GENESIS = "0" * 64
ENTRY_FIELDS = ("at", "token_id", "role", "party_gln", "method", "path", "status", "body_sha256")


def entry_hash(previous: str, seq: int, entry: dict) -> str:
    """Return the chained hash of an entry: SHA-256 over the previous hash, its number and its content."""
    content = json.dumps({k: entry.get(k) for k in ENTRY_FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{previous}|{seq}|{content}".encode()).hexdigest()


def append(graph: Graph, entry: dict) -> int:
    """Append one entry (fields of ENTRY_FIELDS) and return its sequence number.

    Raises:
        Unavailable: the database does not answer.
    """
    return graph.write(_append, {k: entry.get(k) for k in ENTRY_FIELDS})


def _append(tx: ManagedTransaction, entry: dict) -> int:
    # SET on the head takes its write lock first, so the read of seq/hash below cannot interleave with another writer.
    head = tx.run(
        """
        MERGE (h:AuditHead {id: 'audit'}) ON CREATE SET h.seq = 0, h.hash = $genesis
        SET h.locked_at = datetime()
        RETURN h.seq AS seq, h.hash AS hash
        """,
        genesis=GENESIS,
    ).single()
    seq = head["seq"] + 1
    digest = entry_hash(head["hash"], seq, entry)
    tx.run(
        """
        MATCH (h:AuditHead {id: 'audit'})
        CREATE (a:AuditEntry {seq: $seq, hash: $hash, prev_hash: $prev})
        SET a += $entry
        SET h.seq = $seq, h.hash = $hash
        """,
        seq=seq, hash=digest, prev=head["hash"], entry=entry,
    ).consume()
    return seq


def verify(graph: Graph, batch: int = 5000) -> dict:
    """Recompute the chain; report the first changed, removed or re-ordered entry.

    Returns:
        {"ok": bool, "entries": n checked, "problem": description or None}.
    """
    previous, expected_seq, checked = GENESIS, 1, 0
    head = graph.query("MATCH (h:AuditHead {id: 'audit'}) RETURN h.seq AS seq, h.hash AS hash", read=True)
    last_seq = head[0]["seq"] if head else 0
    while expected_seq <= last_seq:
        rows = graph.query(
            """
            MATCH (a:AuditEntry) WHERE a.seq >= $from AND a.seq < $to
            RETURN a {.*} AS a ORDER BY a.seq
            """,
            read=True, **{"from": expected_seq, "to": expected_seq + batch},
        )
        for row in rows:
            a = row["a"]
            if a["seq"] != expected_seq:
                return {"ok": False, "entries": checked, "problem": f"entry {expected_seq} is missing"}
            if a["prev_hash"] != previous or entry_hash(previous, a["seq"], a) != a["hash"]:
                return {"ok": False, "entries": checked, "problem": f"entry {a['seq']} was changed"}
            previous, expected_seq, checked = a["hash"], expected_seq + 1, checked + 1
        if not rows:
            return {"ok": False, "entries": checked, "problem": f"entry {expected_seq} is missing"}
    if head and head[0]["hash"] != previous:
        return {"ok": False, "entries": checked, "problem": "the chain head does not match its last entry"}
    return {"ok": True, "entries": checked, "problem": None}
