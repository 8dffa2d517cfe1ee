"""The producer-friendly endpoints record standard EPCIS events through the one write path."""

from __future__ import annotations

from graph import lots
from tests.capture.helpers import event_path
from tests.factories import auth, gln, lot_code


def _chain(factory):
    farm, mill = factory.party(), factory.party(roles=("mill",))
    paddy = factory.product(farm["gln"])
    rice = factory.product(mill["gln"])
    lot = factory.lot(paddy["gtin"], farm["gln"], quantity=100.0)
    return farm, mill, paddy, rice, lot


def _holders(client, gtin_, lot):
    # the holders are private (the anonymous lot view leaves them out): read them as the store keeps them
    return {h["gln"]: h["quantity"] for h in lots.get(client.application.extensions["graph"], gtin_, lot)["holders"]}


def test_ship_receive_transform_sell_reads_back_as_epcis(client, factory):
    farm, mill, paddy, rice, lot = _chain(factory)
    paddy_lot = {"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 60, "unit": "KGM"}
    shipped = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": mill["gln"], "lots": [paddy_lot],
        "documents": [{"type": "desadv", "id": "DN-1"}, {"type": "inv", "id": "INV-1"}]})
    assert shipped.status_code == 201, shipped.json
    received = client.post("/api/v1/receipts", headers=auth(mill["token"]), json={
        "party_gln": mill["gln"], "source_gln": farm["gln"], "lots": [paddy_lot]})
    assert received.status_code == 201, received.json
    assert _holders(client, paddy["gtin"], lot["lot"]) == {farm["gln"]: 40, mill["gln"]: 60}
    out = lot_code()
    milled = client.post("/api/v1/transformations", headers=auth(mill["token"]), json={
        "party_gln": mill["gln"], "inputs": [paddy_lot],
        "outputs": [{"gtin": rice["gtin"], "lot": out, "quantity": 40, "unit": "KGM"}]})
    assert milled.status_code == 201, milled.json
    assert _holders(client, rice["gtin"], out) == {mill["gln"]: 40}
    sold = client.post("/api/v1/dispositions", headers=auth(mill["token"]), json={
        "party_gln": mill["gln"], "kind": "sold", "lots": [{"gtin": rice["gtin"], "lot": out, "quantity": 5}]})
    assert sold.status_code == 201, sold.json
    assert _holders(client, rice["gtin"], out) == {mill["gln"]: 35}

    eid = shipped.json["event_ids"][0]
    doc = client.get(event_path(eid), headers=auth(farm["token"])).json
    event = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    assert event["type"] == "ObjectEvent" and event["bizStep"] == "shipping"
    assert [b["type"] for b in event["bizTransactionList"]] == ["desadv", "inv"]
    from tests.gs1.examples import epcis_problems

    assert epcis_problems(doc) == []
    lineage = client.application.extensions["graph"].query(
        "MATCH (:Lot {key: $a})-[t:TRANSFORMED_INTO]->(:Lot {key: $b}) RETURN t.event_id AS e", read=True,
        a=f"lot:{paddy['gtin']}:{lot['lot']}", b=f"lot:{rice['gtin']}:{out}")
    assert [r["e"] for r in lineage] == milled.json["event_ids"]


