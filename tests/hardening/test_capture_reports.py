"""Bugs found while hardening the capture write path (graph/events.py), kept as regression tests once fixed."""

from __future__ import annotations

from tests.capture.helpers import commission, document, lot_uri, ship
from tests.factories import auth, lot_code


def test_consuming_everything_leaves_exactly_nothing_held(client, factory, graph, admin_token):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    events = [commission(farm["gln"], product["gtin"], lot, 0.1), commission(farm["gln"], product["gtin"], lot, 0.2)]
    consume = commission(farm["gln"], product["gtin"], lot, 0.3, when="2026-09-21T08:00:00+08:00")
    consume.update(action="DELETE", bizStep="destroying", disposition="destroyed")
    for doc in (document(*events), document(consume)):
        answer = client.post("/epcis/capture", json=doc, headers=auth(admin_token))
        assert answer.status_code == 202 and answer.get_json()["success"], answer.get_data(as_text=True)
    held = graph.query("MATCH (:Party {gln: $gln})-[h:HOLDS]->(:Lot {key: $key}) RETURN h.quantity AS q",
                       read=True, gln=farm["gln"], key=f"lot:{product['gtin']}:{lot}")
    assert held and lot_uri(product["gtin"], lot)
    # Binary floats would leave 0.1 + 0.2 - 0.3 = 5.6e-17 "held", and a recall would notify a party holding nothing.
    assert held[0]["q"] == 0


def test_an_erroneous_shipment_leaves_no_custody_edge_behind(client, factory, graph, admin_token):
    farm, dest = factory.party(), factory.party(roles=("distributor",))
    product = factory.product(farm["gln"])
    lot = lot_code()
    shipment = ship(farm["gln"], dest["gln"], product["gtin"], lot, 4.0)
    for doc in (document(commission(farm["gln"], product["gtin"], lot, 10.0)), document(shipment),
                document({**shipment, "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00+08:00",
                                                           "reason": "incorrect_data"}})):
        answer = client.post("/epcis/capture", json=doc, headers=auth(admin_token))
        assert answer.status_code == 202 and answer.get_json()["success"], answer.get_data(as_text=True)
    edges = graph.query("MATCH (:Party {gln: $gln})-[h:HOLDS]->(:Lot {key: $key}) RETURN h {.*} AS h", read=True,
                        gln=dest["gln"], key=f"lot:{product['gtin']}:{lot}")
    assert edges == []
