"""The shape of a recall case, pinned: `recalls.get` answers exactly what a plain row-by-row reading of the case's
graph gives (same keys in the same order, same values, same list order), on generated networks with shipments,
business documents, holdings, erroneous events and acknowledgements."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest

from graph import recall_rules, recalls, tokens
from graph.documents import documents_of
from graph.driver import plain as _plain
from graph.trace import PARTY_FIELDS
from tests.factories import auth
from tests.trace import network
from tests.trace.arrange import capture


def _reference(graph, recall_id: str) -> dict:
    """The case read one row per (object, holding) and per (object, shipment), each shipment's JSON fully decoded."""
    def rows(cypher: str) -> list[dict]:
        return graph.query(cypher, read=True, id=recall_id)

    recall = _plain(rows("MATCH (r:Recall {recall_id: $id}) RETURN r {.*} AS r")[0]["r"])
    implicated = [r["k"] for r in rows("MATCH (:Recall {recall_id: $id})-[:IMPLICATES]->(l:Lot) RETURN l.key AS k")]
    affected = rows("""
        MATCH (:Recall {recall_id: $id})-[:AFFECTS]->(n)
        OPTIONAL MATCH (n)-[:OF_PRODUCT]->(p:Product)
        RETURN n.key AS key, CASE WHEN n:Lot THEN 'lot' WHEN n:Item THEN 'item' ELSE 'sscc' END AS kind,
               n.gtin AS gtin, n.lot AS lot, n.serial AS serial, n.sscc AS sscc, n.status AS status,
               n.quantity AS quantity, n.unit AS unit, p.name_zh AS product_zh, p.name_en AS product_en
        """)
    holdings = rows("""
        MATCH (:Recall {recall_id: $id})-[:AFFECTS]->(n)<-[h:HOLDS]-(p:Party)
        WHERE coalesce(h.quantity, 0) > 0 OR coalesce(h.pending, 0) > 0
        RETURN p.gln AS gln, n.key AS key, h.quantity AS quantity, h.pending AS pending, h.unit AS unit
        """)
    shipped = rows("""
        MATCH (:Recall {recall_id: $id})-[:AFFECTS]->(n)<-[o:OBJECT]-(e:Event)-[:DESTINATION]->(x)
        WHERE e.biz_step IN ['shipping', 'departing'] AND NOT coalesce(e.erroneous, false)
        WITH n, o, e, CASE WHEN x:Party THEN x.gln ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp.gln]) END AS gln
        WHERE gln IS NOT NULL
        RETURN DISTINCT gln, n.key AS key, o.quantity AS quantity, o.uom AS uom, e.event_time AS time,
               e.event_id AS event_id, e.doc AS doc
        """)
    notified = rows("""
        MATCH (:Recall {recall_id: $id})-[nf:NOTIFIES]->(p:Party)
        RETURN p {.*} AS party, nf.units AS units, nf.quantities AS quantities
        """)
    acks = _plain([r["a"] for r in rows("""
        MATCH (a:RecallAck)-[:ACKNOWLEDGES]->(:Recall {recall_id: $id}) RETURN a {.*} AS a ORDER BY a.at
        """)])

    holders = {}
    for n in notified:
        holders[n["party"]["gln"]] = {
            "party": {k: _plain(n["party"].get(k)) for k in PARTY_FIELDS},
            "held_at_opening": [{"unit": u, "quantity": q} for u, q in zip(n["units"], n["quantities"], strict=True)],
            "objects": defaultdict(lambda: {"quantity": 0.0, "pending": 0.0, "unit": None, "shipments": []}),
            "acknowledgements": [a for a in acks if a.get("party_gln") == n["party"]["gln"]],
        }
    for h in holdings:
        if h["gln"] in holders:
            o = holders[h["gln"]]["objects"][h["key"]]
            o["quantity"], o["pending"], o["unit"] = h["quantity"] or 0, h["pending"] or 0, h["unit"]
    for s in shipped:
        if s["gln"] in holders:
            holders[s["gln"]]["objects"][s["key"]]["shipments"].append(
                {"quantity": s["quantity"], "uom": s["uom"], "date": _plain(s["time"]), "event_id": s["event_id"],
                 "documents": documents_of(s["doc"])})
    listed = []
    for gln in sorted(holders):
        h = holders[gln]
        held = [{"key": k, **v, "shipments": sorted(v["shipments"], key=lambda s: s["date"] or "")}
                for k, v in sorted(h["objects"].items())]
        listed.append({"party": h["party"], "held_at_opening": h["held_at_opening"], "objects": held,
                       "acknowledgements": h["acknowledgements"], "acknowledged": bool(h["acknowledgements"])})
    affected.sort(key=lambda a: a["key"])
    return {
        "recall_id": recall["recall_id"], "level": recall["level"], "reason": recall["reason"],
        "status": recall["status"], "opened_at": recall["opened_at"], "closed_at": recall.get("closed_at"),
        "closing_note": recall.get("closing_note"),
        "window": ({"from": recall["window_from"], "to": recall["window_to"]} if recall.get("window_from")
                   else None),
        "deadlines": {"start_by": recall["start_by"], "complete_by": recall["complete_by"]},
        "implicated": sorted(implicated),
        "affected": affected,
        "affected_count": {"lots": sum(a["kind"] == "lot" for a in affected),
                           "items": sum(a["kind"] == "item" for a in affected),
                           "logistic_units": sum(a["kind"] == "sscc" for a in affected)},
        "holders": listed,
        "effectiveness": recall_rules.effectiveness(listed, acks),
        # who started it and how (issue 16): a regulator's real case here; the time to trace it is the node's
        "drill": bool(recall.get("drill")), "initiated_by": recall.get("initiated_by") or "regulator",
        "opened_by_party": recall.get("opened_by_party"), "refund_contact": recall.get("refund_contact"),
        "trace_ms": recall.get("trace_ms"),
    }


