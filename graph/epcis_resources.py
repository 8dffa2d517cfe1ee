"""EPCIS REST binding resources beside the event query: named queries, and the lists of EPCs and places that the
top-level resources (/epcs, /bizLocations, /readPoints) page through.

A list is limited to what a party may read: its own places, and the objects its visible events name. Regulators
and admins (party None) see everything.
"""

from __future__ import annotations

import json
from typing import LiteralString

from graph.driver import Graph
from graph.errors import Conflict, Forbidden, NotFound
from gs1.identifiers import location_key

_CREATE_QUERY: LiteralString = """
OPTIONAL MATCH (old:NamedQuery {name: $name})
WITH old WHERE old IS NULL
CREATE (q:NamedQuery {name: $name, query: $query, extensions: $extensions, owner_party: $party,
                      created_by: $created_by, created_at: datetime()})
RETURN q.name AS name
"""

_LIST_QUERIES: LiteralString = """
MATCH (q:NamedQuery)
WHERE ($party IS NULL OR q.owner_party = $party) AND ($after IS NULL OR q.name > $after)
RETURN q.name AS name, q.query AS query, q.owner_party AS owner_party, toString(q.created_at) AS created_at
ORDER BY q.name
LIMIT $limit
"""

_GET_QUERY: LiteralString = """
MATCH (q:NamedQuery {name: $name})
RETURN q.name AS name, q.query AS query, q.owner_party AS owner_party, toString(q.created_at) AS created_at,
       q.extensions AS extensions
"""

_DELETE_QUERY: LiteralString = """
MATCH (q:NamedQuery {name: $name})
WHERE $party IS NULL OR q.owner_party = $party
OPTIONAL MATCH (q)-[:HAS_SUBSCRIPTION]->(s:Subscription)  // its subscriptions end with it (graph/subscriptions.py)
DETACH DELETE q, s
RETURN count(DISTINCT q) AS n
"""

# The objects visible events name: for a party, those of the events at its places or recorded by it (the same rule
# as the event query); the relationship types are fixed, the labels are those of graph-model.md.
_EPCS: LiteralString = """
CALL () {
    WITH 1 AS _ WHERE $party IS NULL
    MATCH (n) WHERE (n:Lot OR n:Item OR n:LogisticUnit OR n:OtherObject) AND ($after IS NULL OR n.key > $after)
      AND EXISTS { MATCH (:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n) }
    RETURN n.key AS key ORDER BY key LIMIT $limit
    UNION
    WITH 1 AS _ WHERE $party IS NOT NULL
    MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n)
    WHERE (n:Lot OR n:Item OR n:LogisticUnit OR n:OtherObject) AND ($after IS NULL OR n.key > $after)
      AND (e.recorded_by = $party OR e.read_point STARTS WITH $places OR e.biz_location STARTS WITH $places)
    RETURN DISTINCT n.key AS key ORDER BY key LIMIT $limit
}
RETURN key ORDER BY key LIMIT $limit
"""

_PLACES: LiteralString = """
MATCH (l:Location)
WHERE ($party IS NULL OR l.key = $places OR l.key STARTS WITH $places + ':') AND ($after IS NULL OR l.key > $after)
  AND CASE $edge WHEN 'READ_POINT' THEN EXISTS { (:Event)-[:READ_POINT]->(l) }
                 ELSE EXISTS { (:Event)-[:BIZ_LOCATION]->(l) } END
RETURN l.key AS key
ORDER BY key
LIMIT $limit
"""

PLACE_EDGES = {"readPoints": "READ_POINT", "bizLocations": "BIZ_LOCATION"}


def create_query(graph: Graph, name: str, query: dict, party: str | None, created_by: str | None,
                 extensions: dict[str, str] | None = None) -> str:
    """Store a named query (its SimpleEventQuery parameters, already validated).

    Args:
        graph: the database.
        name: the query's name, unique in the repository.
        query: parameter -> value, as the client sent it.
        party: the owning party (None for an admin's or regulator's query).
        created_by: the token or user that created it.
        extensions: the prefixes its creator declared (GS1-Extensions), for the CURIE field names it uses.

    Raises:
        Conflict: a query of this name exists.
    """
    rows = graph.query(_CREATE_QUERY, name=name, query=json.dumps(query, sort_keys=True), party=party,
                       created_by=created_by, extensions=json.dumps(extensions or {}, sort_keys=True))
    if not rows:
        raise Conflict(f"a query named {name} exists", field="name")
    return rows[0]["name"]


def list_queries(graph: Graph, party: str | None, limit: int, after: str | None = None) -> list[dict]:
    """Return up to ``limit`` named queries the party owns (all for None), by name, after a name.

    Args:
        graph: the database.
        party: the caller's party, or None for all.
        limit: the most to return.
        after: the last name of the previous page.
    """
    rows = graph.query(_LIST_QUERIES, read=True, party=party, limit=limit, after=after)
    return [{**r, "query": json.loads(r["query"])} for r in rows]


def get_query(graph: Graph, name: str, party: str | None) -> dict:
    """Return a named query.

    Raises:
        NotFound: no such query.
        Forbidden: another party's query (names are unique in the repository, so its existence is no secret).
    """
    rows = graph.query(_GET_QUERY, read=True, name=name)
    if not rows:
        raise NotFound(f"no query named {name}", field="queryName")
    if party is not None and rows[0]["owner_party"] != party:
        raise Forbidden(f"the query {name} belongs to another party", field="queryName")
    return {**rows[0], "query": json.loads(rows[0]["query"]),
            "extensions": json.loads(rows[0]["extensions"]) if rows[0]["extensions"] else {}}


def delete_query(graph: Graph, name: str, party: str | None) -> None:
    """Delete a named query.

    Raises:
        NotFound: no such query, or another party's.
    """
    if graph.query(_DELETE_QUERY, name=name, party=party)[0]["n"] == 0:
        raise NotFound(f"no query named {name}", field="queryName")


def epc_keys(graph: Graph, party: str | None, limit: int, after: str | None = None) -> list[str]:
    """Return up to ``limit`` keys of objects (lots, items, logistic units, others) named by events the party may
    read, in key order after a key.

    Args:
        graph: the database.
        party: the caller's party, or None for all.
        limit: the most to return.
        after: the last key of the previous page.
    """
    places = location_key(party) if party is not None else None
    return [r["key"] for r in graph.query(_EPCS, read=True, party=party, places=places, limit=limit, after=after)]


def place_keys(graph: Graph, resource: str, party: str | None, limit: int, after: str | None = None) -> list[str]:
    """Return up to ``limit`` location keys used as readPoint or bizLocation (``resource``) by events, limited to
    the party's own places, in key order after a key.

    Args:
        graph: the database.
        resource: ``readPoints`` or ``bizLocations`` (PLACE_EDGES).
        party: the caller's party, or None for all.
        limit: the most to return.
        after: the last key of the previous page.
    """
    places = location_key(party) if party is not None else None
    rows = graph.query(_PLACES, read=True, party=party, places=places, edge=PLACE_EDGES[resource], limit=limit,
                       after=after)
    return [r["key"] for r in rows]
