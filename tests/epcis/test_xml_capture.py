"""The EPCIS XML binding over HTTP (real app, real Neo4j): POST /epcis/capture with application/xml (EPCIS 2.0 and
1.2), GET /epcis/events and /epcis/events/{id} answering XML, and the refusals that write nothing.

GS1's examples name GS1's own demonstration identifiers (0614141..., 4012345...), which no test party owns: they are
captured by an admin, who may record about any object (docs/ownership.md), as tests/capture/test_conformance.py
captures GS1's JSON examples. The ownership rules for XML are shown with a producer and objects the factory made.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest

from graph import lots
from tests.capture.helpers import event_id, event_path, loc, lot_uri
from tests.epcis.xml_helpers import (
    _EVENT_START,
    example,
    leaves,
    normal,
    twin,
    with_fresh_ids,
    xml_events,
    xml_names,
)
from tests.factories import auth, lot_code
from tests.fingerprint import unchanged
from tests.gs1.examples import epcis_problems

XML = {"Content-Type": "application/xml"}
ACCEPT_XML = {"Accept": "application/xml"}
SENSOR = "WithSensorData/SensorDataExamples.xml"
SENSOR_WITHOUT_TYPE = 8  # its reports have no type: valid XML, refused by the JSON binding's rules (SOURCE.md)


def _post(client, token, body: str | bytes, content_type="application/xml", **headers):
    return client.post("/epcis/capture", data=body, headers={**auth(token), "Content-Type": content_type, **headers})


def _job(client, token, response) -> dict:
    assert response.status_code == 202, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"], headers=auth(token)).json


def _without_event(text: str, index: int) -> str:
    head, *chunks = _EVENT_START.split(text)
    last = chunks[-1]
    tail = last[last.index("</EventList>"):] if index == len(chunks) - 1 else ""
    del chunks[index]
    return head + "".join(chunks) + tail


def _capturable(name: str) -> str:
    text = example(name).decode("utf-8-sig")
    return _without_event(text, SENSOR_WITHOUT_TYPE) if name == SENSOR else text


_LOT_OR_SERIAL = re.compile(r"(urn:epc:(?:class:lgtin|id:sgtin):\d+\.\d+\.)([^<\s\"*]+)")


def _own_lots(text: str) -> str:
    """The document with every lot and serial number given a suffix of this test's own (lots stay <= 20 characters).

    GS1's examples share lots and serials with each other and with tests/capture/test_conformance.py; in the shared
    database one example's transformation (lot 987 -> 4444) and another's (4444 -> 987) would make a cycle, which
    capture refuses even for an admin. Renaming consistently within the document keeps every relation it states."""
    suffix = uuid.uuid4().hex[:5]
    return _LOT_OR_SERIAL.sub(lambda m: f"{m[1]}{m[2]}-{suffix}", text)


def _json_event(client, token, eid: str) -> dict:
    got = client.get(event_path(eid), headers=auth(token))
    assert got.status_code == 200, got.json
    assert epcis_problems(got.json) == []
    [event] = got.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["eventID"] == eid
    return event


def _without(pairs: list[tuple], *names: str) -> list[tuple]:
    return [p for p in pairs if not any(part in names for part in p[:-1])]


SELF_CYCLE = "WithFullCombinationOfFields/transformation_event_all_possible_fields.xml"
CAPTURED = [n for n in xml_names("2.0") + xml_names("1.2") if n not in ("1.2/AssociationEvent.xml", SELF_CYCLE)]


@pytest.mark.parametrize("name", CAPTURED)
def test_each_gs1_xml_example_captures_reads_back_as_xml_and_resends_as_the_same_events(client, admin_token, name):
    text, ids = with_fresh_ids(_own_lots(_capturable(name)))
    job = _job(client, admin_token, _post(client, admin_token, text))
    assert job["success"], job["errors"]
    assert job["capturedCount"] == len(ids)
    sent = xml_events(text.encode())
    for eid, original in zip(ids, sent, strict=True):
        _json_event(client, admin_token, eid)
        got = client.get(event_path(eid), headers={**auth(admin_token), **ACCEPT_XML})
        assert got.status_code == 200
        assert got.mimetype == "application/xml"
        [back] = xml_events(got.data)
        # every value sent comes back (the server adds recordTime; the 1.2 wrappers are gone from the paths)
        assert _without(leaves(back), "recordTime") == _without(leaves(original), "recordTime")
    # XML out -> XML in: the query document, captured again, is the same events (duplicates, no conflict)
    listed = client.get("/epcis/events?" + urlencode([*(("EQ_eventID", i) for i in ids), ("perPage", 100)]),
                        headers={**auth(admin_token), **ACCEPT_XML})
    assert listed.status_code == 200
    again = _job(client, admin_token, _post(client, admin_token, listed.data))
    assert again["success"], again["errors"]
    assert (again["capturedCount"], again["duplicateCount"]) == (0, len(ids))


@pytest.mark.parametrize(("xml", "json_twin"), [
    ("Example_9.6.1-ObjectEvent-2020_06_18a.xml", "Example_9.6.1-ObjectEvent.jsonld"),
    ("Example-PersistentDisposition.xml", "PersistentDisposition-example.jsonld"),
    ("1.2/ObjectEvent.xml", "Example_9.6.1-ObjectEvent.jsonld"),
])
def test_a_document_captured_as_xml_reads_back_in_json_as_gs1s_json_twin(client, admin_token, xml, json_twin):
    text, ids = with_fresh_ids(example(xml).decode())
    job = _job(client, admin_token, _post(client, admin_token, text, "text/xml"))
    assert job["success"], job["errors"]
    expected = [dict(ev) for ev in twin(json_twin)["epcisBody"]["eventList"]]
    if xml.startswith("1.2/"):
        expected[1]["myField"] = "Example of a vendor/user extension"  # the 1.2 extension/extension slot, kept
    got = [_json_event(client, admin_token, eid) for eid in ids]
    assert normal(got) == normal(expected)
    assert all(ev["recordTime"] for ev in got)


def test_the_json_answer_declares_the_xml_documents_extension_namespace(client, admin_token):
    text, ids = with_fresh_ids(example("Example_9.6.1-ObjectEvent-2020_06_18a.xml").decode())
    _job(client, admin_token, _post(client, admin_token, text))
    got = client.get(event_path(ids[1]), headers=auth(admin_token)).json
    assert {"example": "http://ns.example.com/epcis"} in got["@context"][1:]


def _farm_commission_12(farm: dict, g: str, lot: str, eid: str) -> str:
    """An EPCIS 1.2 document: the farm commissions 12.5 kg of a lot (quantityList and ILMD in the 1.2 extension)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:tg="https://tracegraph.example.cn/ns#"
  schemaVersion="1.2" creationDate="2026-09-20T08:00:00+08:00">
 <EPCISBody><EventList><ObjectEvent>
  <eventTime>2026-09-20T08:00:00+08:00</eventTime><eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
  <baseExtension><eventID>{eid}</eventID></baseExtension>
  <epcList/><action>ADD</action>
  <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep><disposition>urn:epcglobal:cbv:disp:active</disposition>
  <readPoint><id>{loc(farm["gln"])["id"]}</id></readPoint><bizLocation><id>{loc(farm["gln"])["id"]}</id></bizLocation>
  <extension>
   <quantityList><quantityElement><epcClass>{lot_uri(g, lot)}</epcClass><quantity>12.5</quantity><uom>KGM</uom>
   </quantityElement></quantityList>
   <ilmd><tg:rootAgeYears>6</tg:rootAgeYears></ilmd>
  </extension>
 </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>"""


def _farm_commission_20_json(farm: dict, g: str, lot: str, eid: str) -> dict:
    """The same event as EPCIS 2.0 JSON, written by hand as the CBV 2.0 says (bare terms)."""
    return {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                         {"tg": "https://tracegraph.example.cn/ns#"}],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-09-20T08:00:00+08:00",
            "epcisBody": {"eventList": [{
                "type": "ObjectEvent", "eventTime": "2026-09-20T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
                "eventID": eid, "epcList": [], "action": "ADD", "bizStep": "commissioning", "disposition": "active",
                "readPoint": loc(farm["gln"]), "bizLocation": loc(farm["gln"]),
                "quantityList": [{"epcClass": lot_uri(g, lot), "quantity": 12.5, "uom": "KGM"}],
                "ilmd": {"tg:rootAgeYears": "6"}}]}}


def test_a_producer_captures_12_xml_about_its_own_lot_and_the_20_json_equivalent_is_the_same_event(
        client, factory, graph):
    farm = factory.party()
    g, lot, eid = factory.product(farm["gln"])["gtin"], lot_code(), event_id()
    job = _job(client, farm["token"], _post(client, farm["token"], _farm_commission_12(farm, g, lot, eid)))
    assert job["success"], job["errors"]
    assert job["capturedCount"] == 1
    holders = {h["gln"]: h["quantity"] for h in lots.get(graph, g, lot)["holders"]}
    assert holders == {farm["gln"]: 12.5}
    # the service's own resend rule: the same eventID with other content would be a conflict, the same content is
    # a duplicate; the hand-written 2.0 JSON is a duplicate of what the 1.2 XML recorded
    same = client.post("/epcis/capture", json=_farm_commission_20_json(farm, g, lot, eid), headers=auth(farm["token"]))
    again = _job(client, farm["token"], same)
    assert again["success"], again["errors"]
    assert (again["capturedCount"], again["duplicateCount"]) == (0, 1)
    other = _farm_commission_20_json(farm, g, lot, eid)
    other["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = 12.6
    conflict = _job(client, farm["token"], client.post("/epcis/capture", json=other, headers=auth(farm["token"])))
    assert conflict["errors"][0]["code"] == "conflict"


def test_a_producer_may_not_record_in_xml_at_another_partys_location(client, factory, graph):
    farm, other = factory.party(), factory.party()
    g, lot, eid = factory.product(other["gln"])["gtin"], lot_code(), event_id()
    with unchanged(graph, lots=[{"gtin": g, "lot": lot}], parties=[farm["gln"], other["gln"]], events=[eid]):
        response = _post(client, farm["token"], _farm_commission_12(other, g, lot, eid))
    assert response.status_code == 403
    assert other["gln"] in response.json["error"]["message"]


BOMB_DTD = ('<!DOCTYPE epcis:EPCISDocument [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')
XXE_DTD = '<!DOCTYPE epcis:EPCISDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _hostile(kind: str, farm: dict, g: str, lot: str, eid: str) -> bytes:
    text = _farm_commission_12(farm, g, lot, eid)
    if kind == "bomb":
        text = text.replace("<epcis:EPCISDocument", BOMB_DTD + "<epcis:EPCISDocument", 1).replace(
            "<tg:rootAgeYears>6", "<tg:rootAgeYears>&d;")
    elif kind == "xxe":
        text = text.replace("<epcis:EPCISDocument", XXE_DTD + "<epcis:EPCISDocument", 1).replace(
            "<tg:rootAgeYears>6", "<tg:rootAgeYears>&x;")
    elif kind == "10MB":
        text = text.replace("<tg:rootAgeYears>6", "<tg:rootAgeYears>" + "6" * (10 * 1024 * 1024))
    elif kind == "malformed":
        text = text.replace("</ObjectEvent>", "</ObjectEvnet>")
    elif kind == "not EPCIS":
        text = text.replace("urn:epcglobal:epcis:xsd:1", "urn:example:not-epcis")
    elif kind == "QuantityEvent":
        text = text.replace("ObjectEvent>", "QuantityEvent>")
    elif kind == "bad CBV structure":
        text = text.replace("<action>ADD</action>", "<action>MOVE</action>")
    return text.encode()


@pytest.mark.parametrize(("kind", "words"), [
    ("bomb", "entities"), ("xxe", "entities"), ("10MB", "longer than"), ("malformed", "not well-formed"),
    ("not EPCIS", "root element"), ("QuantityEvent", "QuantityEvent"), ("bad CBV structure", "action"),
])
def test_hostile_or_wrong_xml_is_400_in_the_one_error_shape_and_writes_nothing(client, factory, graph, kind, words):
    farm = factory.party()
    g, lot, eid = factory.product(farm["gln"])["gtin"], lot_code(), event_id()
    before = client.get("/epcis/capture?perPage=1", headers=auth(farm["token"])).json
    with unchanged(graph, lots=[{"gtin": g, "lot": lot}], parties=[farm["gln"]], products=[g], events=[eid]):
        response = _post(client, farm["token"], _hostile(kind, farm, g, lot, eid))
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    assert words in response.json["error"]["message"]
    assert client.get("/epcis/capture?perPage=1", headers=auth(farm["token"])).json == before  # no capture job


def test_gs1s_misspelt_12_association_example_is_400_naming_the_element(client, admin_token):
    response = _post(client, admin_token, example("1.2/AssociationEvent.xml"))
    assert response.status_code == 400
    assert "sensorMetaData" in response.json["error"]["message"]


def test_the_sensor_example_with_typeless_reports_is_400_naming_that_event(client, admin_token):
    text, _ = with_fresh_ids(example(SENSOR).decode("utf-8-sig"))
    response = _post(client, admin_token, text)
    assert response.status_code == 400
    assert f"eventList[{SENSOR_WITHOUT_TYPE}].sensorElementList[0].sensorReport[0]" in response.json["error"]["message"]


def test_too_large_bodies_and_too_many_events_in_xml_are_413(client, factory, app):
    farm = factory.party()
    g = factory.product(farm["gln"])["gtin"]
    body = _farm_commission_12(farm, g, lot_code(), event_id())
    two = body.replace("</ObjectEvent>", "</ObjectEvent>" + body[body.index("<ObjectEvent>"):body.index(
        "</ObjectEvent>") + len("</ObjectEvent>")].replace("urn:uuid:", "urn:uuid:0"), 1)
    limits = app.config["MAX_CONTENT_LENGTH"], app.config["CAPTURE_MAX_EVENTS"]
    app.config["MAX_CONTENT_LENGTH"], app.config["CAPTURE_MAX_EVENTS"] = 500, 1
    try:
        too_big = _post(client, farm["token"], body)
        app.config["MAX_CONTENT_LENGTH"] = limits[0]
        too_many = _post(client, farm["token"], two)
    finally:
        app.config["MAX_CONTENT_LENGTH"], app.config["CAPTURE_MAX_EVENTS"] = limits
    assert too_big.status_code == 413 and too_big.json["error"]["code"] == "payload_too_large"
    assert too_many.status_code == 413 and "at most 1" in too_many.json["error"]["message"]


def test_the_event_query_answers_xml_when_asked_and_json_otherwise(client, factory):
    farm = factory.party()
    g = factory.product(farm["gln"])["gtin"]
    ids = [event_id(), event_id()]
    for eid in ids:
        _job(client, farm["token"], _post(client, farm["token"], _farm_commission_12(farm, g, lot_code(), eid)))
    query = "/epcis/events?" + urlencode([*(("EQ_eventID", i) for i in ids), ("perPage", 1)])
    as_xml = client.get(query, headers={**auth(farm["token"]), **ACCEPT_XML})
    assert as_xml.status_code == 200 and as_xml.mimetype == "application/xml"
    assert as_xml.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert 'rel="next"' in as_xml.headers["Link"]
    root = ET.fromstring(as_xml.data)
    assert root.tag == "{urn:epcglobal:epcis-query:xsd:2}EPCISQueryDocument"
    [event] = root.iter("ObjectEvent")
    assert event.findtext("bizStep") == "urn:epcglobal:cbv:bizstep:commissioning"
    assert event.find("ilmd").findtext("{https://tracegraph.example.cn/ns#}rootAgeYears") == "6"
    web = client.get(query, headers={**auth(farm["token"]), **ACCEPT_XML, "GS1-CBV-XML-Format": "Always_Web_URI"})
    assert ET.fromstring(web.data).find(".//bizStep").text == "https://ref.gs1.org/cbv/BizStep-commissioning"
    for accept in (None, "application/json", "*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                   "application/json, application/xml;q=0.5"):
        answer = client.get(query, headers={**auth(farm["token"]), **({"Accept": accept} if accept else {})})
        assert answer.mimetype == "application/json", accept
        assert json.loads(answer.data)["type"] == "EPCISQueryDocument"
    bad = client.get(query, headers={**auth(farm["token"]), **ACCEPT_XML, "GS1-CBV-XML-Format": "Sometimes"})
    assert bad.status_code == 400 and bad.mimetype == "application/json"


def test_another_partys_events_stay_invisible_in_xml(client, factory):
    farm, other = factory.party(), factory.party()
    g, eid = factory.product(farm["gln"])["gtin"], event_id()
    _job(client, farm["token"], _post(client, farm["token"], _farm_commission_12(farm, g, lot_code(), eid)))
    mine = client.get(event_path(eid), headers={**auth(farm["token"]), **ACCEPT_XML})
    theirs = client.get(event_path(eid), headers={**auth(other["token"]), **ACCEPT_XML})
    assert mine.status_code == 200
    assert theirs.status_code == 404 and theirs.mimetype == "application/json"
    assert "rootAgeYears" not in theirs.get_data(as_text=True) and lot_uri(g, "") not in theirs.get_data(
        as_text=True)


def test_a_named_querys_events_answer_xml_too(client, factory):
    farm = factory.party()
    g, lot, eid = factory.product(farm["gln"])["gtin"], lot_code(), event_id()
    _job(client, farm["token"], _post(client, farm["token"], _farm_commission_12(farm, g, lot, eid)))
    name = f"q{uuid.uuid4().hex[:10]}"
    body = {"name": name, "query": {"MATCH_epcClass": [lot_uri(g, lot)]}}
    assert client.post("/epcis/queries", json=body, headers=auth(farm["token"])).status_code == 201
    answer = client.get(f"/epcis/queries/{name}/events", headers={**auth(farm["token"]), **ACCEPT_XML})
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    root = ET.fromstring(answer.data)
    assert root.find("EPCISBody/{urn:epcglobal:epcis-query:xsd:2}QueryResults/queryName").text
    assert [e.findtext("eventID") for e in root.iter("ObjectEvent")] == [eid]


def test_gs1s_all_fields_transformation_turns_lots_into_themselves_and_is_refused_as_a_cycle(client, admin_token):
    """GS1's field-coverage example lists lots 4444 and 987 as both inputs and outputs: a lot transformed into itself,
    which the capture rules refuse even for an admin (its XML <-> JSON round trip is checked in the unit tier)."""
    text, ids = with_fresh_ids(_own_lots(example(SELF_CYCLE).decode()))
    job = _job(client, admin_token, _post(client, admin_token, text))
    assert job["success"] is False and job["capturedCount"] == 0
    assert {e["code"] for e in job["errors"]} == {"cycle"}
    assert client.get(event_path(ids[0]), headers=auth(admin_token)).status_code == 404
