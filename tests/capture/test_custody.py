"""Custody and lineage do not depend on how events are split into documents; the rules that guard them."""

from __future__ import annotations

import random

from tests.capture.helpers import commission, document, event_id, loc, lot_uri, ship
from tests.factories import auth, gln, gtin, lot_code


def _capture(client, token, doc):
    response = client.post("/epcis/capture", json=doc, headers=auth(token))
    assert response.status_code == 202, response.json
    return client.get(response.headers["Location"], headers=auth(token)).json


def _receive(receiver: str, source: str, g: str, lot: str, quantity: float, when: str) -> dict:
    from gs1.identifiers import Ref

    return {"type": "ObjectEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
            "quantityList": [{"epcClass": lot_uri(g, lot), "quantity": quantity, "uom": "KGM"}],
            "readPoint": loc(receiver), "bizLocation": loc(receiver),
            "sourceList": [{"type": "owning_party", "source": Ref("party", gln=source).digital_link()}],
            "destinationList": [{"type": "owning_party", "destination": Ref("party", gln=receiver).digital_link()}]}


def _transform(at: str, inputs: list[tuple[str, str, float]], outputs: list[tuple[str, str, float]],
               when: str) -> dict:
    return {"type": "TransformationEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "inputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": q, "uom": "KGM"} for g, lt, q in inputs],
            "outputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": q, "uom": "KGM"}
                                   for g, lt, q in outputs],
            "bizStep": "commissioning", "readPoint": loc(at), "bizLocation": loc(at)}


def _dispose(at: str, g: str, lot: str, quantity: float, when: str, step="destroying", disposition="destroyed"):
    return {"type": "ObjectEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE", "bizStep": step, "disposition": disposition,
            "quantityList": [{"epcClass": lot_uri(g, lot), "quantity": quantity, "uom": "KGM"}],
            "readPoint": loc(at), "bizLocation": loc(at)}


def _chain() -> tuple[list[dict], dict]:
    """A farm -> mill -> shop chain with ship-then-receive, a transformation, partial receipt and destruction."""
    farm, mill, shop = gln(), gln(), gln()
    paddy, rice = gtin(), gtin()
    a, b = lot_code(), lot_code()
    day = "2026-09-2{}T08:0{}:00+08:00"
    events = [
        commission(farm, paddy, a, 100, when=day.format(0, 0)),
        ship(farm, mill, paddy, a, 60, when=day.format(1, 0)),
        _receive(mill, farm, paddy, a, 60, day.format(1, 5)),
        _transform(mill, [(paddy, a, 50)], [(rice, b, 40)], day.format(2, 0)),
        ship(mill, shop, rice, b, 30, when=day.format(3, 0)),
        _receive(shop, mill, rice, b, 20, day.format(3, 5)),
        _dispose(farm, paddy, a, 10, day.format(4, 0)),
        ship(farm, shop, paddy, a, 5, when=day.format(4, 1)),
        _receive(shop, farm, paddy, a, 5, day.format(4, 2)),
    ]
    names = {farm: "farm", mill: "mill", shop: "shop", f"lot:{paddy}:{a}": "A", f"lot:{rice}:{b}": "B"}
    return events, names


def _custody(graph, names: dict) -> dict:
    rows = graph.query("""
        UNWIND $keys AS k
        MATCH (n:Lot {key: k})
        OPTIONAL MATCH (p:Party)-[h:HOLDS]->(n)
        OPTIONAL MATCH (n)-[t:TRANSFORMED_INTO]->(o)
        RETURN k AS key, collect(DISTINCT [p.gln, round(h.quantity, 6), round(h.pending, 6)]) AS holds,
               collect(DISTINCT o.key) AS into
        """, read=True, keys=[k for k in names if k.startswith("lot:")])
    out = {}
    for r in rows:
        out[names[r["key"]]] = {
            "holds": sorted((names[g], q, p) for g, q, p in r["holds"] if g is not None),
            "into": sorted(names[k] for k in r["into"]),
        }
    return out


def test_custody_is_the_same_in_one_document_per_event_documents_and_shuffled_documents(client, graph, factory):
    """One document, one document per event, and shuffled documents give the same HOLDS and lineage."""
    token = factory.admin_token
    results = []
    for way in ("one", "each", "shuffled"):
        events, names = _chain()
        if way == "one":
            _capture(client, token, document(*events))
        elif way == "each":
            for ev in events:
                assert _capture(client, token, document(ev))["success"]
        else:
            docs = [[ev] for ev in events[:5]] + [events[5:]]
            random.Random(7).shuffle(docs)
            for doc in docs:
                assert _capture(client, token, document(*doc))["success"]
        results.append(_custody(graph, names))
    one, each, shuffled = results
    assert one["A"]["holds"] == [("farm", 25.0, 0.0), ("mill", 10.0, 0.0), ("shop", 5.0, 0.0)]
    assert one["B"]["holds"] == [("mill", 10.0, 0.0), ("shop", 30.0, 10.0)]
    assert one["A"]["into"] == ["B"]
    assert one == each == shuffled


