"""Trace: the lineage of a lot, item or logistic unit in one graph traversal (docs/graph-model.md).

Forward follows the derived lineage edges downstream (what was made from it, its items, the cases and pallets
they went into); back follows them upstream. The events on the way hang off each node; erroneous (declared)
events are left out. A contamination window restricts the first transformation: only what was made from (or,
back, went into) the start object or its items/containers between `from` and `to` counts, every later hop does.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from typing import LiteralString

from graph.documents import documents_of
from graph.driver import Graph, plain
from graph.errors import Forbidden, NotFound

DIRECTIONS = ("back", "forward", "both")
NODE_FIELDS = ("gtin", "lot", "serial", "sscc", "status", "quantity", "unit", "owner_gln", "production_date",
               "expiry_date")
PARTY_FIELDS = ("gln", "name_zh", "name_en", "roles", "region_code", "region_zh", "region_en", "address_zh", "uscc",
                "contact_name", "contact_phone", "contact_email")
PRIVATE_PARTY_FIELDS = ("uscc", "contact_name", "contact_phone", "contact_email", "address_zh")

# The closure of one direction, as three lists: `ident` (the start with its items/containers), `nodes` (every
# node reached) and `rels` (the lineage edges walked). Without a window one pruning BFS gives the closure; with
# a window the first transformation is filtered and the BFS starts from what it made. `$fwd`/`$back` switch a
# direction off: the guarded subquery then aggregates over no rows and answers empty lists.
TRACE: LiteralString = """
OPTIONAL MATCH (l:Lot {key: $key})
OPTIONAL MATCH (i:Item {key: $key})
OPTIONAL MATCH (u:LogisticUnit {key: $key})
WITH coalesce(l, i, u) AS s
WHERE s IS NOT NULL
CALL (s) {
    RETURN $party IS NULL
        OR s.owner_gln = $party
        OR EXISTS { (:Party {gln: $party})-[:HOLDS]->(s) }
        OR EXISTS { (:Party {gln: $party})-[:HOLDS]->()<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]-(s) }
        OR EXISTS { (:Party {gln: $party})-[:HOLDS]->()-[:HAS_ITEM|PACKED_IN]->(s) }
        OR EXISTS {
            MATCH (s)<-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]-(e:Event)-[:BIZ_LOCATION|SOURCE|DESTINATION]->(x)
            WHERE NOT coalesce(e.erroneous, false)
              AND (x.gln = $party OR EXISTS { (x)-[:OF_PARTY]->(:Party {gln: $party}) })
        } AS allowed
}
// forward -------------------------------------------------------------------------------------------------
CALL (s, allowed) {
    WITH s WHERE allowed AND $fwd AND $from IS NULL
    MATCH (s)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d)
    WITH collect(DISTINCT d) AS nodes
    CALL (nodes) {
        UNWIND nodes AS a
        MATCH (a)-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]->()
        RETURN collect(r) AS rels
    }
    RETURN nodes AS f_nodes, rels AS f_rels
}
CALL (s, allowed) {
    WITH s WHERE allowed AND $fwd AND $from IS NOT NULL
    MATCH (s)-[:HAS_ITEM|PACKED_IN*0..]->(x)
    WITH collect(DISTINCT x) AS ident
    CALL (ident) {
        UNWIND ident AS a
        MATCH (a)-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]->()
        WHERE type(r) <> 'TRANSFORMED_INTO' OR (r.time >= $from AND r.time <= $to)
        RETURN collect(r) AS first
    }
    CALL (first) {
        UNWIND first AS r
        WITH endNode(r) AS n, r WHERE type(r) = 'TRANSFORMED_INTO'
        WITH DISTINCT n
        MATCH (n)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d)
        RETURN collect(DISTINCT d) AS down
    }
    CALL (down) {
        UNWIND down AS a
        MATCH (a)-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]->()
        RETURN collect(r) AS later
    }
    RETURN ident + down AS w_nodes, first + later AS w_rels
}
// back (the same, upstream) -------------------------------------------------------------------------------
CALL (s, allowed) {
    WITH s WHERE allowed AND $back AND $from IS NULL
    MATCH (s)<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]-(d)
    WITH collect(DISTINCT d) AS nodes
    CALL (nodes) {
        UNWIND nodes AS a
        MATCH (a)<-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]-()
        RETURN collect(r) AS rels
    }
    RETURN nodes AS b_nodes, rels AS b_rels
}
CALL (s, allowed) {
    WITH s WHERE allowed AND $back AND $from IS NOT NULL
    MATCH (s)<-[:HAS_ITEM|PACKED_IN*0..]-(x)
    WITH collect(DISTINCT x) AS ident
    CALL (ident) {
        UNWIND ident AS a
        MATCH (a)<-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]-()
        WHERE type(r) <> 'TRANSFORMED_INTO' OR (r.time >= $from AND r.time <= $to)
        RETURN collect(r) AS first
    }
    CALL (first) {
        UNWIND first AS r
        WITH startNode(r) AS n, r WHERE type(r) = 'TRANSFORMED_INTO'
        WITH DISTINCT n
        MATCH (n)<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]-(d)
        RETURN collect(DISTINCT d) AS down
    }
    CALL (down) {
        UNWIND down AS a
        MATCH (a)<-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]-()
        RETURN collect(r) AS later
    }
    RETURN ident + down AS wb_nodes, first + later AS wb_rels
}
WITH s, allowed, f_nodes + w_nodes AS fwd_nodes, b_nodes + wb_nodes AS back_nodes,
     f_rels + w_rels + b_rels + wb_rels AS all_rels