def test_refusals_are_422_naming_the_problem_and_write_nothing(client, factory):
    farm, mill, paddy, rice, lot = _chain(factory)
    too_much = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": mill["gln"],
        "lots": [{"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 101}]})
    assert too_much.status_code == 422
    assert "holds 100" in too_much.json["error"]["message"]
    unknown_party = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": gln(),
        "lots": [{"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 1}]})
    assert unknown_party.status_code == 422 and "no party" in unknown_party.json["error"]["message"]
    unknown_lot = client.post("/api/v1/dispositions", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "kind": "destroyed",
        "lots": [{"gtin": paddy["gtin"], "lot": lot_code(), "quantity": 1}]})
    assert unknown_lot.status_code in (403, 422)
    greedy = client.post("/api/v1/transformations", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "inputs": [{"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 10}],
        "outputs": [{"gtin": paddy["gtin"], "lot": lot_code(), "quantity": 20}]})
    assert greedy.status_code == 422 and "yield" in greedy.json["error"]["message"]
    future = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": mill["gln"], "event_time": "2099-01-01T00:00:00+08:00",
        "lots": [{"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 1}]})
    assert future.status_code == 422 and "future" in future.json["error"]["message"]
    assert _holders(client, paddy["gtin"], lot["lot"]) == {farm["gln"]: 100}


def test_a_recalled_lot_cannot_be_shipped(client, factory, graph):
    farm, mill, paddy, _, lot = _chain(factory)
    graph.query("MATCH (l:Lot {key: $k}) SET l.status = 'recalled'", k=f"lot:{paddy['gtin']}:{lot['lot']}")
    response = client.post("/api/v1/shipments", headers=auth(factory.admin_token), json={
        "party_gln": farm["gln"], "destination_gln": mill["gln"],
        "lots": [{"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 1}]})
    assert response.status_code == 422 and "recalled" in response.json["error"]["message"]


def test_a_producer_may_not_ship_for_another_party(client, factory):
    farm, mill, paddy, _, lot = _chain(factory)
    response = client.post("/api/v1/shipments", headers=auth(mill["token"]), json={
        "party_gln": farm["gln"], "destination_gln": mill["gln"],
        "lots": [{"gtin": paddy["gtin"], "lot": lot["lot"], "quantity": 1}]})
    assert response.status_code == 403


def test_registering_a_lot_records_its_commissioning_event(client, factory):
    farm = factory.party(roles=("slaughterhouse",))
    beef = factory.product(farm["gln"], category="beef")
    body = {"gtin": beef["gtin"], "lot": lot_code(), "quantity": 250, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": farm["gln"], "origin": "slaughter",
            "animal_ids": ["YB-0001", "YB-0002"], "quarantine_certificate": "JL-2026-7781"}
    created = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    assert created.status_code == 201, created.json
    assert _holders(client, beef["gtin"], body["lot"]) == {farm["gln"]: 250}
    found = client.get(f"/epcis/events?MATCH_outputEPC=https://id.gs1.org/01/{beef['gtin']}/10/{body['lot']}",
                       headers=auth(farm["token"])).json
    events = found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == 1 and events[0]["type"] == "TransformationEvent"
    assert len(events[0]["inputEPCList"]) == 2
    no_cert = {**body, "lot": lot_code(), "quarantine_certificate": None}
    assert client.post("/api/v1/lots", json=no_cert, headers=auth(farm["token"])).status_code == 422


def test_labs_record_inspections_of_lots_for_their_own_lab_only(client, factory):
    farm, _, paddy, _, lot = _chain(factory)
    lab, other_lab = factory.party(roles=("lab",), role="lab"), factory.party(roles=("lab",), role="lab")
    body = {"lab_gln": lab["gln"], "gtin": paddy["gtin"], "lot": lot["lot"], "report_no": lot_code(),
            "sample_id": "S-1", "date": "2026-09-25", "standard": "GB 2762-2022", "verdict": "pass",
            "results": [{"item": "cadmium", "value": 0.05, "limit": 0.2, "unit": "mg/kg", "pass": True}]}
    done = client.post("/api/v1/inspections", json=body, headers=auth(lab["token"]))
    assert done.status_code == 201, done.json
    assert client.post("/api/v1/inspections", json=body, headers=auth(lab["token"])).status_code == 409
    assert client.post("/api/v1/inspections", json={**body, "report_no": "X"},
                       headers=auth(other_lab["token"])).status_code == 403
    assert client.post("/api/v1/inspections", json={**body, "report_no": "Y"},
                       headers=auth(farm["token"])).status_code == 403
    event = client.get(event_path(done.json["event_id"]), headers=auth(lab["token"])).json
    assert event["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["bizStep"] == "inspecting"


def test_certificates_by_admin_or_a_certifier(client, factory):
    farm, _, paddy, _, lot = _chain(factory)
    certifier = factory.party(roles=("certifier",))
    body = {"type": "green_food", "number": lot_code(), "issuer_gln": certifier["gln"],
            "valid_from": "2026-01-01", "valid_until": "2028-12-31", "gtin": paddy["gtin"], "lot": lot["lot"]}
    assert client.post("/api/v1/certificates", json=body, headers=auth(certifier["token"])).status_code == 201
    assert client.post("/api/v1/certificates", json={**body, "number": "N2", "issuer_gln": farm["gln"]},
                       headers=auth(farm["token"])).status_code == 403
    assert client.post("/api/v1/certificates", json={**body, "number": "N3"},
                       headers=auth(factory.admin_token)).status_code == 201
