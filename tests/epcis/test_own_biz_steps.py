"""The service's own bizSteps (harvesting, slaughtering: not CBV 2.0 words) on the EPCIS wire (issue 17, D8 of
docs/gs1_openapi.md): captured as a bare word, a URI of our namespace or its CURIE, they are stored as the word, found
by EQ_bizStep in either form, and written out as the URI, in JSON and XML answers and in exports, so that GS1's JSON
schema (which takes only CBV's words or a URI there) accepts the answer. Real app, real Neo4j."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from gs1.schema import schema_available, schema_path
from tests.capture.helpers import CONTEXT, commission, document, event_path, loc
from tests.factories import auth, lot_code

# Written out here, not taken from gs1/epcis.py: the URIs a client sees and may send.
NS = "https://tracegraph.example/ns/"
HARVESTING = NS + "BizStep-harvesting"
SLAUGHTERING = NS + "BizStep-slaughtering"


def _capture(client, token, event, context=CONTEXT) -> None:
    response = client.post("/epcis/capture", json={**document(event), "@context": context}, headers=auth(token))
    assert response.status_code == 202 and response.json["success"], response.json


@pytest.fixture
def farm_events(client, factory):
    """A farm's harvests captured as the bare word and as our URI, and a slaughter as our CURIE."""
    farm = factory.party()
    gtin = factory.product(farm["gln"])["gtin"]
    plain = commission(farm["gln"], gtin, lot_code(), 10, bizStep="harvesting")
    uri = commission(farm["gln"], gtin, lot_code(), 20, bizStep=HARVESTING)
    curie = commission(farm["gln"], gtin, lot_code(), 30, bizStep="tracegraph:BizStep-slaughtering")
    _capture(client, farm["token"], plain)
    _capture(client, farm["token"], uri)
    _capture(client, farm["token"], curie, [*CONTEXT, {"tracegraph": NS}])
    return farm, plain, uri, curie


def _query(client, token, **params) -> dict:
    response = client.get("/epcis/events", query_string=params, headers=auth(token))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.json


def _events(answer: dict) -> dict[str, dict]:
    return {e["eventID"]: e for e in answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}


def test_both_forms_are_found_by_either_form_and_read_back_as_the_uri(client, farm_events):
    farm, plain, uri, curie = farm_events
    place = loc(farm["gln"])["id"]
    harvests = {plain["eventID"], uri["eventID"]}
    for step in ("harvesting", HARVESTING):
        found = _events(_query(client, farm["token"], EQ_bizLocation=place, EQ_bizStep=step))
        assert set(found) == harvests, step
        assert {e["bizStep"] for e in found.values()} == {HARVESTING}, found
    for step in ("slaughtering", SLAUGHTERING):
        found = _events(_query(client, farm["token"], EQ_bizLocation=place, EQ_bizStep=step))
        assert set(found) == {curie["eventID"]}, step
    # one event by its ID, and the binding's /bizSteps/{bizStep}/events resource with the URI
    one = client.get(event_path(plain["eventID"]), headers=auth(farm["token"])).json
    assert _events(one)[plain["eventID"]]["bizStep"] == HARVESTING
    by_resource = client.get(f"/epcis/bizSteps/{quote(HARVESTING, safe='')}/events",
                             query_string={"EQ_bizLocation": place}, headers=auth(farm["token"]))
    assert set(_events(by_resource.json)) == harvests, by_resource.json


def test_the_answer_validates_against_gs1_schema_with_formats(client, farm_events):
    """GS1's schema with its `format: uri` checked (as a strict client and schemathesis check it): a bare
    `harvesting` is refused there; our URI is accepted."""
    if not schema_available():
        pytest.skip(f"GS1's EPCIS JSON schema is not at {schema_path()} (../shared/epcis absent)")
    import jsonschema_rs

    with schema_path().open(encoding="utf-8") as fh:
        strict = jsonschema_rs.Draft7Validator(json.load(fh), validate_formats=True)
    farm = farm_events[0]
    answer = _query(client, farm["token"], EQ_bizLocation=loc(farm["gln"])["id"])
    assert len(_events(answer)) == 3
    assert [e.message[:200] for e in strict.iter_errors(answer)] == []
    bare = json.loads(json.dumps(answer))
    bare["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["bizStep"] = "harvesting"
    assert not strict.is_valid(bare)  # the check can fail: the word itself is what GS1's schema refuses


@pytest.mark.parametrize("cbv_format", ["Always_URN", "Always_Web_URI"])
def test_xml_answers_write_our_uri_never_a_cbv_term(client, farm_events, cbv_format):
    farm, plain, _, _ = farm_events
    response = client.get(event_path(plain["eventID"]), headers={**auth(farm["token"]), "Accept": "application/xml",
                                                                  "GS1-CBV-XML-Format": cbv_format})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "application/xml", body[:300]
    assert f"<bizStep>{HARVESTING}</bizStep>" in body, body
    assert "bizstep:harvesting" not in body and "BizStep-harvesting<" not in body.replace(HARVESTING, "")


def test_the_epcis_trace_export_writes_our_uri(client, farm_events, admin_token):
    _, plain, _, _ = farm_events
    lot_class = plain["quantityList"][0]["epcClass"]
    gtin, lot = lot_class.split("/01/")[1].split("/10/")
    response = client.get(f"/api/v1/lots/{gtin}/{lot}/trace/export?format=epcis", headers=auth(admin_token))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    events = response.get_json(force=True)["epcisBody"]["eventList"]
    assert [e["bizStep"] for e in events if e["eventID"] == plain["eventID"]] == [HARVESTING], events


def test_the_biz_steps_resource_lists_our_own_steps_as_uris_beside_cbvs_across_pages(client, admin_token):
    listed, url = [], "/epcis/bizSteps?perPage=7"
    while url:
        answer = client.get(url, headers=auth(admin_token))
        assert answer.status_code == 200
        listed += answer.json["member"]
        link = answer.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert HARVESTING in listed and SLAUGHTERING in listed
    assert {"commissioning", "shipping", "receiving", "retail_selling"} <= set(listed)
    assert "harvesting" not in listed and len(listed) == len(set(listed))  # the word only as its URI, each once
