"""A read-only snapshot of part of the graph, so a test can prove a refused write left it as it was.

The scope is a set of named nodes (lots, items, logistic units, parties, products, events, recalls) and every
relationship touching them: an Event's OBJECT edge, a HOLDS edge with its quantity and pending, a lineage edge
(TRANSFORMED_INTO, PACKED_IN, HAS_ITEM), a recall's AFFECTS, a token's ACTS_FOR. Each node answers its labels,
its properties and those edges with the far node's business key and the edge's properties; a node that does not
exist answers nothing, so a refused write that would have created it shows as a difference too.

The whole graph's counts come from Neo4j's count store (cheap at any size), but other tests writing their own
data at the same time change them: callers ask for them only when nothing else writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

from graph.driver import Graph, tx_rows

# The far end of an edge is named by its business key; elementId for nodes without one (locations have a key).
_SCOPE: LiteralString = """
CALL () {
    UNWIND $lots AS k MATCH (n:Lot {key: k}) RETURN n
    UNION
    UNWIND $items AS k MATCH (n:Item {key: k}) RETURN n
    UNION
    UNWIND $units AS k MATCH (n:LogisticUnit {key: k}) RETURN n
    UNION
    UNWIND $others AS k MATCH (n:OtherObject {key: k}) RETURN n
    UNION
    UNWIND $parties AS k MATCH (n:Party {gln: k}) RETURN n
    UNION
    UNWIND $products AS k MATCH (n:Product {gtin: k}) RETURN n
    UNION
    UNWIND $events AS k MATCH (n:Event {event_id: k}) RETURN n
    UNION
    UNWIND $recalls AS k MATCH (n:Recall {recall_id: k}) RETURN n
}
CALL (n) {
    OPTIONAL MATCH (n)-[r]-(m)
    WITH r, m WHERE r IS NOT NULL
    RETURN collect([type(r), startNode(r) = n, labels(m),
                    coalesce(m.key, m.gln, m.gtin, m.event_id, m.recall_id, m.token_id, m.ack_id, m.run_id,
                             m.scan_id, m.capture_id, elementId(m)),
                    properties(r)]) AS rels
}
RETURN labels(n) AS labels, coalesce(n.key, n.gln, n.gtin, n.event_id, n.recall_id) AS id,
       properties(n) AS props, rels
"""

_COUNTS: LiteralString = """
CALL db.stats.retrieve('GRAPH COUNTS') YIELD data
RETURN [x IN data.nodes WHERE x.label IS NOT NULL | [x.label, x.count]] AS nodes,
       [x IN data.relationships WHERE x.relationshipType IS NOT NULL AND x.startLabel IS NULL
                                  AND x.endLabel IS NULL | [x.relationshipType, x.count]] AS rels
"""


def snapshot(
    graph: Graph,
    lots: Sequence[str] = (),
    items: Sequence[str] = (),
    units: Sequence[str] = (),
    others: Sequence[str] = (),
    parties: Sequence[str] = (),
    products: Sequence[str] = (),
    events: Sequence[str] = (),
    recalls: Sequence[str] = (),
    global_counts: bool = False,
) -> dict[str, Any]:
    """Read the named nodes with their incident edges (and optionally the whole graph's counts) in one transaction.

    Args:
        graph: the database.
        lots: Lot keys (`lot:{gtin}:{lot}`); items, units, others: Item, LogisticUnit, OtherObject keys.
        parties: GLNs; products: GTINs; events: eventIDs; recalls: recall IDs.
        global_counts: also read the count of nodes per label and of relationships per type.

    Returns:
        {"nodes": [{"labels", "id", "props", "rels"}], "counts": {"nodes": {label: n}, "rels": {type: n}} or None};
        property values are the driver's (neo4j.time types for dates and times).

    Raises:
        Unavailable: the database does not answer.
    """
    params = {"lots": list(lots), "items": list(items), "units": list(units), "others": list(others),
              "parties": list(parties), "products": list(products), "events": list(events),
              "recalls": list(recalls)}

    def work(tx):
        nodes = tx_rows(tx, _SCOPE, **params)
        counts = None
        if global_counts:
            row = tx_rows(tx, _COUNTS)[0]
            counts = {"nodes": dict(row["nodes"]), "rels": dict(row["rels"])}
        return {"nodes": nodes, "counts": counts}

    return graph.read(work)
