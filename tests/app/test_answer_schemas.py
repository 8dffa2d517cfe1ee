"""Answers written by orjson (jsonify) match the schema their route documents, through the real app.

These routes document a marshmallow schema (alt_response) but skip serialising through it to save time; so the
schema only describes the answer. Each test fetches a real answer and validates it against that schema: no
undocumented key at any level (marshmallow raises on unknown keys, nested schemas too), every value of the
documented type, and every field the schema documents present at the top.
"""

from __future__ import annotations

import pytest
from marshmallow import Schema

from app.schemas.recalls import RecallOut
from app.schemas.trace import TraceOut
from graph import tokens
from gs1.schema import schema_available, validate_document
from gs1.structure import structure_problems
from tests.factories import auth


def assert_matches(schema: Schema, answer: dict) -> None:
    """The answer has exactly the schema's top-level fields, and validates against it all the way down."""
    documented = {field.data_key or name for name, field in schema.fields.items()}
    assert set(answer) == documented, f"undocumented: {set(answer) - documented}, missing: {documented - set(answer)}"
    assert schema.validate(answer) == {}


@pytest.fixture(scope="module")
def regulator(graph):
    """A regulator's token."""
    return tokens.create(graph, "regulator", None, "answer schemas")["token"]


@pytest.fixture
def chain(client, factory):
    """A farm's lot, 40 of its 100 kg shipped to a shop, and two serialized items printed for it."""
    farm = factory.party(roles=("farm",))
    shop = factory.party(roles=("retailer",))
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"], 100.0)
    shipped = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": shop["gln"],
        "lots": [{"gtin": lot["gtin"], "lot": lot["lot"], "quantity": 40.0}]})
    assert shipped.status_code in (200, 201), shipped.json
    printed = client.post(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/print-runs", json={"count": 2},
                          headers={**auth(farm["token"]), "Accept": "application/json"})
    assert printed.status_code == 201, printed.json
    return {"farm": farm, "shop": shop, "lot": lot, "serial": printed.json["items"][0]["serial"]}


def _open_recall(client, regulator, chain) -> dict:
    response = client.post("/api/v1/recalls", headers=auth(regulator), json={
        "lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}], "level": 2,
        "reason": "answer schema test"})
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("direction", ["back", "forward", "both"])
def test_lot_trace_answer_matches_trace_out(client, regulator, chain, direction):
    lot = chain["lot"]
    response = client.get(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/trace?direction={direction}",
                          headers=auth(regulator))
    assert response.status_code == 200
    assert response.json["nodes"]
    assert_matches(TraceOut(), response.json)


def test_item_trace_answer_matches_trace_out(client, regulator, chain):
    response = client.get(f"/api/v1/items/{chain['lot']['gtin']}/{chain['serial']}/trace?direction=both",
                          headers=auth(regulator))
    assert response.status_code == 200
    assert_matches(TraceOut(), response.json)


def test_trace_answer_seen_by_a_producer_matches_trace_out(client, chain):
    lot = chain["lot"]
    response = client.get(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/trace", headers=auth(chain["farm"]["token"]))
    assert response.status_code == 200
    assert_matches(TraceOut(), response.json)


def test_epcis_trace_export_is_a_valid_epcis_document(client, regulator, chain):
    # The one export written by jsonify: its documented contract is the EPCIS 2.0 JSON schema.
    lot = chain["lot"]
    response = client.get(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/trace/export?format=epcis",
                          headers=auth(regulator))
    assert response.status_code == 200
    document = response.get_json(force=True)
    assert document["epcisBody"]["eventList"]
    # our own structural rules always; GS1's schema as well where its file is (../shared/epcis/)
    assert structure_problems(document) == []
    if schema_available():
        assert validate_document(document) == []


def test_opened_recall_answer_matches_recall_out(client, regulator, chain):
    case = _open_recall(client, regulator, chain)
    assert case["holders"]
    assert_matches(RecallOut(), case)


@pytest.mark.parametrize("who", ["regulator", "holder"])
def test_recall_case_answer_matches_recall_out(client, regulator, chain, who):
    case = _open_recall(client, regulator, chain)
    token = regulator if who == "regulator" else chain["shop"]["token"]
    response = client.get(f"/api/v1/recalls/{case['recall_id']}", headers=auth(token))
    assert response.status_code == 200
    assert_matches(RecallOut(), response.json)


def test_acknowledged_recall_answer_matches_recall_out(client, regulator, chain):
    case = _open_recall(client, regulator, chain)
    shop = chain["shop"]
    response = client.post(f"/api/v1/recalls/{case['recall_id']}/acknowledgements", headers=auth(shop["token"]),
                           json={"party_gln": shop["gln"], "quantity_removed": 40.0, "quantity_recovered": 38.5,
                                 "unit": "KGM", "gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]})
    assert response.status_code == 201, response.json
    assert_matches(RecallOut(), response.json)


def test_closed_recall_answer_matches_recall_out(client, regulator, chain):
    case = _open_recall(client, regulator, chain)
    response = client.post(f"/api/v1/recalls/{case['recall_id']}/close", headers=auth(regulator),
                           json={"note": "all stock recovered"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "closed"
    assert_matches(RecallOut(), response.json)