// one entry per node and edge (a node can be reached both ways or twice in a windowed walk)
CALL (fwd_nodes, back_nodes) {
    UNWIND fwd_nodes + back_nodes AS n
    WITH DISTINCT n
    OPTIONAL MATCH (n)-[:OF_PRODUCT]->(p:Product)
    RETURN collect({key: n.key, kind: CASE WHEN n:Lot THEN 'lot' WHEN n:Item THEN 'item'
                                     WHEN n:LogisticUnit THEN 'sscc' ELSE 'other' END,
                    props: n {.gtin, .lot, .serial, .sscc, .status, .quantity, .unit, .owner_gln, .production_date,
                              .expiry_date},
                    product: p {.gtin, .name_zh, .name_en, .unit, .category}}) AS node_rows,
           collect(n) AS nodes
}
CALL (fwd_nodes) {
    UNWIND fwd_nodes AS n
    RETURN collect(DISTINCT n.key) AS fwd_keys
}
CALL (back_nodes) {
    UNWIND back_nodes AS n
    RETURN collect(DISTINCT n.key) AS back_keys
}
CALL (all_rels) {
    UNWIND all_rels AS r
    WITH DISTINCT r
    RETURN collect({from: startNode(r).key, type: type(r), to: endNode(r).key, event_id: r.event_id,
                    time: r.time}) AS edge_rows
}
// the events on the way (erroneous ones excluded) with their objects, places, parties and documents
CALL (nodes) {
    // objects: the traced objects each event names, gathered by the same expansion that finds the events; an
    // event naming thousands of objects (a pallet, a recall's `recalled` event) is not expanded again
    UNWIND nodes AS n
    MATCH (e:Event)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
    WHERE NOT coalesce(e.erroneous, false)
    WITH e, collect({key: n.key, role: type(o), quantity: o.quantity, uom: o.uom}) AS objects
    CALL (e) {
        OPTIONAL MATCH (e)-[:BIZ_LOCATION]->(loc)
        OPTIONAL MATCH (loc)-[:OF_PARTY]->(lp:Party)
        RETURN loc.key AS biz_location, coalesce(lp.gln, loc.gln) AS biz_location_gln
    }
    CALL (e) {
        // a party names itself; a location names its party (parties are dense nodes: never expand from them)
        MATCH (e)-[sd:SOURCE|DESTINATION]->(x)
        WITH sd, x, CASE WHEN x:Party THEN x.gln ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp.gln]) END AS gln
        RETURN collect({side: type(sd), type: sd.type, gln: coalesce(gln, x.gln), ref: x.key}) AS parties
    }
    // an event's JSON only when the answer needs it: every event for an EPCISDocument, else only those with
    // business documents (a packing run or a recall event names thousands of objects: ~100 KB each, no documents)
    RETURN collect({event_id: e.event_id, type: e.type, action: e.action, biz_step: e.biz_step,
                    disposition: e.disposition, event_time: e.event_time, objects: objects,
                    doc: CASE WHEN $with_docs OR e.doc CONTAINS '"bizTransactionList"' THEN e.doc END,
                    biz_location: biz_location, biz_location_gln: biz_location_gln, parties: parties}) AS events
}
CALL (nodes) {
    UNWIND nodes AS n
    MATCH (p:Party)-[h:HOLDS]->(n)
    WHERE coalesce(h.quantity, 1) > 0
    RETURN collect({gln: p.gln, key: n.key, quantity: h.quantity, unit: h.unit}) AS holders
}
// quality records upstream: inspections of the lots, certificates of lots, their products and producers
CALL (back_nodes) {
    UNWIND back_nodes AS n
    MATCH (ins:Inspection)-[:OF_LOT]->(n)
    OPTIONAL MATCH (lab:Party)-[:PERFORMED]->(ins)
    RETURN collect(DISTINCT ins {.*, lot_key: n.key, lab_gln: lab.gln}) AS inspections
}
CALL (back_nodes) {
    UNWIND back_nodes AS n
    OPTIONAL MATCH (n)-[:OF_PRODUCT]->(prod:Product)
    OPTIONAL MATCH (owner:Party {gln: n.owner_gln})
    WITH DISTINCT n, prod, owner
    UNWIND [n, prod, owner] AS subject
    MATCH (c:Certificate)-[:CERTIFIES]->(subject)
    RETURN collect(DISTINCT c {.*, subject: coalesce(subject.key, subject.gtin, subject.gln)}) AS certificates
}
// every party named on the way, looked up once (UNION ALL: a plain UNION would hash the imported lists per row)
CALL (events, holders, nodes, inspections) {
    CALL (events, holders, nodes, inspections) {
        UNWIND events AS e
        UNWIND e.parties + [{gln: e.biz_location_gln}] AS p
        RETURN p.gln AS gln
        UNION ALL
        UNWIND holders AS h
        RETURN h.gln AS gln
        UNION ALL
        UNWIND nodes AS n
        RETURN n.owner_gln AS gln
        UNION ALL
        UNWIND inspections AS i
        RETURN i.lab_gln AS gln
    }
    WITH DISTINCT gln WHERE gln IS NOT NULL
    MATCH (p:Party {gln: gln})
    RETURN collect(p {.*}) AS parties
}
RETURN s.key AS start, allowed, node_rows, edge_rows, fwd_keys, back_keys, events, holders, inspections,
       certificates, parties
