"""Lineage closures alone (no events, parties or documents): what a recursive SQL query answers, for comparisons.

The product's trace (graph/trace.py) and recall (graph/recalls.py) walk the same derived lineage edges and then
gather events, holders and parties; these two queries stop at the walk, so scripts/bench_pg.py can time Neo4j on
exactly the question it asks PostgreSQL. Both are one round trip and read-only.
"""

from __future__ import annotations

from typing import LiteralString

from graph.driver import Graph

_START: LiteralString = """
OPTIONAL MATCH (l:Lot {key: $key})
OPTIONAL MATCH (i:Item {key: $key})
OPTIONAL MATCH (u:LogisticUnit {key: $key})
WITH coalesce(l, i, u) AS s
WHERE s IS NOT NULL
"""

CLOSURE: dict[str, LiteralString] = {
    "back": _START + """
        MATCH (s)<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]-(d)
        RETURN collect(DISTINCT d.key) AS keys
    """,
    "forward": _START + """
        MATCH (s)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d)
        RETURN collect(DISTINCT d.key) AS keys
    """,
}

# Everything downstream of a lot and who holds each piece now (in transit to it included), as a recall needs it.
REACH: LiteralString = """
MATCH (s:Lot {key: $key})
MATCH (s)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d)
WITH collect(DISTINCT d) AS ns
CALL (ns) {
    UNWIND ns AS n
    MATCH (p:Party)-[h:HOLDS]->(n)
    WHERE h.quantity > 0
    RETURN collect([p.gln, n.key]) AS holders
}
RETURN [n IN ns | n.key] AS keys, holders
"""


def closure(graph: Graph, key: str, direction: str) -> list[str]:
    """Return the keys of every lot, item and logistic unit reachable from one object, itself included.

    Args:
        graph: the database.
        key: the start's business key (`lot:...`, `item:...`, `sscc:...`).
        direction: `back` (upstream: what it was made from) or `forward` (what was made from it).

    Raises:
        KeyError: an unknown direction.
        Unavailable: the database does not answer.
    """
    rows = graph.query(CLOSURE[direction], read=True, key=key)
    return rows[0]["keys"] if rows else []


def reach(graph: Graph, lot_key: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Return (every object downstream of a lot, itself included; (holder GLN, object key) of what is held now).

    Raises:
        Unavailable: the database does not answer.
    """
    rows = graph.query(REACH, read=True, key=lot_key)
    if not rows:
        return [], []
    return rows[0]["keys"], [(gln, key) for gln, key in rows[0]["holders"]]
