"""What the producers' workbench pages read: one round trip per page, scoped to the user's own party.

Every function takes the acting party's GLN and returns only what that party may see (docs/ownership.md "Reads"):
its own holdings, shipments addressed to it, its own lots' warnings. A lot is shown to its owner, to a party that
holds or held it, and to regulators and admins (``see_all``); to anyone else it does not exist.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import LiteralString

from graph.batches import origin_record
from graph.driver import Graph
from gs1.identifiers import location_key, lot_key

# Lots a party holds (or held: the HOLDS edge stays at 0), held ones first; inbound = shipped to it, not received.
HOME: LiteralString = """
MATCH (me:Party {gln: $gln})
CALL (me) {
    MATCH (me)-[h:HOLDS]->(l:Lot)
    OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
    WITH l, h, p ORDER BY h.quantity - coalesce(h.pending, 0) > 0 DESC, l.production_date DESC, l.lot LIMIT $limit
    RETURN collect({gtin: l.gtin, lot: l.lot, status: l.status, owner_gln: l.owner_gln,
                    production_date: toString(l.production_date), expiry_date: toString(l.expiry_date),
                    quantity: h.quantity, pending: coalesce(h.pending, 0), unit: coalesce(h.unit, l.unit),
                    name_zh: p.name_zh, name_en: p.name_en}) AS lots
}
CALL (me) {
    MATCH (me)-[h:HOLDS]->(l:Lot) WHERE h.pending > 0
    OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
    CALL (me, l) {
        MATCH (l)<-[:OBJECT]-(e:Event {biz_step: 'shipping'})-[:SOURCE]->(src:Party)
        WHERE NOT coalesce(e.erroneous, false)
          AND (EXISTS { (e)-[:DESTINATION]->(me) } OR EXISTS { (e)-[:DESTINATION]->(:Location)-[:OF_PARTY]->(me) })
        RETURN src, e ORDER BY e.event_time DESC LIMIT 1
    }
    RETURN collect({gtin: l.gtin, lot: l.lot, quantity: h.pending, unit: coalesce(h.unit, l.unit),
                    name_zh: p.name_zh, name_en: p.name_en, source_gln: src.gln, source_zh: src.name_zh,
                    source_en: src.name_en, shipped_at: e.event_time}) AS inbound
}
CALL (me) {
    MATCH (me)-[h:HOLDS]->(l:Lot) WHERE l.status IN ['on_hold', 'recalled'] AND (h.quantity > 0 OR l.owner_gln = me.gln)
    OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
    RETURN collect({gtin: l.gtin, lot: l.lot, status: l.status, reason: l.hold_reason,
                    name_zh: p.name_zh, name_en: p.name_en}) AS flagged
}
CALL (me) {
    MATCH (me)-[h:HOLDS]->(l:Lot)<-[:OF_LOT]-(i:Inspection {verdict: 'fail'})
    WHERE h.quantity > 0 OR l.owner_gln = me.gln
    OPTIONAL MATCH (lab:Party)-[:PERFORMED]->(i)
    OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
    WITH l, i, lab, p ORDER BY i.date DESC LIMIT 50
    RETURN collect({gtin: l.gtin, lot: l.lot, report_no: i.report_no, date: toString(i.date),
                    lab_zh: lab.name_zh, lab_en: lab.name_en, name_zh: p.name_zh, name_en: p.name_en}) AS failed
}
CALL (me) {
    MATCH (me)-[h:HOLDS]->(u:LogisticUnit) WHERE h.quantity > 0
    WITH u ORDER BY u.created_at DESC, u.sscc LIMIT $limit
    RETURN collect({sscc: u.sscc, packed_at: u.created_at,
                    in_unit: EXISTS { (u)-[:PACKED_IN]->(:LogisticUnit) },
                    contents: COUNT { (u)<-[:PACKED_IN]-() }}) AS units
}
RETURN lots, inbound, flagged, failed, units
"""

LOT: LiteralString = """
MATCH (l:Lot {key: $key})
OPTIONAL MATCH (me:Party {gln: $gln})
OPTIONAL MATCH (me)-[mine:HOLDS]->(l)
WITH l, me, mine WHERE $see_all OR l.owner_gln = $gln OR mine IS NOT NULL
OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
OPTIONAL MATCH (owner:Party {gln: l.owner_gln})
CALL (l) {
    OPTIONAL MATCH (h:Party)-[r:HOLDS]->(l) WHERE r.quantity > 0
    RETURN collect({gln: h.gln, name_zh: h.name_zh, name_en: h.name_en, quantity: r.quantity,
                    pending: coalesce(r.pending, 0), unit: r.unit}) AS holders
}
CALL (l, me) {
    OPTIONAL MATCH (l)<-[:OBJECT|INPUT|OUTPUT]-(e:Event)
    WHERE $see_all OR e.biz_location = $loc OR e.read_point = $loc OR EXISTS { (e)-[:SOURCE|DESTINATION]->(me) }
    OPTIONAL MATCH (e)-[:DESTINATION]->(dst:Party)
    OPTIONAL MATCH (e)-[:SOURCE]->(src:Party)
    WITH e, dst, src ORDER BY e.event_time DESC LIMIT 50
    RETURN collect(CASE WHEN e IS NULL THEN null ELSE
        {biz_step: e.biz_step, type: e.type, at: e.event_time, erroneous: coalesce(e.erroneous, false),
         to_zh: dst.name_zh, to_en: dst.name_en, from_zh: src.name_zh, from_en: src.name_en} END) AS events
}
CALL (l) {
    OPTIONAL MATCH (l)<-[:OF_LOT]-(i:Inspection)
    OPTIONAL MATCH (lab:Party)-[:PERFORMED]->(i)
    WITH i, lab ORDER BY i.date DESC LIMIT 20
    RETURN collect(CASE WHEN i IS NULL THEN null ELSE
        {report_no: i.report_no, date: toString(i.date), verdict: i.verdict, standard: i.standard,
         lab_zh: lab.name_zh, lab_en: lab.name_en} END) AS inspections
}
CALL (l) {
    OPTIONAL MATCH (l)<-[:OBJECT|OUTPUT]-(e:Event)
    WHERE e.biz_step IN ['commissioning', 'harvesting', 'slaughtering'] AND NOT coalesce(e.erroneous, false)
      AND (e.type = 'TransformationEvent' OR e.action = 'ADD')
    WITH e ORDER BY e.event_time LIMIT 1
    RETURN e.doc AS origin_doc
}
CALL (l) {
    OPTIONAL MATCH (d:Dispute)-[:ABOUT]->(l) WHERE $see_all OR d.by_gln = $gln OR d.source_gln = $gln
    OPTIONAL MATCH (by:Party {gln: d.by_gln})
    OPTIONAL MATCH (src:Party {gln: d.source_gln})
    WITH d, by, src ORDER BY d.created_at DESC LIMIT 50
    RETURN collect(CASE WHEN d IS NULL THEN null ELSE
        d {.dispute_id, .quantity, .unit, .reason, .created_at, .by_gln, .source_gln, by_zh: by.name_zh,
           by_en: by.name_en, source_zh: src.name_zh, source_en: src.name_en} END) AS disputes
}
// data-quality warnings on the lot (graph/cold_chain.py): its owner's and a regulator's to see
CALL (l) {
    OPTIONAL MATCH (l)<-[:WARNS]-(a:Alert) WHERE $see_all OR l.owner_gln = $gln
    WITH a ORDER BY a.raised_at DESC LIMIT 20
    RETURN collect(a {.alert_id, .kind, .state, .details_json, raised_at: a.raised_at}) AS warnings
}
RETURN l {.gtin, .lot, .unit, .status, .owner_gln, .hold_reason, production_date: toString(l.production_date),
          expiry_date: toString(l.expiry_date)} AS lot,
       p {.name_zh, .name_en, .unit} AS product, owner {.name_zh, .name_en} AS owner,
       CASE WHEN mine IS NULL THEN null ELSE {quantity: mine.quantity, pending: coalesce(mine.pending, 0),
                                              unit: mine.unit} END AS mine,
       holders, events, inspections, origin_doc, disputes, warnings
