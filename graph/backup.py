"""Backup and restore of the whole record: events as EPCIS documents, everything else as typed JSON rows.

Backup streams one read transaction (a consistent snapshot) into a sink. Restore goes the other way in three steps:
master data the events refer to (parties, products, tokens) is created first; the events are then captured again
through graph/events.py (app/backup.py drives that), which rebuilds every derived edge with the same code; last, the
remaining nodes are merged by key and every non-derived relationship is put back. A temporary ``RestoreRef`` label
with an index lets relationships find their ends by one uniform reference while restoring.

Labels and relationship types reach Cypher only as $parameters (dynamic labels, Neo4j 5.26) after a check against
the allow-lists below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, LiteralString

import neo4j.time
from neo4j import ManagedTransaction

from graph.driver import Graph
from graph.epcis_query import as_declared
from graph.errors import Conflict

# label -> the property that identifies a node of it
NODE_KEYS = {
    "Party": "gln", "Product": "gtin", "Token": "token_id", "Location": "key", "Lot": "key", "Item": "key",
    "LogisticUnit": "key", "OtherObject": "key", "PrintRun": "run_id", "Inspection": "key", "Certificate": "key",
    "Recall": "recall_id", "RecallAck": "ack_id", "Capture": "capture_id", "Scan": "scan_id", "AuditEntry": "seq",
    "AuditHead": "id", "User": "user_id", "Dispute": "dispute_id", "CommitmentCertificate": "number",
    "CommitmentCounter": "day", "Alert": "alert_id", "AlertChange": "change_id",
    "Notification": "delivery_id", "AckLink": "link_id", "Webhook": "party_gln",
    "NamedQuery": "name", "MasterData": "uid", "SamplingPlan": "plan_id", "SamplingAssignment": "assignment_id",
    "CreditChange": "change_id", "CreditAppeal": "appeal_id", "CreditApproval": "approval_id",
    "ConsumerReport": "report_no", "ReportChange": "change_id",
    "Subscription": "subscription_id", "SubscriptionFeed": "feed_id",
}
BEFORE_EVENTS = ("Party", "Product", "Token")  # what events and their policy checks refer to
MERGED_AFTER_EVENTS = ("Location", "Lot", "Item", "LogisticUnit", "OtherObject")  # capture creates these too
CREATED_AFTER_EVENTS = ("PrintRun", "Inspection", "Certificate", "Recall", "RecallAck", "Capture", "Scan",
                        "User", "Dispute", "CommitmentCertificate", "CommitmentCounter", "Alert", "AlertChange",
                        "Notification", "AckLink", "Webhook", "NamedQuery", "Subscription", "SubscriptionFeed",
                        "MasterData", "SamplingPlan",
                        "SamplingAssignment", "CreditChange", "CreditAppeal", "CreditApproval", "ConsumerReport",
                        "ReportChange", "AuditEntry", "AuditHead")
# Relationships capture derives from the events: rebuilt by the replay, never copied.
DERIVED = ("HOLDS", "TRANSFORMED_INTO", "PACKED_IN")
RELATIONSHIPS = ("OWNED_BY", "ACTS_FOR", "OF_PARTY", "OF_PRODUCT", "HAS_ITEM", "HAS_PRINT_RUN", "OF_LOT", "OF_ITEM",
                 "PERFORMED", "CERTIFIES", "IMPLICATES", "AFFECTS", "NOTIFIES", "ACKNOWLEDGES", "ACKNOWLEDGED",
                 "MEMBER_OF", "RAISED", "ABOUT", "AGAINST", "ISSUED", "FOR_LOT", "BASED_ON", "CITES", "CHANGED",
                 "HAS_WEBHOOK", "CREDIT", "APPEALED", "APPROVED", "DREW", "TARGET", "INSPECTOR", "WARNS",
                 "HAS_SUBSCRIPTION", "SCANNED")
# Event properties the capture computes from who captured and when: put back as they were after the replay.
PROVENANCE = ("capture_id", "recorded_by", "token_id", "record_time", "doc", "hashed", "context", "declared_in",
              "declared_by", "error_declaration", "content_hash")



def to_plain(value: Any) -> Any:
    """Turn a property value into JSON: temporal values become {"$datetime"|"$date"|"$time"|"$duration": text}."""
    if isinstance(value, neo4j.time.DateTime):
        return {"$datetime": value.iso_format()}
    if isinstance(value, neo4j.time.Date):
        return {"$date": value.iso_format()}
    if isinstance(value, neo4j.time.Time):
        return {"$time": value.iso_format()}
    if isinstance(value, neo4j.time.Duration):
        return {"$duration": str(value.iso_format())}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def from_plain(value: Any) -> Any:
    """Undo to_plain: typed JSON back into values the driver stores as Neo4j temporal types."""
    if isinstance(value, dict) and len(value) == 1:
        (tag, text), = value.items()
        if tag == "$datetime":
            return neo4j.time.DateTime.from_iso_format(text)
        if tag == "$date":
            return neo4j.time.Date.from_iso_format(text)
        if tag == "$time":
            return neo4j.time.Time.from_iso_format(text)
        if tag == "$duration":
            return neo4j.time.Duration.from_iso_format(text)
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value


def _plain(props: dict) -> dict:
    return {k: to_plain(v) for k, v in props.items()}


def _typed(props: dict) -> dict:
    return {k: from_plain(v) for k, v in props.items()}


def export(graph: Graph, on_node: Callable[[str, dict], None], on_relationship: Callable[[dict], None],
           on_event: Callable[[dict], None], on_start: Callable[[], None]) -> dict:
    """Stream the whole record, in one read transaction, to the callbacks; return its counts (see counts()).

    Args:
        graph: the database.
        on_node: called with (label, properties) for every node except events and migrations.
        on_relationship: called with {"type", "a", "b", "props"} (a/b: "Label|key") for every non-derived one.
        on_event: called with {"doc": dict, "context": JSON text or None, "provenance": dict} in record order.
        on_start: called when the transaction (re)starts: a retried transaction must not write twice.

    Raises:
        Unavailable: the database does not answer.
    """

    def work(tx: ManagedTransaction) -> dict:
        on_start()
        census = _counts(tx)
        # Every write appends to the audit trail, also while this transaction reads (it sees what others commit):
        # the backup holds the chain up to the head read here, so the copy's chain ends where its head says.
        head = tx.run(_AUDIT_HEAD).single()
        audit_seq = head["head"]["seq"] if head else 0
        if head:
            census["nodes"]["AuditEntry"] = audit_seq
        for label in NODE_KEYS:
            if label == "AuditHead":
                if head:
                    on_node(label, _plain(head["head"]))
                continue
            for record in tx.run("MATCH (n:$($label)) WHERE $label <> 'AuditEntry' OR n.seq <= $audit_seq "
                                 "RETURN n {.*} AS props ORDER BY n[$key]",
                                 label=label, key=NODE_KEYS[label], audit_seq=audit_seq):
                on_node(label, _plain(record["props"]))
        # The reference "Label|key" of a node, as mark_existing writes it: NODE_KEYS names each label's key.
        for record in tx.run(
            """
            MATCH (from)-[r]->(to) WHERE type(r) IN $types AND NOT from:Event AND NOT to:Event
            UNWIND [from, to] AS n
            WITH r, labels(n)[0] + '|' + toString(n[coalesce($keys[labels(n)[0]], 'key')]) AS ref
            WITH r, collect(ref) AS refs
            RETURN type(r) AS type, refs[0] AS a, refs[1] AS b, properties(r) AS props
            """,
            types=list(RELATIONSHIPS), keys=NODE_KEYS,
        ):
            on_relationship({"type": record["type"], "a": record["a"], "b": record["b"],
                             "props": _plain(record["props"])})
        for record in tx.run(
            """
            MATCH (e:Event)
            RETURN e.doc AS doc, e.error_declaration AS declaration, e.context AS context,
                   e {.capture_id, .recorded_by, .token_id, .record_time,
                   .hashed, .context, .declared_in, .declared_by, .error_declaration, .content_hash, .event_id,
                   declared_custody: CASE WHEN e.erroneous THEN e.custody END} AS provenance
            ORDER BY e.record_time, e.event_time, e.event_id
            """
        ):
            on_event({"doc": as_declared(record["doc"], record["declaration"]), "context": record["context"],
                      "provenance": _plain(record["provenance"])})
        return census

    return graph.read(work)


_AUDIT_HEAD: LiteralString = "MATCH (h:AuditHead {id: 'audit'}) RETURN h {.*} AS head"


def counts(graph: Graph) -> dict:
    """Count nodes by label and relationships by type (what a restore must reproduce).

    Raises:
        Unavailable: the database does not answer.
    """
    return graph.read(_counts)


def _counts(tx: ManagedTransaction) -> dict:
    nodes = tx.run("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label").data()
    # An empty HOLDS edge (0 held, 0 pending) is what reversing an erroneous event leaves behind: it says nothing,
    # and a replay of the declared event never makes one, so it is not counted. Capture rounds custody to 6 decimal
    # places; anything smaller is float residue of data stored before it did.
    rels = tx.run(
        """
        MATCH ()-[r]->()
        WHERE NOT (r:HOLDS AND abs(coalesce(r.quantity, 0)) < 0.000001 AND abs(coalesce(r.pending, 0)) < 0.000001)
        RETURN type(r) AS type, count(*) AS n ORDER BY type
        """
    ).data()
    return {"nodes": {r["label"]: r["n"] for r in nodes if r["label"] != "Migration"},
            "relationships": {r["type"]: r["n"] for r in rels}}


def assert_empty(graph: Graph) -> None:
    """Refuse to restore into a database that holds any record.

    Raises:
        Conflict: the database is not empty.
        Unavailable: the database does not answer.
    """
    found = graph.query("MATCH (n) WHERE NOT n:Migration RETURN labels(n)[0] AS label LIMIT 1", read=True)
    if found:
        raise Conflict(f"the database is not empty (it holds {found[0]['label']} nodes): restore only into an "
                       "empty one")


def prepare(graph: Graph) -> None:
    """Create the temporary index restores use to find relationship ends.

    Raises:
        Unavailable: the database does not answer.
    """
    graph.run_autocommit("CREATE INDEX restore_ref IF NOT EXISTS FOR (n:RestoreRef) ON (n.ref)")
    graph.run_autocommit("CALL db.awaitIndexes(300)")


def create_nodes(graph: Graph, label: str, rows: Iterable[dict]) -> int:
    """Create nodes of one label from backed-up properties (the database was empty of them).

    Raises:
        ValueError: a label outside the allow-list.
        Unavailable: the database does not answer.
    """
    key = _key_of(label)
    batch = [{"props": _typed(r), "ref": f"{label}|{r[key]}"} for r in rows]
    graph.query("UNWIND $rows AS r CREATE (n:$($label):RestoreRef) SET n = r.props, n.ref = r.ref",
                label=label, rows=batch)
    return len(batch)


def merge_nodes(graph: Graph, label: str, rows: Iterable[dict]) -> int:
    """Merge nodes the replay may have created already (by key), setting every backed-up property.

    Raises:
        ValueError: a label outside MERGED_AFTER_EVENTS.
        Unavailable: the database does not answer.
    """
    if label not in MERGED_AFTER_EVENTS:
        raise ValueError(f"{label} nodes are not merged by key")
    batch = [{"props": _typed(r), "ref": f"{label}|{r['key']}", "key": r["key"]} for r in rows]
    graph.query(_MERGE_BY_KEY[label], rows=batch)
    return len(batch)


# One literal statement per label: MERGE on a dynamic label would not use the key's uniqueness index.
_MERGE_BY_KEY = {
    "Location": "UNWIND $rows AS r MERGE (n:Location {key: r.key}) SET n += r.props, n:RestoreRef, n.ref = r.ref",
    "Lot": "UNWIND $rows AS r MERGE (n:Lot {key: r.key}) SET n += r.props, n:RestoreRef, n.ref = r.ref",
    "Item": "UNWIND $rows AS r MERGE (n:Item {key: r.key}) SET n += r.props, n:RestoreRef, n.ref = r.ref",
    "LogisticUnit": "UNWIND $rows AS r MERGE (n:LogisticUnit {key: r.key}) SET n += r.props, n:RestoreRef, "
                    "n.ref = r.ref",
    "OtherObject": "UNWIND $rows AS r MERGE (n:OtherObject {key: r.key}) SET n += r.props, n:RestoreRef, "
                   "n.ref = r.ref",
}


def mark_existing(graph: Graph) -> None:
    """Give the nodes the replay created without a backed-up row (none, normally) their reference too.

    Raises:
        Unavailable: the database does not answer.
    """
    graph.run_autocommit(
        """
        MATCH (n) WHERE NOT n:Event AND NOT n:Migration AND NOT n:RestoreRef
        CALL (n) {
          SET n:RestoreRef, n.ref = labels(n)[0] + '|' + toString(n[coalesce($keys[labels(n)[0]], 'key')])
        } IN TRANSACTIONS OF 5000 ROWS
        """,
        keys=NODE_KEYS,
    )


def restore_relationships(graph: Graph, rows: list[dict]) -> int:
    """Merge backed-up relationships between restored nodes; return how many rows were given.

    Raises:
        ValueError: a relationship type outside the allow-list.
        Unavailable: the database does not answer.
    """
    for row in rows:
        if row["type"] not in RELATIONSHIPS:
            raise ValueError(f"relationship type {row['type']!r} is not restorable")
        if row["type"] == "OF_LOT" and row["a"].startswith("Scan|"):  # a backup from before V0024
            row["type"] = "SCANNED"
    batch = [{"type": r["type"], "a": r["a"], "b": r["b"], "props": _typed(r["props"])} for r in rows]
    missing = graph.query(
        """
        UNWIND $rows AS r
        OPTIONAL MATCH (a:RestoreRef {ref: r.a})
        OPTIONAL MATCH (b:RestoreRef {ref: r.b})
        FOREACH (_ IN CASE WHEN a IS NOT NULL AND b IS NOT NULL THEN [1] ELSE [] END |
            MERGE (a)-[x:$(r.type)]->(b) SET x = r.props)
        WITH r WHERE a IS NULL OR b IS NULL
        RETURN r.type + ' ' + r.a + ' -> ' + r.b AS missing
        """,
        rows=batch,
    )
    if missing:
        raise Conflict(f"{len(missing)} relationships lost an end, e.g. {missing[0]['missing']}")
    return len(batch)


def restore_provenance(graph: Graph, rows: list[dict]) -> int:
    """Put back who captured each event and when (capture assigned the replay's own); return events updated.

    Args:
        graph: the database.
        rows: {"event_id", and any of PROVENANCE}: a key given as None removes the property, one left out stays.

    Raises:
        Unavailable: the database does not answer.
    """
    batch = []
    for r in rows:
        props = {k: from_plain(r[k]) for k in PROVENANCE if k in r}
        if r.get("declared_custody"):
            # What a since-declared event did to custody when it was captured (a replay of the declared event does
            # nothing): part of its history, kept as it was.
            props["custody"] = r["declared_custody"]
        batch.append({"event_id": r["event_id"], "props": props})
    found = graph.query(
        """
        UNWIND $rows AS r
        MATCH (e:Event {event_id: r.event_id})
        SET e += r.props
        RETURN count(e) AS n
        """,
        rows=batch,
    )
    return found[0]["n"]


def finish(graph: Graph) -> None:
    """Remove the temporary references and their index.

    Raises:
        Unavailable: the database does not answer.
    """
    graph.run_autocommit(
        "MATCH (n:RestoreRef) CALL (n) { REMOVE n:RestoreRef, n.ref } IN TRANSACTIONS OF 5000 ROWS"
    )
    graph.run_autocommit("DROP INDEX restore_ref IF EXISTS")


def _key_of(label: str) -> str:
    if label not in NODE_KEYS:
        raise ValueError(f"label {label!r} is not restorable")
    return NODE_KEYS[label]
