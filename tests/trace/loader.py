"""Arrange trace test data: store EPCIS events in the graph exactly as docs/graph-model.md lays them out.

A stop-gap until graph/events.py (the capture write path) lands; then tests capture through it instead.
"""

from __future__ import annotations

import json

from gs1.epcis import parse_document
from gs1.identifiers import Ref

_LABELS = {"lot": "Lot", "item": "Item", "sscc": "LogisticUnit"}

_STORE_EVENT = """
CREATE (e:Event {event_id: $e.event_id, type: $e.type, action: $e.action, event_time: datetime($e.event_time),
                 event_time_zone_offset: $e.offset, record_time: datetime(), biz_step: $e.biz_step,
                 disposition: $e.disposition, erroneous: false, capture_id: 'tests', doc: $e.doc})
WITH e
UNWIND $objects AS o
CALL (e, o) {
    WITH o WHERE o.kind = 'lot'
    MERGE (x:Lot {key: o.key}) ON CREATE SET x.gtin = o.gtin, x.lot = o.lot, x.status = 'active'
    RETURN x
    UNION
    WITH o WHERE o.kind = 'item'
    MERGE (x:Item {key: o.key}) ON CREATE SET x.gtin = o.gtin, x.serial = o.serial, x.lot = o.lot,
                                              x.status = 'active'
    RETURN x
    UNION
    WITH o WHERE o.kind = 'sscc'
    MERGE (x:LogisticUnit {key: o.key}) ON CREATE SET x.sscc = o.sscc
    RETURN x
}
RETURN count(*) AS n
"""


def _object_rows(ev) -> list[dict]:
    rows = []

    def add(ref: Ref, role: str, quantity=None, uom=None):
        if ref.kind in _LABELS:
            rows.append({"key": ref.key, "kind": ref.kind, "gtin": ref.gtin, "lot": ref.lot, "serial": ref.serial,
                         "sscc": ref.sscc, "role": role, "quantity": quantity, "uom": uom})

    for o in ev.objects:
        add(o.ref, "OBJECT", o.quantity, o.uom)
    for o in ev.children:
        add(o.ref, "CHILD", o.quantity, o.uom)
    for o in ev.inputs:
        add(o.ref, "INPUT", o.quantity, o.uom)
    for o in ev.outputs:
        add(o.ref, "OUTPUT", o.quantity, o.uom)
    if ev.parent is not None:
        add(ev.parent, "PARENT")
    return rows


def load(graph, doc: dict) -> None:
    """Store every event of an EPCIS document (errorDeclarations mark and un-derive their event)."""
    for ev in parse_document(doc):
        graph.write(_store, ev)


