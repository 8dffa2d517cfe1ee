"""Bulk loading for imports and benchmarks: master data, quality records and events in large batches.

Events go through graph/events.py's write path (one transaction per batch), so a bulk load builds exactly the
graph that POST /epcis/capture builds; only the batch size and the HTTP round trip differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, LiteralString

from graph import events, parties, products
from graph.alert_rules import failed_hazards
from graph.driver import Graph
from graph.supervision_rules import classify
from gs1.epcis import context_prefixes, normalize_event
from gs1.event_hash import event_hash
from gs1.identifiers import key_prefix, lot_key

BATCH = 5000


def _chunks(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def load_master(graph: Graph, master: dict) -> dict:
    """Upsert parties, then products, then certificates (each in batches); return how many of each.

    Args:
        graph: the database.
        master: {"parties": [...], "products": [...], "certificates": [...]} as scripts/generate.py writes it.
    """
    counts = {"parties": 0, "products": 0, "certificates": 0}
    for batch in _chunks(master.get("parties", []), BATCH):
        counts["parties"] += parties.upsert_many(graph, batch)
    for batch in _chunks(master.get("products", []), BATCH):
        counts["products"] += products.upsert_many(graph, batch)
    for batch in _chunks(master.get("certificates", []), BATCH):
        counts["certificates"] += upsert_certificates(graph, batch)
    return counts


_INSPECTION_FACTS: LiteralString = """
UNWIND $keys AS k
MATCH (l:Lot {key: k})
OPTIONAL MATCH (p:Product {gtin: l.gtin})
OPTIONAL MATCH (o:Party {gln: l.owner_gln})
RETURN k AS key, p.category AS category, l.owner_gln AS owner_gln, o.region_code AS owner_region
"""


def upsert_inspections(graph: Graph, rows: list[dict]) -> int:
    """Create or update inspections with their lab and lot edges (the lot and lab must exist); return how many.

    Args:
        graph: the database.
        rows: {lab_gln, report_no, sample_id, date (ISO), standard, verdict, results (list), gtin, lot}, and
            optionally programme, sampling_body, hazard, region_code (graph/supervision_rules.classify: the
            product's category and, without a region, the lot owner's are read here as record_inspection reads
            them).
    """
    params = inspection_params(rows)
    facts = {row["key"]: row for row in graph.query(_INSPECTION_FACTS, read=True, keys=[p["lot_key"] for p in params])}
    classify_params(params, facts)
    result = graph.query(
        """
        UNWIND $rows AS row
        MERGE (i:Inspection {key: row.key})
        SET i += row.props, i.date = date(row.date)
        WITH i, row
        OPTIONAL MATCH (lot:Lot {key: row.lot_key})
        OPTIONAL MATCH (lab:Party {gln: row.lab_gln})
        FOREACH (_ IN CASE WHEN lot IS NULL THEN [] ELSE [1] END | MERGE (i)-[:OF_LOT]->(lot))
        FOREACH (_ IN CASE WHEN lab IS NULL THEN [] ELSE [1] END | MERGE (lab)-[:PERFORMED]->(i))
        RETURN count(i) AS n
        """,
        rows=params,
    )
    return result[0]["n"]


def inspection_params(rows: list[dict]) -> list[dict]:
    """The rows upsert_inspections writes, before classification (graph/history_import.py builds the same)."""
    return [{"key": f"{r['lab_gln']}:{r['report_no']}", "lab_gln": r["lab_gln"],
            "lot_key": lot_key(r["gtin"], r["lot"]),
            "props": {"key": f"{r['lab_gln']}:{r['report_no']}", "report_no": r["report_no"],
                      "sample_id": r.get("sample_id"), "standard": r.get("standard"), "verdict": r["verdict"],
                      "results": json.dumps(r.get("results") or [], ensure_ascii=False), "lab_gln": r["lab_gln"],
                      "failed_hazards": failed_hazards(r.get("results") or [], r.get("hazard"))
                      if r["verdict"] == "fail" else []},
            "request": {k: r.get(k) for k in ("programme", "sampling_body", "hazard", "region_code")},
            "date": r["date"]} for r in rows]


def classify_params(params: list[dict], facts: dict[str, dict]) -> None:
    """Classify each row (graph/supervision_rules.classify) by the facts read of its lot (_INSPECTION_FACTS: the
    product's category, the lot owner and the owner's region), in place."""
    for p in params:
        f = facts.get(p["lot_key"]) or {}
        classified = classify(p.pop("request"), f)
        p["props"].update({k: v for k, v in classified.items() if v is not None})


def upsert_certificates(graph: Graph, rows: list[dict]) -> int:
    """Create or update certificates and what each certifies (a party, a product or a lot); return how many.

    Args:
        graph: the database.
        rows: {type, number, issuer_gln, name_zh, party_gln | gtin [+ lot], valid_from, valid_until}.
    """
    params = [{"key": f"{r['issuer_gln']}:{r['number']}", "party_gln": r.get("party_gln"), "gtin": r.get("gtin"),
               "lot_key": lot_key(r["gtin"], r["lot"]) if r.get("gtin") and r.get("lot") else None,
               "props": {"key": f"{r['issuer_gln']}:{r['number']}", "type": r["type"], "number": r["number"],
                         "issuer": r["issuer_gln"], "name_zh": r.get("name_zh")},
               "valid_from": r.get("valid_from"), "valid_until": r.get("valid_until")} for r in rows]
    result = graph.query(
        """
        UNWIND $rows AS row
        MERGE (c:Certificate {key: row.key})
        SET c += row.props, c.valid_from = date(row.valid_from), c.valid_until = date(row.valid_until)
        WITH c, row
        OPTIONAL MATCH (p:Party {gln: row.party_gln})
        OPTIONAL MATCH (prod:Product {gtin: row.gtin}) WHERE row.lot_key IS NULL
        OPTIONAL MATCH (lot:Lot {key: row.lot_key})
        WITH c, coalesce(lot, prod, p) AS target
        FOREACH (_ IN CASE WHEN target IS NULL THEN [] ELSE [1] END | MERGE (c)-[:CERTIFIES]->(target))
        RETURN count(c) AS n
        """,
        rows=params,
    )
    return result[0]["n"]


def normalize_document(doc: dict[str, Any]) -> list[tuple[int, Any]]:
    """Normalise a document's events and give each its CBV 2.0 hash as eventID when it has none."""
    prefixes = context_prefixes(doc.get("@context"))
    out = []
    for i, raw in enumerate(doc["epcisBody"]["eventList"]):
        ev = normalize_event(raw, f"epcisBody.eventList[{i}]", prefixes)
        if ev.event_id is None:
            ev.event_id = event_hash(raw, prefixes)
        out.append((i, ev))
    return out


