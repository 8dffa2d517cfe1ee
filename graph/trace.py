"""Trace: the lineage of a lot, item or logistic unit in one graph traversal (docs/graph-model.md).

Forward follows the derived lineage edges downstream (what was made from it, its items, the cases and pallets
they went into); back follows them upstream. The events on the way hang off each node; erroneous (declared)
events are left out. A contamination window restricts the first transformation: only what was made from (or,
back, went into) the start object or its items/containers between `from` and `to` counts, every later hop does.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, LiteralString

from neo4j.time import Date, DateTime

from graph.driver import Graph
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


def _plain(value: Any) -> Any:
    """Turn Neo4j temporal values into ISO strings (recursively) so results are plain JSON."""
    if isinstance(value, DateTime):
        return value.to_native().isoformat().replace("+00:00", "Z")
    if isinstance(value, Date):
        return value.iso_format()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def documents_of(doc: Any) -> list[dict]:
    """Return an event's business transactions (reference documents) from its stored JSON."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return []
    if not isinstance(doc, dict):
        return []
    out = []
    for bt in doc.get("bizTransactionList") or []:
        if isinstance(bt, dict) and bt.get("bizTransaction"):
            kind = bt.get("type")
            if isinstance(kind, str):
                kind = kind.rsplit("BTT-", 1)[-1].rsplit(":", 1)[-1]
            out.append({"type": kind, "id": bt["bizTransaction"]})
    return out


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
        ({"from": e["from"], "type": e["type"], "to": e["to"], "event_id": e["event_id"], "time": _plain(e["time"])}
         for e in row["edge_rows"]),
        key=lambda e: (e["from"], e["type"], e["to"], e["event_id"] or ""),
    )
    depth = _depths(row["start"], edges)
    nodes = []
    for n in row["node_rows"]:
        props = _plain(n["props"])
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
        ev = {k: _plain(e[k]) for k in ("event_id", "type", "action", "biz_step", "disposition", "event_time",
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
    certificates = sorted(_plain(row["certificates"]), key=lambda c: (c.get("subject") or "", c.get("key") or ""))
    parties = {p["gln"]: {k: _plain(p.get(k)) for k in PARTY_FIELDS} for p in row["parties"]}
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
    out = _plain(raw)
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
        out[kind] = [{**_plain(r), "reaches": len(r["implicated"]), "implicated": sorted(r["implicated"])}
                     for r in row[kind]]
    return out


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


# Key data elements of a set of objects, grouped by event: an event's JSON (for its documents), places and
# parties are read once per event, not once per (event, object) row. A recall's own `recalled` events list a
# thousand objects each; per row, their JSON alone would be a thousand copies of ~100 KB; an event's JSON is
# only read when it names business transactions at all. Objects come back as lists (a 10,000-lot recall has
# 30,000+ of them: maps cost the driver a key string per field); names are looked up once per product. A lot or
# an item is always OF_PRODUCT the product of its own GTIN (graph-model), so only other objects walk that edge:
# the walk was a third of the query's time for a 10,000-lot recall. An object's fields are read once, not once
# per event naming it, and an event's filter once per event, not once per object it names.
_KEY_DATA_OF_KEYS: LiteralString = """
CALL () {
    UNWIND $lots AS k
    MATCH (n:Lot {key: k})
    RETURN n
    UNION ALL
    UNWIND $items AS k
    MATCH (n:Item {key: k})
    RETURN n
    UNION ALL
    UNWIND $units AS k
    MATCH (n:LogisticUnit {key: k})
    RETURN n
}
"""
_KEY_DATA_OF_RECALL: LiteralString = """
MATCH (:Recall {recall_id: $recall_id})-[:AFFECTS]->(n)
"""
_KEY_DATA_EVENTS: LiteralString = """
WITH n, [n.key, CASE WHEN n:Lot THEN 'lot' WHEN n:Item THEN 'item' WHEN n:LogisticUnit THEN 'sscc' ELSE 'other' END,
         n.gtin, n.lot, n.serial, n.sscc, n.unit, n.owner_gln,
         CASE WHEN n:Lot OR n:Item THEN null ELSE head([(n)-[:OF_PRODUCT]->(p:Product) | p.gtin]) END] AS node
MATCH (e:Event)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
WITH e, collect([type(o), o.quantity, o.uom] + node) AS objects
WHERE NOT coalesce(e.erroneous, false) AND ($skip_capture IS NULL OR coalesce(e.capture_id, '') <> $skip_capture)
  AND ($from IS NULL OR e.event_time >= $from) AND ($to IS NULL OR e.event_time <= $to)
  AND ($party IS NULL OR EXISTS {
        MATCH (e)-[:BIZ_LOCATION|SOURCE|DESTINATION]->(x)
        WHERE x.gln = $party OR EXISTS { (x)-[:OF_PARTY]->(:Party {gln: $party}) }
  })
CALL (e) {
    OPTIONAL MATCH (e)-[:BIZ_LOCATION]->(loc)
    OPTIONAL MATCH (loc)-[:OF_PARTY]->(lp:Party)
    RETURN coalesce(lp.gln, loc.gln) AS location_gln, lp.name_zh AS location_name
}
CALL (e) {
    MATCH (e)-[sd:SOURCE]->(x)
    WITH sd, CASE WHEN x:Party THEN x ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp]) END AS party
    ORDER BY sd.type = 'owning_party' DESC
    RETURN head(collect(party {.gln, .name_zh, .name_en})) AS ship_from
}
CALL (e) {
    MATCH (e)-[sd:DESTINATION]->(x)
    WITH sd, CASE WHEN x:Party THEN x ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp]) END AS party
    ORDER BY sd.type = 'owning_party' DESC
    RETURN head(collect(party {.gln, .name_zh, .name_en})) AS ship_to
}
RETURN [e.event_id, e.type, e.action, e.biz_step, e.disposition, e.event_time, e.event_time_zone_offset,
        location_gln, location_name, ship_from, ship_to,
        CASE WHEN e.doc CONTAINS '"bizTransactionList"' THEN e.doc END, objects] AS event
"""
# A period: the objects of the first $max events recorded as happening then (each event gives at least one row, so
# the spreadsheet's row limit is reached without reading the whole history); the events part keeps the period.
_KEY_DATA_OF_PERIOD: LiteralString = """
MATCH (e0:Event) WHERE e0.event_time >= $from AND e0.event_time <= $to AND NOT coalesce(e0.erroneous, false)
WITH e0 ORDER BY e0.event_time LIMIT $max
MATCH (e0)-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
WITH DISTINCT n
"""
KEY_DATA: LiteralString = _KEY_DATA_OF_KEYS + _KEY_DATA_EVENTS
KEY_DATA_OF_PERIOD: LiteralString = _KEY_DATA_OF_PERIOD + _KEY_DATA_EVENTS
KEY_DATA_OF_RECALL: LiteralString = _KEY_DATA_OF_RECALL + _KEY_DATA_EVENTS

OWNERS: LiteralString = """
UNWIND $glns AS g
MATCH (p:Party {gln: g})
RETURN p.gln AS gln, p.name_zh AS name_zh
"""

PRODUCTS: LiteralString = """
UNWIND $gtins AS g
MATCH (p:Product {gtin: g})
RETURN p.gtin AS gtin, p.name_zh AS name_zh, p.name_en AS name_en, p.unit AS unit
"""


def key_data_rows(graph: Graph, keys: list[str], max_rows: int = 200_000) -> KeyDataRows:
    """Return the key data elements of every valid event on these objects, one row per (event, object), in time
    order: the rows of a spreadsheet, read per event (two round trips in one read
    transaction: the events, then the few traceability-lot-code sources by GLN).

    Args:
        graph: the database.
        keys: business keys of lots, items and logistic units (a trace's nodes or a recall's affected set).
        max_rows: the most rows answered (the spreadsheet stays openable).

    Raises:
        Unavailable: the database does not answer.
    """
    keys = list(dict.fromkeys(keys))
    params = {"lots": [k for k in keys if k.startswith("lot:")], "items": [k for k in keys if k.startswith("item:")],
              "units": [k for k in keys if k.startswith("sscc:")]}
    return _key_data(graph, KEY_DATA, params, max_rows)


def period_key_data_rows(graph: Graph, period: tuple[datetime, datetime], party: str | None = None,
                         max_rows: int = 200_000) -> KeyDataRows:
    """Return the key data element rows (as key_data_rows) of every valid event recorded as happening in a period.

    Args:
        graph: the database.
        period: (from, to) aware datetimes, both included.
        party: when set, only events this party took part in (at its location, as source or destination).
        max_rows: the most rows answered.

    Raises:
        Unavailable: the database does not answer.
    """
    params = {"from": period[0], "to": period[1], "party": party, "max": max_rows}
    return _key_data(graph, KEY_DATA_OF_PERIOD, params, max_rows)


def recall_key_data_rows(graph: Graph, recall_id: str, skip_capture: str | None = None,
                         max_rows: int = 200_000) -> KeyDataRows:
    """Return the key data element rows of a recall case's affected objects (as key_data_rows), found from the
    case itself in the same round trip.

    Args:
        graph: the database.
        recall_id: the case.
        skip_capture: leave out the events of this capture (the case's own `recalled` events: not a tracking event).
        max_rows: the most rows answered.

    Raises:
        Unavailable: the database does not answer.
    """
    return _key_data(graph, KEY_DATA_OF_RECALL, {"recall_id": recall_id, "skip_capture": skip_capture}, max_rows)


# An object's fields in a KeyDataRows group, in this order (tuples: a 10,000-lot recall has 30,000 of them, and
# a dict per object cost more to build and to read back than the spreadsheet's own writing of them).
OBJECT_FIELDS = ("role", "quantity", "uom", "key", "kind", "gtin", "lot", "serial", "sscc", "lot_unit", "product_zh",
                 "product_en", "product_unit", "tlc_source_gln", "tlc_source_name")


class KeyDataRows(Sequence):
    """Key data element rows (dicts: an event's fields and one object's), kept grouped by event.

    `groups` lists (event fields, [object fields as OBJECT_FIELDS tuples, ...]) in row order: a writer renders an
    event's cells once for all its objects (a recall's packing event lists a thousand lots). Iterating or indexing
    gives the merged row dicts, built on demand.
    """

    __slots__ = ("groups", "_count", "_rows")

    def __init__(self, groups: list[tuple[dict, list[dict]]]):
        self.groups = groups
        self._count = sum(len(objects) for _, objects in groups)
        self._rows: list[dict] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict]:
        for event, objects in self.groups:
            for obj in objects:
                yield {**event, **dict(zip(OBJECT_FIELDS, obj, strict=True))}

    def __getitem__(self, index):
        if self._rows is None:
            self._rows = list(self)
        return self._rows[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


_EVENT_FIELDS = ("event_id", "event_type", "action", "biz_step", "disposition", "event_time", "tz", "location_gln",
                 "location_name", "ship_from", "ship_to", "doc", "objects")


def _key_data(graph: Graph, query: LiteralString, params: dict, max_rows: int) -> KeyDataRows:
    params = {"skip_capture": None, "from": None, "to": None, "party": None, **params}

    def work(tx) -> tuple[list, dict, dict]:
        events = [r[0] for r in tx.run(query, params)]
        glns = sorted({o[10] for e in events for o in e[12] if o[10]})
        gtins = sorted({o[11] or (o[5] if o[4] in ("lot", "item") else None) for e in events for o in e[12]} - {None})
        owners = {r["gln"]: r["name_zh"] for r in tx.run(OWNERS, glns=glns)} if glns else {}
        products = {r["gtin"]: dict(r) for r in tx.run(PRODUCTS, gtins=gtins)} if gtins else {}
        return events, owners, products

    events, owners, products = graph.read(work)
    no_product = (None, None, None, None)
    named = {gtin: (p["gtin"], p["name_zh"], p["name_en"], p["unit"]) for gtin, p in products.items()}
    staged = []
    for values in events:
        (event_id, event_type, action, biz_step, disposition, when, tz, location_gln, location_name, ship_from,
         ship_to, doc, objects) = values
        event = {"event_id": event_id, "event_type": event_type, "action": action, "biz_step": biz_step,
                 "disposition": disposition, "tz": tz, "location_gln": location_gln, "location_name": location_name,
                 "ship_from": ship_from, "ship_to": ship_to, "documents": documents_in(doc) if doc else [],
                 "event_time": _plain(when)}
        rows = []
        for role, quantity, uom, key, kind, gtin, lot, serial, sscc, lot_unit, owner_gln, product in objects:
            p_gtin, name_zh, name_en, unit = named.get(product or (gtin if kind in ("lot", "item") else None),
                                                       no_product)
            owner = owner_gln if owner_gln in owners else None
            rows.append((key or "", (  # OBJECT_FIELDS; a class-level object (a Product) has no key
                role, quantity, uom, key, kind, gtin or p_gtin, lot, serial, sscc, lot_unit, name_zh, name_en, unit,
                owner, owners.get(owner) if owner else None)))
        rows.sort(key=_first)
        staged.append((when.to_native() if hasattr(when, "to_native") else when, event_id or "", event, rows))
    staged.sort(key=_order)
    groups: list[tuple[dict, list[dict]]] = []
    left = max_rows
    i = 0
    while i < len(staged) and left > 0:
        j = i + 1
        while j < len(staged) and _order(staged[j]) == _order(staged[i]):
            j += 1
        if j == i + 1:
            group = [obj for _, obj in staged[i][3][:left]]
            groups.append((staged[i][2], group))
        else:  # events at the same time with the same ID (none, or a duplicate): their rows interleave by key
            tied = sorted(((key, event, obj) for _, _, event, rows in staged[i:j] for key, obj in rows), key=_first)
            group = []
            for _, event, obj in tied[:left]:
                groups.append((event, [obj]))
                group.append(obj)
        left -= len(group)
        i = j
    return KeyDataRows(groups)


_BT_KEY = '"bizTransactionList"'
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DECODER = json.JSONDecoder()


def documents_in(doc: str) -> list[dict]:
    """documents_of(doc) without decoding the whole JSON: a shipment lists hundreds of objects, one business
    transaction. When the key occurs once and at the top level (outside every string, one brace deep, in no
    array), only its value is decoded; anything else takes the full decode.

    Args:
        doc: an event's stored JSON text.
    """
    at = doc.find(_BT_KEY)
    if at < 0:
        return []
    if doc.find(_BT_KEY, at + 1) < 0:
        before = _JSON_STRING.sub("", doc[:at])
        if '"' not in before and before.count("{") - before.count("}") == 1 and before.count("[") == before.count("]"):
            rest = doc[at + len(_BT_KEY):].lstrip()
            if rest.startswith(":"):
                try:
                    value, _ = _DECODER.raw_decode(rest[1:].lstrip())
                except ValueError:
                    return documents_of(doc)
                return documents_of({"bizTransactionList": value})
    return documents_of(doc)



def _first(staged: tuple) -> Any:
    return staged[0]


def _order(staged: tuple) -> tuple:
    return staged[0], staged[1]