def _store(tx, ev) -> None:
    if ev.error_declaration is not None:
        tx.run(
            """
            MATCH (e:Event {event_id: $id}) SET e.erroneous = true
            WITH e
            MATCH ()-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]->() WHERE r.event_id = $id
            DELETE r
            """,
            id=ev.event_id,
        ).consume()
        tx.run(
            """
            UNWIND $ids AS cid
            MATCH (c:Event {event_id: cid}), (e:Event {event_id: $id})
            MERGE (c)-[:CORRECTS]->(e)
            """,
            ids=ev.error_declaration["corrective_event_ids"], id=ev.event_id,
        ).consume()
        return
    objects = _object_rows(ev)
    e = {"event_id": ev.event_id, "type": ev.type, "action": ev.action, "event_time": ev.event_time,
         "offset": ev.event_time_zone_offset, "biz_step": ev.biz_step, "disposition": ev.disposition,
         "doc": json.dumps(ev.raw, ensure_ascii=False)}
    tx.run(_STORE_EVENT, e=e, objects=objects).consume()
    tx.run(
        """
        MATCH (e:Event {event_id: $id})
        UNWIND $objects AS o
        MATCH (x {key: o.key}) WHERE x:Lot OR x:Item OR x:LogisticUnit
        CALL (e, o, x) {
            WITH e, o, x WHERE o.role = 'OBJECT' CREATE (e)-[:OBJECT {quantity: o.quantity, uom: o.uom}]->(x)
            UNION
            WITH e, o, x WHERE o.role = 'CHILD' CREATE (e)-[:CHILD {quantity: o.quantity, uom: o.uom}]->(x)
            UNION
            WITH e, o, x WHERE o.role = 'INPUT' CREATE (e)-[:INPUT {quantity: o.quantity, uom: o.uom}]->(x)
            UNION
            WITH e, o, x WHERE o.role = 'OUTPUT' CREATE (e)-[:OUTPUT {quantity: o.quantity, uom: o.uom}]->(x)
            UNION
            WITH e, o, x WHERE o.role = 'PARENT' CREATE (e)-[:PARENT]->(x)
        }
        """,
        id=ev.event_id, objects=objects,
    ).consume()
    places = []
    if ev.biz_location is not None:
        places.append({"rel": "BIZ_LOCATION", "key": ev.biz_location.key, "gln": ev.biz_location.gln,
                       "ext": ev.biz_location.ext, "type": None, "party": False})
    for side, items in (("SOURCE", ev.sources), ("DESTINATION", ev.destinations)):
        for sd in items:
            places.append({"rel": side, "key": sd.ref.key, "gln": sd.ref.gln, "ext": sd.ref.ext,
                           "type": sd.type, "party": sd.ref.kind == "party"})
    tx.run(
        """
        MATCH (e:Event {event_id: $id})
        UNWIND $places AS p
        CALL (e, p) {
            WITH e, p WHERE p.party
            MERGE (x:Party {gln: p.gln})
            RETURN x
            UNION
            WITH e, p WHERE NOT p.party
            MERGE (x:Location {key: p.key}) ON CREATE SET x.gln = p.gln, x.ext = p.ext
            MERGE (owner:Party {gln: p.gln})
            MERGE (x)-[:OF_PARTY]->(owner)
            RETURN x
        }
        CALL (e, p, x) {
            WITH e, p, x WHERE p.rel = 'BIZ_LOCATION' CREATE (e)-[:BIZ_LOCATION]->(x)
            UNION
            WITH e, p, x WHERE p.rel = 'SOURCE' CREATE (e)-[:SOURCE {type: p.type}]->(x)
            UNION
            WITH e, p, x WHERE p.rel = 'DESTINATION' CREATE (e)-[:DESTINATION {type: p.type}]->(x)
        }
        """,
        id=ev.event_id, places=places,
    ).consume()
    lineage = []
    for o in objects:
        if o["kind"] == "item" and o["lot"]:
            lineage.append({"from": f"lot:{o['gtin']}:{o['lot']}", "to": o["key"], "type": "HAS_ITEM"})
    if ev.type == "TransformationEvent":
        for a in (o for o in objects if o["role"] == "INPUT"):
            for b in (o for o in objects if o["role"] == "OUTPUT"):
                lineage.append({"from": a["key"], "to": b["key"], "type": "TRANSFORMED_INTO"})
    if ev.type == "AggregationEvent" and ev.action == "ADD" and ev.parent is not None:
        for c in (o for o in objects if o["role"] == "CHILD"):
            lineage.append({"from": c["key"], "to": ev.parent.key, "type": "PACKED_IN"})
    tx.run(
        """
        UNWIND $edges AS l
        MERGE (a:Lot {key: l.from}) ON CREATE SET a.status = 'active'
        WITH l, a
        MATCH (b {key: l.to}) WHERE b:Lot OR b:Item OR b:LogisticUnit
        CALL (a, b, l) {
            WITH a, b, l WHERE l.type = 'HAS_ITEM' MERGE (a)-[:HAS_ITEM {event_id: $id}]->(b)
            UNION
            WITH a, b, l WHERE l.type = 'TRANSFORMED_INTO'
            MERGE (a)-[:TRANSFORMED_INTO {event_id: $id, time: datetime($time)}]->(b)
            UNION
            WITH a, b, l WHERE l.type = 'PACKED_IN' MERGE (a)-[:PACKED_IN {event_id: $id, time: datetime($time)}]->(b)
        }
        """,
        edges=[edge for edge in lineage if edge["from"].startswith("lot:")], id=ev.event_id, time=ev.event_time,
    ).consume()
    tx.run(
        """
        UNWIND $edges AS l
        MATCH (a {key: l.from}) WHERE a:Item OR a:LogisticUnit
        MATCH (b {key: l.to}) WHERE b:Lot OR b:Item OR b:LogisticUnit
        CALL (a, b, l) {
            WITH a, b, l WHERE l.type = 'TRANSFORMED_INTO'
            MERGE (a)-[:TRANSFORMED_INTO {event_id: $id, time: datetime($time)}]->(b)
            UNION
            WITH a, b, l WHERE l.type = 'PACKED_IN' MERGE (a)-[:PACKED_IN {event_id: $id, time: datetime($time)}]->(b)
        }
        """,
        edges=[edge for edge in lineage if not edge["from"].startswith("lot:")], id=ev.event_id, time=ev.event_time,
    ).consume()
    _custody(tx, ev, objects)


def _custody(tx, ev, objects) -> None:
    """HOLDS as capture keeps it: commissioning/harvesting and receiving add to the party, shipping takes away."""
    party = None
    if ev.biz_location is not None:
        party = ev.biz_location.gln
    src = next((s.ref.gln for s in ev.sources), None)
    rows = [{"key": o["key"], "q": o["quantity"] if o["quantity"] is not None else 1, "unit": o["uom"] or "EA"}
            for o in objects if o["role"] in ("OBJECT", "OUTPUT")]
    if ev.biz_step in ("harvesting", "commissioning", "receiving") and party:
        tx.run(
            """
            UNWIND $rows AS r
            MATCH (x {key: r.key}) WHERE x:Lot OR x:Item OR x:LogisticUnit
            MERGE (p:Party {gln: $gln})
            MERGE (p)-[h:HOLDS]->(x) ON CREATE SET h.quantity = 0, h.unit = r.unit
            SET h.quantity = h.quantity + r.q
            """,
            rows=rows, gln=party,
        ).consume()
    if ev.biz_step == "shipping" and src:
        tx.run(
            """
            UNWIND $rows AS r
            MATCH (:Party {gln: $gln})-[h:HOLDS]->(x {key: r.key})
            SET h.quantity = CASE WHEN h.quantity > r.q THEN h.quantity - r.q ELSE 0 END
            """,
            rows=rows, gln=src,
        ).consume()
