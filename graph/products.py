"""Products (trade items) keyed by GTIN-14, owned by a brand-owner party."""

from __future__ import annotations

from graph.driver import Graph
from graph.errors import NotFound

PRODUCT_FIELDS = ("gtin", "name_zh", "name_en", "category", "standard", "unit", "owner_gln", "variety")
# The optional storage conditions ({min_c, max_c, note}) are kept as flat properties of the Product node.
STORAGE_FIELDS = {"min_c": "storage_min_c", "max_c": "storage_max_c", "note": "storage_note"}


def node_props(product: dict) -> dict:
    """Return a product's Product-node properties: its fields, with its storage conditions flattened."""
    props = {k: product.get(k) for k in PRODUCT_FIELDS}
    storage = product.get("storage") or {}
    props.update({prop: storage.get(k) for k, prop in STORAGE_FIELDS.items()})
    return props


def storage_of(props: dict) -> dict | None:
    """Return the storage conditions ({min_c, max_c, note}) kept on a Product node, or None when none are."""
    storage = {k: props.get(prop) for k, prop in STORAGE_FIELDS.items()}
    return storage if any(v is not None for v in storage.values()) else None


def create(graph: Graph, product: dict) -> dict:
    """Create a product owned by an existing party.

    Raises:
        NotFound: the owner party does not exist.
        Conflict: a product with this GTIN exists.
    """
    props = node_props(product)
    rows = graph.query(
        """
        OPTIONAL MATCH (o:Party {gln: $props.owner_gln})
        FOREACH (_ IN CASE WHEN o IS NULL THEN [] ELSE [1] END |
            CREATE (p:Product) SET p = $props, p.created_at = datetime()
            CREATE (p)-[:OWNED_BY]->(o))
        WITH o
        OPTIONAL MATCH (p:Product {gtin: $props.gtin})
        RETURN o IS NOT NULL AS owner_found, p {.*} AS product
        """,
        props=props,
    )
    if not rows[0]["owner_found"]:
        raise NotFound(f"no party with GLN {props['owner_gln']}", field="owner_gln")
    return _clean(rows[0]["product"])


def upsert_many(graph: Graph, products: list[dict]) -> int:
    """Create or update products in one round trip; their owners must exist."""
    rows = graph.query(
        """
        UNWIND $rows AS row
        MATCH (o:Party {gln: row.owner_gln})
        MERGE (p:Product {gtin: row.gtin})
        ON CREATE SET p.created_at = datetime()
        SET p += row
        MERGE (p)-[:OWNED_BY]->(o)
        RETURN count(p) AS n
        """,
        rows=[{k: v for k, v in node_props(p).items() if v is not None} for p in products],
    )
    return rows[0]["n"]


def get(graph: Graph, gtin: str) -> dict:
    """Return one product.

    Raises:
        NotFound: no product has this GTIN.
    """
    rows = graph.query("MATCH (p:Product {gtin: $gtin}) RETURN p {.*} AS product", read=True, gtin=gtin)
    if not rows:
        raise NotFound(f"no product with GTIN {gtin}", field="gtin")
    return _clean(rows[0]["product"])


def set_facts(graph: Graph, gtin: str, facts: dict) -> dict:
    """Set a product's facts for shoppers (storage conditions, variety); keys left out of ``facts`` stay as they are,
    a None clears them.

    Raises:
        NotFound: no product has this GTIN.
    """
    props = {}
    if "storage" in facts:
        props.update({prop: (facts["storage"] or {}).get(k) for k, prop in STORAGE_FIELDS.items()})
    if "variety" in facts:
        props["variety"] = facts["variety"]
    rows = graph.query("MATCH (p:Product {gtin: $gtin}) SET p += $props RETURN p {.*} AS product",
                       gtin=gtin, props=props)
    if not rows:
        raise NotFound(f"no product with GTIN {gtin}", field="gtin")
    return _clean(rows[0]["product"])


def set_licensees(graph: Graph, gtin: str, glns: list[str]) -> dict:
    """Replace the parties the brand owner authorises to make lots of its product (commission, harvest, output).

    Args:
        graph: the database.
        gtin: the product.
        glns: registered parties (the owner need not be named: it may always).

    Returns:
        The product with its licensees.

    Raises:
        NotFound: no such product, or a GLN that is not a registered party.
    """
    wanted = sorted(set(glns))
    rows = graph.query(
        """
        OPTIONAL MATCH (p:Product {gtin: $gtin})
        CALL (p) {
            UNWIND $glns AS g
            OPTIONAL MATCH (q:Party {gln: g})
            RETURN collect(CASE WHEN q IS NULL THEN g END) AS missing
        }
        FOREACH (_ IN CASE WHEN p IS NOT NULL AND missing = [] THEN [1] ELSE [] END | SET p.licensees = $glns)
        RETURN p IS NOT NULL AS found, missing, p {.*} AS product
        """,
        gtin=gtin, glns=wanted,
    )
    row = rows[0]
    if not row["found"]:
        raise NotFound(f"no product with GTIN {gtin}", field="gtin")
    if row["missing"]:
        raise NotFound(f"no party with GLN {row['missing'][0]}", field="glns")
    return {**_clean(row["product"]), "licensees": list(row["product"].get("licensees") or [])}


def _clean(props: dict) -> dict:
    out = {k: props.get(k) for k in PRODUCT_FIELDS}
    out["storage"] = storage_of(props)
    created = props.get("created_at")
    out["created_at"] = created.iso_format() if created is not None else None
    return out