def _to_notify(graph, recall_id: str) -> dict[str, dict[str, float]]:
    """Who a case must notify, read plainly: every holder (held or in transit) with its quantities per unit, and
    every party a shipment or receipt of an affected object names as destination."""
    want: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for h in graph.query("""
            MATCH (:Recall {recall_id: $id})-[:AFFECTS]->(n)<-[h:HOLDS]-(p:Party)
            WHERE coalesce(h.quantity, 0) > 0 OR coalesce(h.pending, 0) > 0
            RETURN p.gln AS gln, coalesce(h.unit, 'EA') AS unit, coalesce(h.quantity, 0) + coalesce(h.pending, 0) AS q
            """, read=True, id=recall_id):
        want[h["gln"]][h["unit"]] += h["q"]
    for d in graph.query("""
            MATCH (:Recall {recall_id: $id})-[:AFFECTS]->(n)<-[:OBJECT]-(e:Event)-[:DESTINATION]->(x)
            WHERE e.biz_step IN ['shipping', 'departing', 'receiving', 'arriving'] AND NOT coalesce(e.erroneous, false)
            OPTIONAL MATCH (x)-[:OF_PARTY]->(xp:Party)
            WITH CASE WHEN x:Party THEN x.gln ELSE xp.gln END AS gln WHERE gln IS NOT NULL
            RETURN DISTINCT gln
            """, read=True, id=recall_id):
        want[d["gln"]]  # noqa: B018 (a party to notify that holds none of it now)
    return {gln: dict(units) for gln, units in want.items()}


def _ordered(value) -> str:
    """JSON with every dict's keys in their own order (the API sorts them; the exports read them in order)."""
    return json.dumps(value, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_case_reads_exactly_as_its_graph_row_by_row(client, graph, admin_token, seed):
    net = network.generate(random.Random(seed), farms=3, processors=2, retailers=3, errors=2)
    capture(graph, admin_token, net)
    graph.query("""
        UNWIND $glns AS gln
        MATCH (p:Party {gln: gln})
        SET p.name_zh = '长春' + gln, p.name_en = 'Changchun ' + gln, p.region_code = '220100', p.uscc = 'U' + gln,
            p.contact_phone = '+86 431 ' + right(gln, 6), p.contact_email = gln + '@example.cn'
        """, glns=net.parties["retailer"][:2] + net.parties["distributor"])  # capture made them bare
    regulator = tokens.create(graph, "regulator", None, "shape")["token"]
    lots = [{"gtin": k.split(":")[1], "lot": k.split(":")[2]} for k in net.raw_lots[:2]]
    opened = client.post("/api/v1/recalls", headers=auth(regulator),
                         json={"lots": lots, "level": 2, "reason": "shape"})
    assert opened.status_code == 201, opened.json
    recall_id = opened.json["recall_id"]
    case = recalls.get(graph, recall_id)
    notified = {h["party"]["gln"]: {q["unit"]: round(q["quantity"], 6) for q in h["held_at_opening"]}
                for h in case["holders"]}
    assert notified == {gln: {u: round(q, 6) for u, q in units.items()}
                        for gln, units in _to_notify(graph, recall_id).items()}
    assert any(notified.values())  # (seed 11 also has a receiver that holds none of it now)
    assert any(s["documents"] for h in case["holders"] for o in h["objects"] for s in o["shipments"])
    assert any(o["quantity"] for h in case["holders"] for o in h["objects"])
    assert any(h["party"]["contact_email"] for h in case["holders"])
    assert _ordered(case) == _ordered(_reference(graph, recall_id))

    holder = case["holders"][-1]["party"]["gln"]
    ack = {"party_gln": holder, "quantity_removed": 3, "quantity_recovered": 2.5, "unit": "KGM", "note": "n"}
    assert client.post(f"/api/v1/recalls/{recall_id}/acknowledgements", json=ack,
                       headers=auth(regulator)).status_code == 201
    acked = recalls.get(graph, recall_id)
    assert acked["holders"][-1]["acknowledged"]
    assert _ordered(acked) == _ordered(_reference(graph, recall_id))
    assert opened.json == json.loads(json.dumps(case))  # the API answers what get answers
