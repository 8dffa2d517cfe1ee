"""An exported EPCISDocument carries an epcisHeader with the places' master data and declares in @context every
extension prefix its events use (tg: and tracegraph: included)."""

from __future__ import annotations

import json
from urllib.parse import quote

from app import exports
from gs1.identifiers import Ref
from tests.capture.helpers import commission, document, lot_uri, ship
from tests.factories import auth, gtin, lot_code
from tests.gs1.examples import epcis_problems

OTHER_NS = "https://example.org/partner-ns/"


def test_used_prefixes_are_found_at_any_depth_and_only_in_names():
    events = [{"type": "ObjectEvent", "ilmd": {"tg:plot": "A", "x:list": [{"y:deep": 1}]}, "bizStep": "cbv:Foo",
               "https://example.org/full": 1, "@id": "z"}]
    assert exports.used_prefixes(events) == {"tg", "x", "y"}


def test_own_prefixes_are_declared_and_unknown_ones_come_from_the_documents():
    doc = exports.epcis_document([{"type": "ObjectEvent", "tg:a": 1, "tracegraph:recallID": "R", "p:q": 2,
                                   "cbvmda:x": 3}], prefixes={"p": OTHER_NS})
    declared = doc["@context"][1]
    assert declared == {"p": OTHER_NS, "tg": exports.OWN_NAMESPACES["tg"],
                        "tracegraph": exports.OWN_NAMESPACES["tracegraph"]}
    assert doc["epcisHeader"] == {"epcisMasterData": {"vocabularyList": []}}
    assert exports.epcis_document([{"type": "ObjectEvent"}])["@context"] == exports.CONTEXT


def test_a_trace_export_declares_its_prefixes_and_names_its_places(client, factory):
    farm, mill = factory.party(address_zh="舒兰市平安镇"), factory.party()
    g, lot = gtin(), lot_code()
    doc = document(commission(farm["gln"], g, lot, 10, ilmd={"tg:plot": "东3号地", "partner:grade": "A"}),
                   ship(farm["gln"], mill["gln"], g, lot, 4))
    doc["@context"] = [*doc["@context"], {"tg": "https://tracegraph.example.cn/ns#", "partner": OTHER_NS}]
    assert client.post("/epcis/capture", json=doc, headers=auth(factory.admin_token)).json["success"]
    response = client.get(f"/api/v1/lots/{g}/{quote(lot)}/trace/export?format=epcis",
                          headers=auth(factory.admin_token))
    assert response.status_code == 200
    exported = json.loads(response.data)
    assert epcis_problems(exported) == []
    assert exported["@context"][1] == {"partner": OTHER_NS, "tg": "https://tracegraph.example.cn/ns#"}
    (vocabulary,) = exported["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    places = {e["id"]: e["attributes"] for e in vocabulary["vocabularyElementList"]}
    farm_place = Ref("location", gln=farm["gln"]).digital_link()
    assert {"id": "urn:epcglobal:cbv:mda#streetAddressOne", "attribute": "舒兰市平安镇"} in places[farm_place]
    assert lot_uri(g, lot) in json.dumps(exported["epcisBody"])
