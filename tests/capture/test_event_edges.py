"""Every edge type capture writes from an event to what it names: type, target and the edge's own properties."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.capture.helpers import commission, document, event_id, loc, lot_uri, ship
from tests.factories import auth, gtin, lot_code
from tests.trace.network import fresh_sscc, sscc_uri

_EDGES = """
MATCH (e:Event {event_id: $id})-[r]->(n)
RETURN type(r) AS rel, labels(n) AS labels, n.gtin AS gtin, n.lot AS lot, n.gln AS gln, n.sscc AS sscc,
       r.quantity AS quantity, r.uom AS uom, r.type AS type
"""


def _edges(graph, eid: str) -> list[tuple]:
    """The event's outgoing edges as (type, target, quantity, uom, source/destination type), sorted."""
    rows = graph.query(_EDGES, id=eid)
    out = []
    for r in rows:
        label = sorted(set(r["labels"]) & {"Lot", "Location", "Party", "LogisticUnit"})[0]
        target = {"Lot": (label, r["gtin"], r["lot"]), "LogisticUnit": (label, r["sscc"])}.get(label, (label, r["gln"]))
        out.append((r["rel"], target, r["quantity"], r["uom"], r["type"]))
    return sorted(out, key=repr)


def test_each_event_gets_its_object_input_output_parent_child_place_source_and_destination_edges(
        client, factory, graph):
    farm, mill = factory.party()["gln"], factory.party()["gln"]
    g, raw, flour = gtin(), lot_code(), lot_code()
    unit = fresh_sscc()
    made = commission(farm, g, raw, 100)
    sent = ship(farm, mill, g, raw, 40)
    milled = {"type": "TransformationEvent", "eventID": event_id(), "eventTime": "2026-09-22T08:00:00+08:00",
              "eventTimeZoneOffset": "+08:00",
              "inputQuantityList": [{"epcClass": lot_uri(g, raw), "quantity": 30, "uom": "KGM"}],
              "outputQuantityList": [{"epcClass": lot_uri(g, flour), "quantity": 25, "uom": "KGM"}],
              "readPoint": loc(mill)}
    packed = {"type": "AggregationEvent", "eventID": event_id(), "eventTime": "2026-09-23T08:00:00+08:00",
              "eventTimeZoneOffset": "+08:00", "action": "ADD", "bizStep": "packing", "parentID": sscc_uri(unit),
              "childQuantityList": [{"epcClass": lot_uri(g, flour), "quantity": 20, "uom": "KGM"}],
              "readPoint": loc(mill), "bizLocation": loc(mill)}
    response = client.post("/epcis/capture", json=document(made, sent, milled, packed),
                           headers=auth(factory.admin_token))
    assert response.status_code == 202 and response.json["capturedCount"] == 4, response.json

    raw_lot, flour_lot = ("Lot", g, raw), ("Lot", g, flour)
    assert _edges(graph, made["eventID"]) == sorted([
        ("OBJECT", raw_lot, 100, "KGM", None), ("READ_POINT", ("Location", farm), None, None, None),
        ("BIZ_LOCATION", ("Location", farm), None, None, None)], key=repr)
    assert _edges(graph, sent["eventID"]) == sorted([
        ("OBJECT", raw_lot, 40, "KGM", None), ("READ_POINT", ("Location", farm), None, None, None),
        ("SOURCE", ("Party", farm), None, None, "owning_party"),
        ("DESTINATION", ("Party", mill), None, None, "owning_party")], key=repr)
    assert _edges(graph, milled["eventID"]) == sorted([
        ("INPUT", raw_lot, 30, "KGM", None), ("OUTPUT", flour_lot, 25, "KGM", None),
        ("READ_POINT", ("Location", mill), None, None, None)], key=repr)
    assert _edges(graph, packed["eventID"]) == sorted([
        ("PARENT", ("LogisticUnit", unit), None, None, None), ("CHILD", flour_lot, 20, "KGM", None),
        ("READ_POINT", ("Location", mill), None, None, None),
        ("BIZ_LOCATION", ("Location", mill), None, None, None)], key=repr)


def test_an_event_keeps_its_document_whole_with_an_integer_beyond_64_bits_and_unicode(client, factory, graph):
    """The stored document is the event as sent: an extension's integer of 31 digits (JSON allows it; orjson, which
    writes stored documents, does not), a tiny float and Chinese text all read back equal, and the event is served."""
    farm = factory.party()["gln"]
    g, lot = gtin(), lot_code()
    made = commission(farm, g, lot, 100)
    made["tg:batchCounter"] = 10**30
    made["tg:moisture"] = 1e-05
    made["tg:note"] = "长白山人参 \u2028 \"quoted\""
    response = client.post("/epcis/capture", json=document(made), headers=auth(factory.admin_token))
    assert response.status_code == 202 and response.json["capturedCount"] == 1, response.json
    doc = graph.query("MATCH (e:Event {event_id: $id}) RETURN e.doc AS doc", id=made["eventID"])[0]["doc"]
    stored = json.loads(doc)
    assert stored["tg:batchCounter"] == 10**30 and stored["tg:moisture"] == 1e-05
    assert stored["tg:note"] == "长白山人参 \u2028 \"quoted\""
    served = client.get(f"/epcis/events/{quote(made['eventID'], safe='')}", headers=auth(factory.admin_token))
    assert served.status_code == 200, served.json
    (event,) = served.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["tg:batchCounter"] == 10**30 and event["tg:note"] == stored["tg:note"]