def capture_events(graph: Graph, doc: dict[str, Any], policy: events.Policy | None = None) -> events.CaptureJob:
    """Write one EPCIS document's events through the capture write path as an admin import; return the job.

    Raises:
        Forbidden: an event is outside what the policy may record.
        Unavailable: the database does not answer.
    """
    normalised = normalize_document(doc)
    job = events.CaptureJob(events.new_capture_id(), event_count=len(normalised))
    events.capture(graph, normalised, policy or events.Policy(), job, record=True, context=doc.get("@context"))
    return job


# --- what a load built: used to prove two load paths agree -------------------------------------------------------

# The nodes of one company-prefix namespace ($prefix, $loc and $item as census passes them), as UNION branches.
NAMESPACE_NODES: LiteralString = """
    MATCH (n:Party) WHERE n.gln STARTS WITH $prefix RETURN n
    UNION MATCH (n:Location) WHERE n.key STARTS WITH $loc + $prefix RETURN n
    UNION MATCH (n:Product) WHERE n.gtin STARTS WITH '0' + $prefix RETURN n
    UNION MATCH (n:Lot) WHERE n.gtin STARTS WITH '0' + $prefix RETURN n
    UNION MATCH (n:Item) WHERE n.key STARTS WITH $item + '0' + $prefix RETURN n
    UNION MATCH (n:LogisticUnit) WHERE substring(n.sscc, 1) STARTS WITH $prefix RETURN n
    UNION MATCH (n:Inspection) WHERE n.key STARTS WITH $prefix RETURN n
    UNION MATCH (n:Certificate) WHERE n.key STARTS WITH $prefix RETURN n
    UNION MATCH (n:Event)-[:READ_POINT]->(l:Location) WHERE l.key STARTS WITH $loc + $prefix RETURN n
"""

_CENSUS: LiteralString = "CALL () {" + NAMESPACE_NODES + """}
WITH labels(n)[0] AS label, collect(n) AS ns
CALL (ns) {
    UNWIND ns AS n
    MATCH (n)-[r]->()
    WITH type(r) AS rel, count(r) AS k, sum(coalesce(r.quantity, 0) + coalesce(r.pending, 0)) AS q
    RETURN collect({rel: rel, k: k, q: q}) AS rels
}
RETURN label, size(ns) AS nodes, rels
"""

_CLOSURE: LiteralString = """
MATCH (s:Lot {key: $key})
CALL (s) {
    MATCH (s)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d) RETURN collect(DISTINCT d.key) AS forward
}
CALL (s) {
    MATCH (s)<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]-(u) RETURN collect(DISTINCT u.key) AS back
}
RETURN forward, back
"""


def census(graph: Graph, prefix: str) -> dict:
    """Count the nodes by label and the outgoing relationships by type of one company-prefix namespace.

    Args:
        graph: the database.
        prefix: the leading digits every GLN of the namespace shares (``69`` + 3 digits for generated data).

    Returns:
        {"nodes": {label: n}, "rels": {"Label-TYPE": n}, "quantity": {"Label-TYPE": sum of quantity and pending}}.
    """
    nodes: dict[str, int] = {}
    rels: dict[str, int] = {}
    quantity: dict[str, float] = {}
    for row in graph.query(_CENSUS, read=True, prefix=prefix, loc=key_prefix("location"),
                           item=key_prefix("item")):
        nodes[row["label"]] = row["nodes"]
        for r in row["rels"]:
            name = f"{row['label']}-{r['rel']}"
            rels[name] = r["k"]
            if r["q"]:
                quantity[name] = round(r["q"], 3)
    return {"nodes": nodes, "rels": rels, "quantity": quantity}


def closure(graph: Graph, lot_key: str) -> dict:
    """Return the keys of everything downstream (forward) and upstream (back) of a lot by the lineage edges."""
    rows = graph.query(_CLOSURE, read=True, key=lot_key)
    return rows[0] if rows else {"forward": [], "back": []}
