"""What the workbench's batch pages read and keep beside the events: a lot's origin record and shipment disputes.

A lot's origin record (plot, area, animals, quarantine certificate, the farm inputs used) is not stored here: it is
the ILMD of the lot's origin event (gs1/event_builders.origin_event), so it is hashed, exported and traced with
the event. This module only reads it back. A dispute is a small record of its own: it changes no custody (the
shipment stays pending until it is received or declared erroneous) and both parties see it.
"""

from __future__ import annotations

import json
import uuid
from typing import LiteralString
from urllib.parse import unquote

from graph.driver import Graph
from graph.errors import NotFound
from gs1.event_builders import FARM_INPUTS
from gs1.identifiers import lot_key

ANIMAL_PREFIX = "urn:tracegraph:animal:"
CERT_PREFIX = "urn:tracegraph:cert:"

ORIGIN: LiteralString = """
MATCH (l:Lot {key: $key})<-[:OBJECT|OUTPUT]-(e:Event)
WHERE e.biz_step IN ['commissioning', 'harvesting', 'slaughtering'] AND NOT coalesce(e.erroneous, false)
  AND (e.type = 'TransformationEvent' OR e.action = 'ADD')
RETURN e.doc AS doc ORDER BY e.event_time LIMIT 1
"""

DISPUTE: LiteralString = """
MATCH (l:Lot {key: $key})
MATCH (by:Party {gln: $by}), (src:Party {gln: $source})
CREATE (d:Dispute {dispute_id: $id, lot_key: $key, gtin: l.gtin, lot: l.lot, by_gln: $by, source_gln: $source,
                   quantity: $quantity, unit: $unit, reason: $reason, user: $user, created_at: datetime()})
CREATE (by)-[:RAISED]->(d)-[:ABOUT]->(l)
CREATE (d)-[:AGAINST]->(src)
RETURN d.dispute_id AS dispute_id
"""

DISPUTES: LiteralString = """
MATCH (d:Dispute)-[:ABOUT]->(l:Lot {key: $key})
WHERE $see_all OR d.by_gln = $gln OR d.source_gln = $gln
OPTIONAL MATCH (by:Party {gln: d.by_gln})
OPTIONAL MATCH (src:Party {gln: d.source_gln})
RETURN d {.dispute_id, .quantity, .unit, .reason, .created_at, .by_gln, .source_gln} AS dispute,
       by.name_zh AS by_zh, by.name_en AS by_en, src.name_zh AS source_zh, src.name_en AS source_en
ORDER BY d.created_at DESC LIMIT 50
"""

OPEN_DISPUTES: LiteralString = """
MATCH (d:Dispute) WHERE d.by_gln = $gln
RETURN d.gtin AS gtin, d.lot AS lot, d.source_gln AS source_gln
"""


def origin(graph: Graph, gtin: str, lot_number: str) -> dict:
    """Return a lot's origin record as its origin event keeps it (empty fields when there is none).

    Call it only for a lot the caller may see (graph/workbench.lot decides that).

    Args:
        graph: the database.
        gtin: the lot's GTIN.
        lot_number: its lot number.

    Returns:
        {"farm_inputs": [{kind, name, dose, applied, safety_days}], "animals": [ear tags],
         "certificate": quarantine certificate number or None, "plot": str or None, "area_mu": float or None}.
    """
    rows = graph.query(ORIGIN, read=True, key=lot_key(gtin, lot_number))
    return origin_record(json.loads(rows[0]["doc"]) if rows else {})


def origin_record(doc: dict) -> dict:
    """Return the origin record fields of an origin event document (pure)."""
    ilmd = doc.get("ilmd") or {}
    animals = [unquote(x[len(ANIMAL_PREFIX):]) for x in doc.get("inputEPCList") or []
               if isinstance(x, str) and x.startswith(ANIMAL_PREFIX)]
    cert = doc.get("certificationInfo")
    certificate = None
    if isinstance(cert, str) and cert.startswith(CERT_PREFIX):
        certificate = unquote(cert[len(CERT_PREFIX):].partition(":")[2])
    inputs = [x for x in ilmd.get(FARM_INPUTS) or [] if isinstance(x, dict)]
    return {"farm_inputs": inputs, "animals": animals, "certificate": certificate,
            "plot": ilmd.get("tracegraph:plot"), "area_mu": ilmd.get("tracegraph:areaMu")}


def dispute(graph: Graph, gtin: str, lot_number: str, by_gln: str, source_gln: str, quantity: float, unit: str,
            reason: str, user: str) -> str:
    """Record that a receiver disputes a shipment it was sent instead of confirming it (custody unchanged).

    Args:
        graph: the database.
        gtin: the shipped lot's GTIN.
        lot_number: its lot number.
        by_gln: the receiving party raising the dispute.
        source_gln: the shipping party.
        quantity: the quantity disputed (what is waiting to be confirmed).
        unit: its unit.
        reason: what is wrong, in the receiver's words.
        user: the principal recording it (kept on the record).

    Returns:
        The dispute's ID.

    Raises:
        NotFound: no such lot or party.
    """
    rows = graph.query(DISPUTE, key=lot_key(gtin, lot_number), by=by_gln, source=source_gln,
                       id="D" + uuid.uuid4().hex[:12].upper(), quantity=quantity, unit=unit, reason=reason,
                       user=user)
    if not rows:
        raise NotFound(f"no lot {lot_number} of GTIN {gtin}, or no such party", field="lot")
    return rows[0]["dispute_id"]


def disputes(graph: Graph, gtin: str, lot_number: str, gln: str | None, see_all: bool = False) -> list[dict]:
    """Return the disputes about a lot that this party raised or that were raised against it (all: see_all).

    Args:
        graph: the database.
        gtin: the lot's GTIN.
        lot_number: its lot number.
        gln: the acting party.
        see_all: a regulator or admin.
    """
    rows = graph.query(DISPUTES, read=True, key=lot_key(gtin, lot_number), gln=gln, see_all=see_all)
    out = []
    for r in rows:
        d = dict(r["dispute"])
        d["created_at"] = d["created_at"].to_native() if d["created_at"] is not None else None
        out.append({**d, "by_zh": r["by_zh"], "by_en": r["by_en"], "source_zh": r["source_zh"],
                    "source_en": r["source_en"]})
    return out


def disputed(graph: Graph, gln: str) -> set[tuple[str, str, str]]:
    """Return the (gtin, lot, source GLN) of the inbound shipments this party has disputed."""
    return {(r["gtin"], r["lot"], r["source_gln"]) for r in graph.query(OPEN_DISPUTES, read=True, gln=gln)}