def test_a_cycle_through_stored_lineage_and_the_new_document_is_refused(client, factory):
    """Stored A -> B, then one document with B -> C and C -> A: the loop runs through both."""
    farm = factory.party()
    g, a, b, c = gtin(), lot_code(), lot_code(), lot_code()
    first = _capture(client, factory.admin_token, document(
        commission(farm["gln"], g, a, 10), _transform(farm["gln"], [(g, a, 5)], [(g, b, 5)], "2026-09-21T08:00:00Z")))
    assert first["success"], first["errors"]
    loop = _capture(client, factory.admin_token, document(
        _transform(farm["gln"], [(g, b, 1)], [(g, c, 1)], "2026-09-22T08:00:00Z"),
        _transform(farm["gln"], [(g, c, 1)], [(g, a, 1)], "2026-09-23T08:00:00Z")))
    assert loop["success"] is False
    assert [e["code"] for e in loop["errors"]] == ["cycle"]
    # And the other way round: the document's edge first, the stored edge closes the loop.
    d = lot_code()
    loop = _capture(client, factory.admin_token, document(
        _transform(farm["gln"], [(g, d, 1)], [(g, a, 1)], "2026-09-22T08:00:00Z"),
        _transform(farm["gln"], [(g, b, 1)], [(g, d, 1)], "2026-09-23T08:00:00Z")))
    assert [e["code"] for e in loop["errors"]] == ["cycle"]


def _set_status(graph, g: str, lot: str, status: str) -> None:
    graph.query("MATCH (l:Lot {key: $k}) SET l.status = $s", k=f"lot:{g}:{lot}", s=status)


def test_a_holder_may_destroy_a_recalled_or_held_lot_but_not_ship_sell_or_consume_it(client, graph, factory):
    """What a recall asks (destroy the stock) is recorded; shipping, selling and transforming are refused."""
    farm, mill = factory.party(), factory.party()
    product, out_product = factory.product(farm["gln"]), factory.product(farm["gln"])
    for status in ("recalled", "on_hold"):
        lot = factory.lot(product["gtin"], farm["gln"], quantity=100.0)
        _set_status(graph, product["gtin"], lot["lot"], status)
        item = {"gtin": product["gtin"], "lot": lot["lot"], "quantity": 10, "unit": "KGM"}
        headers = auth(farm["token"])
        shipped = client.post("/api/v1/shipments", headers=headers, json={
            "party_gln": farm["gln"], "destination_gln": mill["gln"], "lots": [item]})
        assert shipped.status_code == 422 and "may not be shipped" in shipped.json["error"]["message"]
        sold = client.post("/api/v1/dispositions", headers=headers,
                           json={"party_gln": farm["gln"], "kind": "sold", "lots": [item]})
        assert sold.status_code == 422
        consumed = client.post("/api/v1/transformations", headers=headers, json={
            "party_gln": farm["gln"], "inputs": [item],
            "outputs": [{"gtin": out_product["gtin"], "lot": lot_code(), "quantity": 5, "unit": "KGM"}]})
        assert consumed.status_code == 422 and "consumed as an input" in consumed.json["error"]["message"]
        destroyed = client.post("/api/v1/dispositions", headers=headers,
                                json={"party_gln": farm["gln"], "kind": "destroyed", "lots": [item]})
        assert destroyed.status_code == 201, destroyed.json
        holders = {h["gln"]: h["quantity"]
                   for h in client.get(f"/api/v1/lots/{product['gtin']}/{lot['lot']}",
                                       headers=auth(factory.admin_token)).json["holders"]}
        assert holders == {farm["gln"]: 90}


def test_a_receipt_must_match_a_shipment_to_the_receiver(client, factory):
    """Producers get a 422 for receiving what nobody shipped to them; admin capture records a warning."""
    farm, mill = factory.party(), factory.party(roles=("mill",))
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"], quantity=100.0)
    item = {"gtin": product["gtin"], "lot": lot["lot"], "quantity": 30, "unit": "KGM"}
    unmatched = client.post("/api/v1/receipts", headers=auth(mill["token"]), json={
        "party_gln": mill["gln"], "source_gln": farm["gln"], "lots": [item]})
    assert unmatched.status_code == 422 and "shipped" in unmatched.json["error"]["message"]
    shipped = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": mill["gln"], "lots": [item]})
    assert shipped.status_code == 201, shipped.json
    received = client.post("/api/v1/receipts", headers=auth(mill["token"]), json={
        "party_gln": mill["gln"], "source_gln": farm["gln"], "lots": [item]})
    assert received.status_code == 201, received.json
    again = client.post("/api/v1/receipts", headers=auth(mill["token"]), json={
        "party_gln": mill["gln"], "source_gln": farm["gln"], "lots": [item]})
    assert again.status_code == 422

    g, other = gtin(), lot_code()
    job = _capture(client, factory.admin_token, document(
        commission(farm["gln"], g, other, 10), _receive(mill["gln"], farm["gln"], g, other, 4, "2026-09-22T08:00:00Z")))
    assert job["success"] and [w["code"] for w in job["warnings"]] == ["receipt"]