"""

# In name order from the party_name_zh index (V0012): the first $limit parties, not a sort of every party. A party
# without a Chinese name is a stub capture made for a GLN it saw, not a trading party to pick.
RECEIVERS: LiteralString = """
MATCH (p:Party) WHERE p.name_zh IS NOT NULL AND p.gln <> $gln AND NOT 'regulator' IN coalesce(p.roles, [])
  AND NOT 'certifier' IN coalesce(p.roles, [])
WITH p ORDER BY p.name_zh LIMIT $limit
RETURN p.gln AS gln, p.name_zh AS name_zh, p.name_en AS name_en, p.region_zh AS region_zh,
       p.region_en AS region_en
"""

# Its own products from the party (OWNED_BY), not by reading every product's owner; licensed ones by their list.
PRODUCTS: LiteralString = """
MATCH (me:Party {gln: $gln})
CALL (me) {
    MATCH (p:Product)-[:OWNED_BY]->(me) RETURN p
    UNION
    MATCH (p:Product) WHERE p.licensees IS NOT NULL AND $gln IN p.licensees RETURN p
}
WITH DISTINCT p
RETURN p.gtin AS gtin, p.name_zh AS name_zh, p.name_en AS name_en, p.unit AS unit, p.category AS category
ORDER BY p.name_zh LIMIT 200
"""

PARTIES: LiteralString = """
MATCH (p:Party)
RETURN p.gln AS gln, p.name_zh AS name_zh, p.name_en AS name_en, p.roles AS roles
ORDER BY p.name_zh LIMIT $limit
"""


def home(graph: Graph, gln: str, limit: int = 200) -> dict:
    """Return a party's home page facts: lots, inbound shipments, held or recalled lots, failed inspections.

    Args:
        graph: the database.
        gln: the acting party.
        limit: at most this many lots (held ones first, then by production date, newest first).

    Returns:
        {"lots": [...], "inbound": [...], "flagged": [...], "failed": [...], "units": [...]}: units are the logistic
        units (cases, pallets: SSCC) it holds, newest first, each with whether it is packed into another and how
        many things are packed in it; every list empty for an unknown party.
    """
    rows = graph.query(HOME, read=True, gln=gln, limit=limit)
    if not rows:
        return {"lots": [], "inbound": [], "flagged": [], "failed": [], "units": []}
    out = dict(rows[0])
    for x in out["inbound"]:
        x["shipped_at"] = x["shipped_at"].to_native() if x["shipped_at"] is not None else None
    for x in out["units"]:
        x["packed_at"] = x["packed_at"].to_native() if x["packed_at"] is not None else None
    return out


def lot(graph: Graph, gln: str | None, gtin: str, lot_number: str, see_all: bool = False) -> dict | None:
    """Return a lot's page facts as this party may see them, or None when there is no such lot for it.

    Args:
        graph: the database.
        gln: the acting party (None for an admin without one).
        gtin: the lot's GTIN.
        lot_number: its lot number.
        see_all: a regulator or admin: every holder and event.

    Returns:
        {"lot", "product", "owner", "mine", "holders", "events", "inspections", "origin", "disputes", "warnings"}:
        holders are the caller's own row unless the caller owns the lot or sees all; origin is the origin record of
        the lot's origin event (graph/batches.origin_record); disputes are those the caller raised or that were
        raised against it (all: see_all); warnings are the lot's data-quality alerts (temperature excursions,
        details decoded), for its owner and see_all only. One round trip.
    """
    rows = graph.query(LOT, read=True, key=lot_key(gtin, lot_number), gln=gln, see_all=see_all,
                       loc=location_key(gln) if gln else None)
    if not rows:
        return None
    out = dict(rows[0])
    if not see_all and out["lot"]["owner_gln"] != gln:
        out["holders"] = [h for h in out["holders"] if h["gln"] == gln]
    out["events"] = [{**e, "at": e["at"].to_native() if e["at"] is not None else None} for e in out["events"]]
    doc = out.pop("origin_doc")
    out["origin"] = origin_record(json.loads(doc) if doc else {})
    out["disputes"] = [{**d, "created_at": d["created_at"].to_native() if d["created_at"] is not None else None}
                       for d in out["disputes"]]
    for k in ("production_date", "expiry_date"):
        out["lot"][k] = out["lot"][k] or None
    warnings = []
    for w in out["warnings"]:
        details = json.loads(w["details_json"] or "{}")
        raised = w["raised_at"].to_native()
        # when it happened: the first reading outside the range (an excursion), else when it was raised
        at = datetime.fromisoformat(details["first"]) if isinstance(details.get("first"), str) else raised
        warnings.append({"alert_id": w["alert_id"], "kind": w["kind"], "state": w["state"], "raised_at": raised,
                         "at": at, "details": details})
    out["warnings"] = warnings
    return out


def receivers(graph: Graph, gln: str, limit: int = 500) -> list[dict]:
    """Return the parties this one may ship to (every trading party but itself), by Chinese name."""
    return graph.query(RECEIVERS, read=True, gln=gln, limit=limit)


def products(graph: Graph, gln: str) -> list[dict]:
    """Return the products a party may register lots of: its own and those it is licensed for."""
    return graph.query(PRODUCTS, read=True, gln=gln)


def parties(graph: Graph, limit: int = 1000) -> list[dict]:
    """Return every party by name (the admin's account form picks one)."""
    return graph.query(PARTIES, read=True, limit=limit)