"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def trace(graph: Graph, key: str, direction: str = "both", window: tuple[datetime, datetime] | None = None,
          party: str | None = None, with_docs: bool = False) -> dict:
    """Return the lineage of one lot, item or logistic unit in one round trip.

    Args:
        graph: the database.
        key: the start's business key (`lot:{gtin}:{lot}`, `item:{gtin}:{serial}`, `sscc:{sscc}`).
        direction: back, forward or both.
        window: optional (from, to) aware datetimes restricting the first transformation.
        party: when set, the trace is answered only if this party holds, held or made the start.
        with_docs: also answer `docs`, every event on the way as it was captured (for an EPCISDocument).

    Returns:
        {start, direction, window, nodes, edges, events, holders, receipts, inspections, certificates, parties}
        with plain JSON values; each event lists the traced objects it names (not every object of a pallet or a
        recall event); parties include private contact fields (the caller decides what to show).

    Raises:
        NotFound: no such object.
        Forbidden: `party` never held the start.
        Unavailable: the database does not answer.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    params = {"key": key, "party": party, "with_docs": with_docs, "fwd": direction in ("forward", "both"),
              "back": direction in ("back", "both"), "from": window[0] if window else None,
              "to": window[1] if window else None}
    rows = graph.read(lambda tx: [dict(r) for r in tx.run(TRACE, params)])  # plain values: no .data() walk
    if not rows:
        raise NotFound(f"nothing is recorded under {key}", field="key")
    row = rows[0]
    if not row["allowed"]:
        raise Forbidden(f"party {party} never held {key}: a producer may trace only what its party holds or held")
    return shape(row, direction, window, with_docs)


def shape(row: dict, direction: str, window: tuple[datetime, datetime] | None, with_docs: bool = False) -> dict:
    """Turn the raw trace row into the answer: nodes with depth, edges, events, holders, receipts and parties."""
    fwd_keys, back_keys = set(row["fwd_keys"]), set(row["back_keys"])
    edges = sorted(
        ({"from": e["from"], "type": e["type"], "to": e["to"], "event_id": e["event_id"], "time": plain(e["time"])}
         for e in row["edge_rows"]),
        key=lambda e: (e["from"], e["type"], e["to"], e["event_id"] or ""),
    )
    depth = _depths(row["start"], edges)
    nodes = []
    for n in row["node_rows"]:
        props = plain(n["props"])
        side = "start" if n["key"] == row["start"] else (
            "both" if n["key"] in fwd_keys and n["key"] in back_keys else
            "forward" if n["key"] in fwd_keys else "back")
        node = {"id": n["key"], "kind": n["kind"], "side": side, "depth": depth.get(n["key"])}
        node.update({k: props.get(k) for k in NODE_FIELDS if props.get(k) is not None})
        if n["product"]:
            node["product"] = n["product"]
        nodes.append(node)
    nodes.sort(key=lambda n: (n["depth"] if n["depth"] is not None else 0, n["id"]))

    events, receipts, captured = [], [], []
    for e in row["events"]:
        raw = json.loads(e["doc"]) if isinstance(e["doc"], str) else e["doc"]
        if with_docs:
            captured.append(raw)
        docs = documents_of(raw) if raw else []
        ev = {k: plain(e[k]) for k in ("event_id", "type", "action", "biz_step", "disposition", "event_time",
                                          "biz_location", "biz_location_gln")}
        ev["objects"] = sorted(e["objects"], key=lambda o: (o["role"], o["key"]))
        ev["sources"] = [p for p in e["parties"] if p["side"] == "SOURCE"]
        ev["destinations"] = [p for p in e["parties"] if p["side"] == "DESTINATION"]
        ev["documents"] = docs
        events.append(ev)
        receipts.extend(_receipts(ev, fwd_keys | back_keys))
    events.sort(key=lambda e: (e["event_time"] or "", e["event_id"]))
    receipts.sort(key=lambda r: (r["date"] or "", r["gln"], r["key"]))

    holders = sorted(row["holders"], key=lambda h: (h["gln"], h["key"]))
    inspections = sorted((_inspection(i) for i in row["inspections"]), key=lambda i: (i["lot_key"], i["key"]))
    certificates = sorted(plain(row["certificates"]), key=lambda c: (c.get("subject") or "", c.get("key") or ""))
    parties = {p["gln"]: {k: plain(p.get(k)) for k in PARTY_FIELDS} for p in row["parties"]}
    out = {
        "start": row["start"],
        "direction": direction,
        "window": {"from": _iso(window[0]), "to": _iso(window[1])} if window else None,
        "nodes": nodes,
        "edges": edges,
        "events": events,
        "holders": holders,
        "receipts": receipts,
        "inspections": inspections,
        "certificates": certificates,
        "parties": parties,
    }
    if with_docs:
        out["docs"] = sorted(captured, key=lambda d: (d.get("eventTime", ""), d.get("eventID", "")))
    return out


def _inspection(raw: dict) -> dict:
    out = plain(raw)
    results = out.get("results")
    if isinstance(results, str):
        try:
            out["results"] = json.loads(results)
        except ValueError:
            pass
    return out


def _receipts(ev: dict, keys: set[str]) -> list[dict]:
    """Who received which traced object in a shipping/receiving event, how much, when, under which documents."""
    if ev["biz_step"] not in ("shipping", "receiving"):
        return []
    to = {p["gln"] for p in ev["destinations"] if p["gln"]}
    if not to and ev["biz_step"] == "receiving" and ev["biz_location_gln"]:
        to = {ev["biz_location_gln"]}
    sources = sorted({p["gln"] for p in ev["sources"] if p["gln"]})
    out = []
    for gln in sorted(to):
        for o in ev["objects"]:
            if o["key"] in keys:
                out.append({"gln": gln, "key": o["key"], "quantity": o["quantity"], "uom": o["uom"],
                            "date": ev["event_time"], "biz_step": ev["biz_step"], "event_id": ev["event_id"],
                            "from": sources, "documents": ev["documents"]})
    return out


def _depths(start: str, edges: list[dict]) -> dict[str, int]:
    """Signed hop count from the start: positive downstream, negative upstream (for drawing layers)."""
    down, up = {}, {}
    for e in edges:
        down.setdefault(e["from"], []).append(e["to"])
        up.setdefault(e["to"], []).append(e["from"])
    depth = {start: 0}
    for adj, sign in ((down, 1), (up, -1)):
        seen = {start: 0}
        queue = deque([start])
        while queue:
            n = queue.popleft()
            for m in adj.get(n, ()):
                if m not in seen:
                    seen[m] = seen[n] + 1
                    depth.setdefault(m, sign * seen[m])
                    queue.append(m)
    return depth


def public_parties(parties: dict[str, dict]) -> dict[str, dict]:
    """Return the parties without their private fields (contacts, USCC, address) for non-regulators."""
    return {g: {k: v for k, v in p.items() if k not in PRIVATE_PARTY_FIELDS} for g, p in parties.items()}


COMMON_SOURCE: LiteralString = """
CALL () {
    UNWIND $keys AS key
    OPTIONAL MATCH (s:Lot {key: key})
    WITH key, s WHERE s IS NULL
    RETURN collect(key) AS missing
}
CALL () {
    UNWIND $keys AS key
    MATCH (s:Lot {key: key})
    MATCH (s)<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]-(u)
    WITH DISTINCT key, u
    RETURN collect([key, u]) AS pairs
}
CALL (pairs) {
    UNWIND pairs AS p
    WITH p[1] AS u, collect(p[0]) AS reached
    WHERE size(reached) >= $min
    WITH u, reached ORDER BY size(reached) DESC, u.key LIMIT $limit
    RETURN collect({id: u.key, kind: CASE WHEN u:Lot THEN 'lot' WHEN u:Item THEN 'item' ELSE 'sscc' END,
                    implicated: reached,
                    details: u {.gtin, .lot, .serial, .sscc, .status, .quantity, .unit, .owner_gln}}) AS lots
}
CALL (pairs) {
    UNWIND pairs AS p
    WITH p[0] AS key, p[1] AS u
    CALL (u) {
        MATCH (party:Party {gln: u.owner_gln})
        RETURN party
        UNION
        MATCH (u)<-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]-(e:Event)-[:BIZ_LOCATION]->()-[:OF_PARTY]->(party:Party)
        WHERE NOT coalesce(e.erroneous, false)
        RETURN party
    }
    WITH party, collect(DISTINCT key) AS reached
    WHERE size(reached) >= $min
    WITH party, reached ORDER BY size(reached) DESC, party.gln LIMIT $limit
    RETURN collect({id: party.gln, kind: 'party', implicated: reached,
                    details: party {.gln, .name_zh, .name_en, .roles, .region_code, .region_zh}}) AS parties
}
CALL (pairs) {
    UNWIND pairs AS p
    WITH p[0] AS key, p[1] AS u
    MATCH (u)<-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]-(e:Event)
    WHERE NOT coalesce(e.erroneous, false)
    WITH e, collect(DISTINCT key) AS reached
    WHERE size(reached) >= $min
    WITH e, reached ORDER BY size(reached) DESC, e.event_time, e.event_id LIMIT $limit
    RETURN collect({id: e.event_id, kind: 'event', implicated: reached,
                    details: e {.type, .action, .biz_step, .disposition, .event_time}}) AS events
}
RETURN missing, lots, parties, events
"""


def common_source(graph: Graph, keys: list[str], min_shared: int = 2, limit: int = 50) -> dict:
    """Rank the upstream lots, parties and events several implicated lots share, in one round trip.

    Args:
        graph: the database.
        keys: the implicated lots' keys.
        min_shared: answer only sources reaching at least this many implicated lots.
        limit: at most this many of each kind.

    Returns:
        {implicated, missing, lots, parties, events}; each ranked entry has id, kind, reaches, implicated
        (the implicated lot keys it reaches) and details, most widely shared first.

    Raises:
        Unavailable: the database does not answer.
    """
    keys = list(dict.fromkeys(keys))
    row = graph.query(COMMON_SOURCE, read=True, keys=keys, min=min_shared, limit=limit)[0]
    out = {"implicated": keys, "missing": row["missing"]}
    for kind in ("lots", "parties", "events"):
        out[kind] = [{**plain(r), "reaches": len(r["implicated"]), "implicated": sorted(r["implicated"])}
                     for r in row[kind]]
    return out
