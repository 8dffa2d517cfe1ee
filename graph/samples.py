"""Start points for load generators and benchmarks, drawn from whatever the database holds."""

from __future__ import annotations

from typing import LiteralString

from graph.driver import Graph


def sample_codes(graph: Graph, limit: int = 200) -> list[dict]:
    """Return scannable codes from the database (lots, and items where there are any), for load generators.

    Args:
        graph: the database.
        limit: most codes of each kind.

    Raises:
        Unavailable: the database does not answer.
    """
    return graph.query(
        """
        CALL () {
            MATCH (l:Lot) WHERE l.gtin IS NOT NULL AND l.lot IS NOT NULL
            RETURN l.gtin AS gtin, l.lot AS lot, null AS serial LIMIT $limit
            UNION ALL
            MATCH (l:Lot)-[:HAS_ITEM]->(i:Item)
            RETURN i.gtin AS gtin, l.lot AS lot, i.serial AS serial LIMIT $limit
        }
        RETURN gtin, lot, serial
        """,
        read=True,
        limit=limit,
    )


# Start objects for benchmarks: retail packs (downstream ends: items and lots nothing was made from) and origin
# lots (upstream ends that fed something). One label scan each, thinned at random.
SAMPLES: dict[str, LiteralString] = {
    "retail": """
        MATCH (n:Item)
        WHERE rand() < $p AND EXISTS { (n)<-[:TRANSFORMED_INTO|HAS_ITEM]-() }
          AND NOT EXISTS { (n)-[:TRANSFORMED_INTO]->() }
        RETURN n.key AS key LIMIT $k
    """,
    "retail_lot": """
        MATCH (n:Lot)
        WHERE rand() < $p AND EXISTS { (n)<-[:TRANSFORMED_INTO]-() }
          AND NOT EXISTS { (n)-[:TRANSFORMED_INTO|PACKED_IN]->() }
        RETURN n.key AS key LIMIT $k
    """,
    "origin": """
        MATCH (n:Lot)
        WHERE rand() < $p AND NOT EXISTS { (n)<-[:TRANSFORMED_INTO|PACKED_IN]-() }
          AND EXISTS { (n)-[:TRANSFORMED_INTO]->() }
        RETURN n.key AS key LIMIT $k
    """,
}
COUNTS: dict[str, LiteralString] = {
    "retail": "MATCH (n:Item) RETURN count(n) AS n",
    "retail_lot": "MATCH (n:Lot) RETURN count(n) AS n",
    "origin": "MATCH (n:Lot) RETURN count(n) AS n",
}


def sample_starts(graph: Graph, which: str, k: int) -> list[str]:
    """Return up to k random start keys of one kind ('retail' items, 'retail_lot', 'origin' lots) for benchmarks.

    Raises:
        KeyError: an unknown kind.
        Unavailable: the database does not answer.
    """
    total = graph.query(COUNTS[which], read=True)[0]["n"] or 1
    p = min(1.0, 20.0 * k / total)
    return [r["key"] for r in graph.query(SAMPLES[which], read=True, p=p, k=k)]
