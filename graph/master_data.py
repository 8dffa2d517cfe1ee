"""EPCIS master data (vocabulary elements) captured from document headers, and read back for query answers."""

from __future__ import annotations

import json
from typing import LiteralString

from graph.driver import Graph
from gs1.master_data import Element

_OWNERS: LiteralString = """
UNWIND $gtins AS g
MATCH (p:Product {gtin: g})
RETURN p.gtin AS gtin, p.owner_gln AS owner
"""

# The latest description of an element replaces the earlier one (EPCIS master data describes the current state).
_STORE: LiteralString = """
UNWIND $rows AS row
MERGE (m:MasterData {uid: row.uid})
ON CREATE SET m.created_at = datetime()
SET m.vtype = row.vtype, m.id = row.id, m.key = row.key, m.attributes = row.attributes, m.children = row.children,
    m.child_keys = row.child_keys, m.updated_by = $party, m.updated_at = datetime()
RETURN count(m) AS n
"""

_READ: LiteralString = """
UNWIND $keys AS k
MATCH (m:MasterData {key: k})
RETURN m.vtype AS vtype, m.id AS id, m.key AS key, m.attributes AS attributes, m.children AS children
ORDER BY m.vtype, m.id
"""


def product_owners(graph: Graph, gtins: list[str]) -> dict[str, str | None]:
    """Return GTIN -> brand owner GLN for the registered products among these GTINs.

    Args:
        graph: the database.
        gtins: the GTINs.
    """
    if not gtins:
        return {}
    return {r["gtin"]: r["owner"] for r in graph.query(_OWNERS, read=True, gtins=sorted(set(gtins)))}


def store(graph: Graph, elements: list[Element], party: str | None) -> int:
    """Create or replace vocabulary elements (one round trip); returns how many were written.

    Args:
        graph: the database.
        elements: parsed and authorised elements (gs1.master_data).
        party: who described them (None: an admin).
    """
    if not elements:
        return 0
    rows = [{"uid": f"{e.vtype} {e.id}", "vtype": e.vtype, "id": e.id, "key": e.key,
             "attributes": json.dumps([[a, v] for a, v in e.attributes], ensure_ascii=False),
             "children": list(e.children), "child_keys": list(e.child_keys)} for e in elements]
    return graph.query(_STORE, rows=rows, party=party)[0]["n"]


_CHILDREN: LiteralString = """
UNWIND $keys AS k
MATCH (m:MasterData {key: k})
UNWIND coalesce(m.child_keys, []) AS c
RETURN DISTINCT c AS key
"""
MAX_DESCENDANTS = 1000
MAX_DEPTH = 8


def descendants(graph: Graph, keys: list[str]) -> list[str]:
    """Return the keys and every descendant the captured master data names as their children (depth and count
    bounded: MAX_DEPTH levels, MAX_DESCENDANTS keys).

    Args:
        graph: the database.
        keys: place keys (WD_readPoint, WD_bizLocation).
    """
    found = list(dict.fromkeys(keys))
    frontier = found
    for _ in range(MAX_DEPTH):
        if not frontier or len(found) >= MAX_DESCENDANTS:
            break
        children = [r["key"] for r in graph.query(_CHILDREN, read=True, keys=frontier)]
        frontier = [c for c in children if c not in found][: MAX_DESCENDANTS - len(found)]
        found += frontier
    return found


def vocabularies_for(graph: Graph, keys: list[str]) -> list[dict]:
    """Return the vocabularies (EPCIS epcisMasterData.vocabularyList) describing these business keys.

    Args:
        graph: the database.
        keys: business keys of places and classes an answer names.
    """
    if not keys:
        return []
    by_type: dict[str, list[dict]] = {}
    for r in graph.query(_READ, read=True, keys=sorted(set(keys))):
        element = Element(r["vtype"], r["id"], r["key"], tuple(tuple(a) for a in json.loads(r["attributes"])),
                          tuple(r["children"] or ()))
        by_type.setdefault(r["vtype"], []).append(element.as_vocabulary_element())
    return [{"type": t, "vocabularyElementList": elements} for t, elements in by_type.items()]
