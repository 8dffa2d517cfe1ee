"""Parties (farms, processors, distributors, retailers, labs, regulators) keyed by GLN."""

from __future__ import annotations

from graph.driver import Graph
from graph.errors import NotFound

PARTY_FIELDS = (
    "gln", "name_zh", "name_en", "roles", "region_code", "region_zh", "region_en", "address_zh", "uscc",
    "contact_name", "contact_phone", "contact_email", "company_prefixes",
)


def create(graph: Graph, party: dict) -> dict:
    """Create a party.

    Args:
        graph: the database.
        party: validated fields (see PARTY_FIELDS); missing optional fields are stored as null.

    Raises:
        Conflict: a party with this GLN exists.
    """
    props = {k: party.get(k) for k in PARTY_FIELDS}
    rows = graph.query(
        "CREATE (p:Party) SET p = $props, p.created_at = datetime() RETURN p {.*} AS party",
        props=props,
    )
    return _clean(rows[0]["party"])


def upsert_many(graph: Graph, parties: list[dict]) -> int:
    """Create or update parties in one round trip (demo loading, imports); returns how many were written."""
    rows = graph.query(
        """
        UNWIND $rows AS row
        MERGE (p:Party {gln: row.gln})
        ON CREATE SET p.created_at = datetime()
        SET p += row
        RETURN count(p) AS n
        """,
        rows=[{k: p.get(k) for k in PARTY_FIELDS if p.get(k) is not None} for p in parties],
    )
    return rows[0]["n"]


def get(graph: Graph, gln: str) -> dict:
    """Return one party.

    Raises:
        NotFound: no party has this GLN.
    """
    rows = graph.query("MATCH (p:Party {gln: $gln}) RETURN p {.*} AS party", read=True, gln=gln)
    if not rows:
        raise NotFound(f"no party with GLN {gln}", field="gln")
    return _clean(rows[0]["party"])


def _clean(props: dict) -> dict:
    """Drop internal properties and turn Neo4j temporal values into ISO strings."""
    out = {k: props.get(k) for k in PARTY_FIELDS}
    created = props.get("created_at")
    out["created_at"] = created.iso_format() if created is not None else None
    return out
