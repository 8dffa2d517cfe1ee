"""GET /epcis/events: the SimpleEventQuery parameters of EPCIS 2.0 §8.2.7.1 beyond the indexed ones (ILMD and
extension fields, sensor data, bizTransactions, sources and destinations, error declarations, persistent
dispositions, place hierarchies, input/output classes, ordering and counts), each checked against the events the
test wrote, whose answers are known by construction."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from gs1.identifiers import Ref
from tests.capture.helpers import CONTEXT, commission, event_id, loc, lot_uri, ship
from tests.factories import auth, gtin, lot_code
from tests.gs1.examples import epcis_problems

NS = "https://example.org/tg-test/"
PROBLEM = {"Accept": "application/problem+json"}  # the binding's RFC 7807 answers


def _temperature(celsius: float) -> list[dict]:
    return [{"sensorMetadata": {"time": "2026-09-21T09:00:00+08:00", "deviceID": "urn:epc:id:giai:6990000.T1"},
             "sensorReport": [{"type": "gs1:Temperature", "value": celsius, "uom": "CEL"}]}]


@pytest.fixture
def chain(client, factory):
    """A farm's lot commissioned at a sub-location with ILMD, three shipments to a mill (one with a purchase order,
    a carrier and a warm reading, one with a cold reading and a persistent disposition, one that arrives declared
    erroneous) and a transformation into a second lot."""
    farm, mill = factory.party(), factory.party()
    g, lot, lot2 = gtin(), lot_code(), lot_code()
    po = f"urn:epcglobal:cbv:bt:{farm['gln']}:PO-{uuid.uuid4().hex[:8]}"
    sub = {"id": Ref("location", gln=farm["gln"], ext="7").digital_link()}
    e1 = commission(farm["gln"], g, lot, 100, when="2026-09-20T08:00:00+08:00", bizLocation=sub,
                    ilmd={"ex:grade": "A", "ex:moisture": 14.5})
    e2 = ship(farm["gln"], mill["gln"], g, lot, 10, when="2026-09-21T10:00:00+08:00",
              bizTransactionList=[{"type": "po", "bizTransaction": po}], sensorElementList=_temperature(9.5),
              **{"ex:carrier": "Jilin Cold"})
    e3 = ship(farm["gln"], mill["gln"], g, lot, 10, when="2026-09-21T09:00:00+08:00",
              sensorElementList=_temperature(3.0), persistentDisposition={"set": ["completeness_inferred"]})
    e4 = ship(farm["gln"], mill["gln"], g, lot, 10, when="2026-09-21T11:00:00+08:00",
              errorDeclaration={"declarationTime": "2026-09-22T08:00:00+08:00", "reason": "incorrect_data"})
    e5 = {"type": "TransformationEvent", "eventID": event_id(), "eventTime": "2026-09-23T08:00:00+08:00",
          "eventTimeZoneOffset": "+08:00", "bizStep": "commissioning",
          "inputQuantityList": [{"epcClass": lot_uri(g, lot), "quantity": 5, "uom": "KGM"}],
          "outputQuantityList": [{"epcClass": lot_uri(g, lot2), "quantity": 4, "uom": "KGM"}],
          "readPoint": loc(farm["gln"]), "bizLocation": loc(farm["gln"])}
    doc = {"@context": [*CONTEXT, {"ex": NS}], "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-09-23T08:00:00Z", "epcisBody": {"eventList": [e1, e2, e3, e4, e5]}}
    response = client.post("/epcis/capture", json=doc, headers=auth(factory.admin_token))
    assert response.status_code == 202 and response.json["success"], response.json
    ids = {name: ev["eventID"] for name, ev in zip(("e1", "e2", "e3", "e4", "e5"), (e1, e2, e3, e4, e5), strict=True)}
    base = f"MATCH_anyEPCClass={quote(lot_uri(g, lot), safe='')}|{quote(lot_uri(g, lot2), safe='')}"
    return {"farm": farm, "mill": mill, "g": g, "lot": lot, "lot2": lot2, "po": po, "ids": ids, "base": base,
            "times": {"e1": "2026-09-20T00", "e2": "2026-09-21T02", "e3": "2026-09-21T01", "e4": "2026-09-21T03",
                      "e5": "2026-09-23T00"}}


def _found(client, token, url, headers=None) -> list[str]:
    response = client.get(url, headers={**auth(token), **(headers or {})})
    assert response.status_code == 200, response.json
    assert epcis_problems(response.json) == []
    return [e["eventID"] for e in response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def _names(chain, ids) -> set[str]:
    back = {v: k for k, v in chain["ids"].items()}
    return {back[i] for i in ids}


@pytest.mark.parametrize(("params", "expected"), [
    ("", {"e1", "e2", "e3", "e4", "e5"}),
    (f"EQ_ILMD_{quote(NS, safe='')}grade=A", {"e1"}),
    (f"EQ_ILMD_{quote(NS, safe='')}grade=B", set()),
    (f"GT_ILMD_{quote(NS, safe='')}moisture=14", {"e1"}),
    (f"LT_ILMD_{quote(NS, safe='')}moisture=14", set()),
    (f"EXISTS_ILMD_{quote(NS, safe='')}grade=", {"e1"}),
    (f"EQ_{quote(NS, safe='')}carrier=Jilin%20Cold", {"e2"}),
    (f"EXISTS_{quote(NS, safe='')}carrier=", {"e2"}),
    ("EQ_type=gs1:Temperature", {"e2", "e3"}),
    ("GT_value_CEL=8", {"e2"}),
    ("LE_value_CEL=3", {"e3"}),
    ("GE_value_FAH=45", {"e2"}),  # 9.5 CEL is 49.1 FAH, 3 CEL 37.4 FAH
    ("EQ_deviceID=urn:epc:id:giai:6990000.T1&LT_value_CEL=5", {"e3"}),
    ("GE_time=2026-09-21T00:00:00%2B08:00", {"e2", "e3"}),
    ("EQ_persistentDisposition_set=completeness_inferred", {"e3"}),
    ("EQ_persistentDisposition_unset=completeness_inferred", set()),
    ("EXISTS_errorDeclaration=", {"e4"}),
    ("EQ_errorReason=incorrect_data", {"e4"}),
    ("EQ_errorReason=did_not_occur", set()),
    ("GE_errorDeclarationTime=2026-09-22T00:00:00Z", {"e4"}),
    ("LT_errorDeclarationTime=2026-09-22T00:00:00Z", set()),
    ("EXISTS_sensorElementList=", {"e2", "e3"}),
    ("MATCH_inputEPCClass={lot}", {"e5"}),
    ("MATCH_outputEPCClass={lot2}", {"e5"}),
    ("MATCH_outputEPCClass={lot}", set()),
    ("GE_quantity=100", {"e1"}),
    ("LT_quantity=5", {"e5"}),
    ("eventType=TransformationEvent", {"e5"}),
])
def test_each_parameter_selects_exactly_its_events(client, factory, chain, params, expected):
    params = params.format(lot=quote(lot_uri(chain["g"], chain["lot"]), safe=""),
                           lot2=quote(lot_uri(chain["g"], chain["lot2"]), safe=""))
    url = f"/epcis/events?{chain['base']}&{params}&perPage=100"
    assert _names(chain, _found(client, factory.admin_token, url)) == expected


def test_business_transaction_and_destination(client, factory, chain):
    url = f"/epcis/events?{chain['base']}&EQ_bizTransaction_po={quote(chain['po'], safe='')}"
    assert _names(chain, _found(client, factory.admin_token, url)) == {"e2"}
    mill = Ref("party", gln=chain["mill"]["gln"]).digital_link()
    url = f"/epcis/events?{chain['base']}&EQ_destination_owning_party={quote(mill, safe='')}"
    assert _names(chain, _found(client, factory.admin_token, url)) == {"e2", "e3", "e4"}
    # The same party as an SGLN-style URN key is the same destination.
    url = f"/epcis/events?{chain['base']}&EQ_source_owning_party={quote(mill, safe='')}"
    assert _names(chain, _found(client, factory.admin_token, url)) == set()


def test_a_prefix_declared_in_gs1_extensions_names_a_field(client, factory, chain):
    url = f"/epcis/events?{chain['base']}&EQ_ILMD_tgx:grade=A"
    assert _names(chain, _found(client, factory.admin_token, url, {"GS1-Extensions": f"tgx={NS}"})) == {"e1"}
    undeclared = client.get(url.replace("tgx:", "nope:"), headers=auth(factory.admin_token))
    assert undeclared.status_code == 200 and undeclared.json["epcisBody"]["queryResults"]["resultsBody"][
        "eventList"] == []


def test_within_descendants_takes_sub_locations(client, factory, chain):
    farm = chain["farm"]["gln"]
    sgln = f"urn:epc:id:sgln:{farm[:7]}.{farm[7:12]}.0"
    exact = _found(client, factory.admin_token, f"/epcis/events?{chain['base']}&EQ_bizLocation={sgln}")
    within = _found(client, factory.admin_token, f"/epcis/events?{chain['base']}&WD_bizLocation={sgln}")
    assert _names(chain, exact) == {"e5"}
    assert _names(chain, within) == {"e1", "e5"}
    assert _names(chain, _found(client, factory.admin_token, f"/epcis/events?{chain['base']}&WD_readPoint={sgln}")) \
        == {"e1", "e2", "e3", "e4", "e5"}


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_order_by_event_time_in_either_direction_across_pages(client, factory, chain, direction):
    expected = sorted(chain["ids"], key=lambda n: chain["times"][n], reverse=direction == "DESC")
    url = f"/epcis/events?{chain['base']}&orderBy=eventTime&orderDirection={direction}&perPage=2"
    seen: list[str] = []
    while url:
        response = client.get(url, headers=auth(factory.admin_token))
        assert response.status_code == 200, response.json
        seen += [e["eventID"] for e in response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert seen == [chain["ids"][n] for n in expected]


def test_event_count_limit_takes_the_first_n_across_pages(client, factory, chain):
    expected = sorted(chain["ids"], key=lambda n: chain["times"][n], reverse=True)[:3]
    url = f"/epcis/events?{chain['base']}&orderBy=eventTime&eventCountLimit=3&perPage=2"
    first = client.get(url, headers=auth(factory.admin_token))
    link = first.headers["Link"]
    second = client.get(link[1:link.index(">")], headers=auth(factory.admin_token))
    assert "Link" not in second.headers
    ids = [e["eventID"] for r in (first, second) for e in r.json["epcisBody"]["queryResults"]["resultsBody"][
        "eventList"]]
    assert ids == [chain["ids"][n] for n in expected]


def test_paging_through_document_predicates_finds_each_match_once(client, factory, chain):
    url = f"/epcis/events?{chain['base']}&EQ_type=gs1:Temperature&perPage=1"
    seen: list[str] = []
    while url:
        response = client.get(url, headers=auth(factory.admin_token))
        seen += [e["eventID"] for e in response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert sorted(seen) == sorted([chain["ids"]["e2"], chain["ids"]["e3"]])


def test_max_event_count_exceeded_is_query_too_large(client, factory, chain):
    response = client.get(f"/epcis/events?{chain['base']}&maxEventCount=4",
                          headers={**auth(factory.admin_token), **PROBLEM})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.json["type"] == "epcisException:QueryTooLargeException" and response.json["status"] == 413
    fits = client.get(f"/epcis/events?{chain['base']}&maxEventCount=5", headers=auth(factory.admin_token))
    assert fits.status_code == 200


@pytest.mark.parametrize("params", [
    "EQ_colour=red", "GT_value_CEL=warm", "orderDirection=UP&orderBy=eventTime", "orderBy=colour",
    "eventCountLimit=2", "eventCountLimit=2&maxEventCount=3&orderBy=eventTime", "GE_time=yesterday",
    "EQ_ILMD_grade=A", "LT_errorDeclarationTime=soon", "EQ_bizTransaction_=x",
])
def test_a_parameter_outside_the_standard_is_a_query_parameter_exception(client, factory, params):
    response = client.get(f"/epcis/events?{params}", headers=auth(factory.admin_token))
    assert response.status_code == 400, response.json
    assert response.json["error"]["errors"]["query"]  # the service's one error shape by default
    problem = client.get(f"/epcis/events?{params}", headers={**auth(factory.admin_token), **PROBLEM})
    assert problem.status_code == 400 and problem.mimetype == "application/problem+json"
    assert problem.json["type"] == "epcisException:QueryParameterException" and problem.json["errors"]["query"]


def test_a_party_reads_only_its_own_events_through_every_parameter(client, factory, chain):
    stranger = factory.party()
    for params in ("EXISTS_errorDeclaration=", "EQ_type=gs1:Temperature", "orderBy=eventTime"):
        url = f"/epcis/events?{chain['base']}&{params}"
        assert _found(client, stranger["token"], url) == []
        assert _found(client, chain["farm"]["token"], url)


def test_a_named_query_keeps_the_prefixes_its_creator_declared(client, factory, chain):
    name = f"q{uuid.uuid4().hex[:10]}"
    lots = [lot_uri(chain["g"], chain["lot"]), lot_uri(chain["g"], chain["lot2"])]
    body = {"name": name, "query": {"EQ_ILMD_tgx:grade": ["A"], "MATCH_anyEPCClass": lots}}
    created = client.post("/epcis/queries", json=body,
                          headers={**auth(factory.admin_token), "GS1-Extensions": f"tgx={NS}"})
    assert created.status_code == 201, created.json
    assert _names(chain, _found(client, factory.admin_token, f"/epcis/queries/{name}/events")) == {"e1"}
    assert client.get(f"/epcis/queries/{name}", headers=auth(factory.admin_token)).json == body
