"""Start points for load generators and benchmarks, drawn from whatever the database holds."""

from __future__ import annotations

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
