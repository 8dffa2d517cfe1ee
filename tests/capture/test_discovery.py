"""The REST binding's top-level resources and named queries: GET /epcis, /eventTypes, /epcs, /bizSteps,
/bizLocations, /readPoints, /dispositions with their members' events, paging, per-party reading; /queries."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from gs1.identifiers import Ref
from tests.capture.helpers import commission, document, lot_uri, ship
from tests.factories import auth, gtin, lot_code
from tests.gs1.examples import epcis_problems

# The binding's TopLevelResources enum (epcis-rest-openapi.yaml, components/schemas/TopLevelResources).
TOP_LEVEL = {"events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture",
             "queries"}
PROBLEM = {"Accept": "application/problem+json"}  # the binding's RFC 7807 answers
EVENT_TYPES = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}


@pytest.fixture
def farm_chain(client, factory):
    farm, mill = factory.party(), factory.party()
    g, lot = gtin(), lot_code()
    evs = [commission(farm["gln"], g, lot, 50)] + [
        ship(farm["gln"], mill["gln"], g, lot, 1, when=f"2026-09-21T08:0{i}:00+08:00") for i in range(3)]
    response = client.post("/epcis/capture", json=document(*evs), headers=auth(factory.admin_token))
    assert response.status_code == 202 and response.json["success"]
    return {"farm": farm, "mill": mill, "g": g, "lot": lot, "evs": evs}


def _walk(client, token, url) -> tuple[list, int]:
    """Every member of a paged list, and how many pages it took."""
    members, pages = [], 0
    while url:
        response = client.get(url, headers=auth(token))
        assert response.status_code == 200, response.json
        assert response.json["type"] == "Collection"
        members += response.json["member"]
        pages += 1
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    return members, pages


def _event_ids(response) -> list[str]:
    assert response.status_code == 200, response.json
    assert epcis_problems(response.json) == []
    return [e["eventID"] for e in response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def test_top_level_lists_the_bindings_resources(client, factory):
    response = client.get("/epcis", headers=auth(factory.admin_token))
    assert response.status_code == 200
    assert set(response.json["member"]) == TOP_LEVEL and response.headers["GS1-EPCIS-Version"]
    assert client.get("/epcis").status_code == 401


def test_event_types_and_their_events(client, factory, farm_chain):
    members, _ = _walk(client, factory.admin_token, "/epcis/eventTypes?perPage=2")
    assert sorted(members) == sorted(EVENT_TYPES)
    assert client.get("/epcis/eventTypes/ObjectEvent", headers=auth(factory.admin_token)).json["member"] == ["events"]
    missing = client.get("/epcis/eventTypes/FooEvent", headers={**auth(factory.admin_token), **PROBLEM})
    assert missing.status_code == 404 and missing.json["type"] == "epcisException:NoSuchResourceException"
    lot = quote(lot_uri(farm_chain["g"], farm_chain["lot"]), safe="")
    found = client.get(f"/epcis/eventTypes/ObjectEvent/events?MATCH_epcClass={lot}", headers=auth(factory.admin_token))
    assert sorted(_event_ids(found)) == sorted(e["eventID"] for e in farm_chain["evs"])
    none = client.get(f"/epcis/eventTypes/AggregationEvent/events?MATCH_epcClass={lot}",
                      headers=auth(factory.admin_token))
    assert _event_ids(none) == []
    twice = client.get("/epcis/eventTypes/ObjectEvent/events?eventType=ObjectEvent", headers=auth(factory.admin_token))
    assert twice.status_code == 400


def test_biz_steps_and_dispositions_page_through_the_cbv(client, factory, farm_chain):
    steps, pages = _walk(client, factory.admin_token, "/epcis/bizSteps?perPage=10")
    assert pages > 1 and len(steps) == len(set(steps)) and {"shipping", "receiving", "commissioning"} <= set(steps)
    disps, _ = _walk(client, factory.admin_token, "/epcis/dispositions?perPage=7")
    assert len(disps) == len(set(disps)) and {"in_transit", "active", "recalled"} <= set(disps)
    lot = quote(lot_uri(farm_chain["g"], farm_chain["lot"]), safe="")
    shipped = client.get(f"/epcis/bizSteps/shipping/events?MATCH_epcClass={lot}", headers=auth(factory.admin_token))
    assert sorted(_event_ids(shipped)) == sorted(e["eventID"] for e in farm_chain["evs"][1:])
    active = client.get(f"/epcis/dispositions/active/events?MATCH_epcClass={lot}", headers=auth(factory.admin_token))
    assert _event_ids(active) == [farm_chain["evs"][0]["eventID"]]
    cbv = client.get(f"/epcis/bizSteps/urn:epcglobal:cbv:bizstep:shipping/events?MATCH_epcClass={lot}",
                     headers=auth(factory.admin_token))
    assert sorted(_event_ids(cbv)) == sorted(_event_ids(shipped))


def test_places_are_listed_per_party(client, factory, farm_chain):
    farm, mill = farm_chain["farm"], farm_chain["mill"]
    place = Ref("location", gln=farm["gln"]).digital_link()
    mine, _ = _walk(client, farm["token"], "/epcis/bizLocations?perPage=1")
    assert mine == [place]
    read_points, _ = _walk(client, farm["token"], "/epcis/readPoints")
    assert read_points == [place]
    assert _walk(client, mill["token"], "/epcis/bizLocations")[0] == []
    events = client.get(f"/epcis/readPoints/{quote(place, safe='')}/events", headers=auth(farm["token"]))
    assert sorted(_event_ids(events)) == sorted(e["eventID"] for e in farm_chain["evs"])
    assert client.get(f"/epcis/readPoints/{quote(place, safe='')}", headers=auth(farm["token"])).json["member"] \
        == ["events"]
    # The farm's place, asked for by a party that may not read the farm's events: nothing.
    assert _event_ids(client.get(f"/epcis/readPoints/{quote(place, safe='')}/events",
                                 headers=auth(factory.party()["token"]))) == []


def test_epcs_lists_the_objects_a_party_may_read(client, factory, farm_chain):
    lot = lot_uri(farm_chain["g"], farm_chain["lot"])
    members, _ = _walk(client, farm_chain["farm"]["token"], "/epcis/epcs")
    assert members == [lot]
    assert _walk(client, factory.party()["token"], "/epcis/epcs")[0] == []
    events = client.get(f"/epcis/epcs/{quote(lot, safe='')}/events", headers=auth(farm_chain["farm"]["token"]))
    assert sorted(_event_ids(events)) == sorted(e["eventID"] for e in farm_chain["evs"])
    bad = client.get("/epcis/epcs/not%20a%20uri/events", headers=auth(factory.admin_token))
    assert bad.status_code == 404


def test_a_bad_page_token_on_a_list_is_400(client, factory):
    response = client.get("/epcis/bizSteps?nextPageToken=zzz", headers=auth(factory.admin_token))
    assert response.status_code == 400
    assert client.get("/epcis/bizSteps?colour=red", headers=auth(factory.admin_token)).status_code == 400


def test_named_query_lifecycle(client, factory, farm_chain):
    farm = farm_chain["farm"]
    name = f"q{uuid.uuid4().hex[:10]}"
    lot = lot_uri(farm_chain["g"], farm_chain["lot"])
    body = {"name": name, "query": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping"],
                                    "MATCH_epcClass": [lot]}}
    created = client.post("/epcis/queries", json=body, headers=auth(farm["token"]))
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == f"/epcis/queries/{name}"
    again = client.post("/epcis/queries", json=body, headers={**auth(farm["token"]), **PROBLEM})
    assert again.status_code == 409 and again.json["type"] == "epcisException:ResourceAlreadyExistsException"
    assert client.get(f"/epcis/queries/{name}", headers=auth(farm["token"])).json == body
    listed, _ = _walk_queries(client, farm["token"])
    assert listed == [body]
    stranger = factory.party()
    assert client.get(f"/epcis/queries/{name}", headers=auth(stranger["token"])).status_code == 403
    assert client.get(f"/epcis/queries/{name}/events", headers=auth(stranger["token"])).status_code == 403
    assert client.get(f"/epcis/queries/{name}", headers=auth(factory.admin_token)).json == body
    events = client.get(f"/epcis/queries/{name}/events?perPage=2", headers=auth(farm["token"]))
    first = _event_ids(events)
    link = events.headers["Link"]
    rest = _event_ids(client.get(link[1:link.index(">")], headers=auth(farm["token"])))
    assert sorted(first + rest) == sorted(e["eventID"] for e in farm_chain["evs"][1:])
    extra = client.get(f"/epcis/queries/{name}/events?EQ_action=ADD", headers=auth(farm["token"]))
    assert extra.status_code == 400
    assert client.delete(f"/epcis/queries/{name}", headers=auth(stranger["token"])).status_code == 403
    assert client.delete(f"/epcis/queries/{name}", headers=auth(farm["token"])).status_code == 204
    assert client.get(f"/epcis/queries/{name}", headers=auth(farm["token"])).status_code == 404
    assert client.get(f"/epcis/queries/{name}/events", headers={**auth(farm["token"]), **PROBLEM}).json["type"] \
        == "epcisException:NoSuchNameException"


def _walk_queries(client, token):
    items, pages, url = [], 0, "/epcis/queries?perPage=1"
    while url:
        response = client.get(url, headers=auth(token))
        assert response.status_code == 200, response.json
        items += response.json
        pages += 1
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    return items, pages


@pytest.mark.parametrize("query", [{"EQ_colour": ["red"]}, {"GE_eventTime": "yesterday"}, {"EQ_bizStep": [{}]},
                                   {"orderBy": "colour"}])
def test_a_named_query_with_a_bad_parameter_is_refused_and_not_stored(client, factory, query):
    name = f"q{uuid.uuid4().hex[:10]}"
    response = client.post("/epcis/queries", json={"name": name, "query": query},
                           headers={**auth(factory.admin_token), **PROBLEM})
    assert response.status_code == 400, response.json
    assert response.json["type"] == "epcisException:QueryParameterException"
    plain = client.post("/epcis/queries", json={"name": name, "query": query}, headers=auth(factory.admin_token))
    assert plain.status_code == 400 and set(plain.json) == {"error"}
    assert client.get(f"/epcis/queries/{name}", headers=auth(factory.admin_token)).status_code == 404


def test_a_bad_query_name_is_400(client, factory):
    response = client.post("/epcis/queries", json={"name": "a/b c", "query": {}}, headers=auth(factory.admin_token))
    assert response.status_code == 400
