"""epcisHeader.epcisMasterData: captured with a document (a party only about its own places and products) and
served in the header of query answers that name the described places and classes."""

from __future__ import annotations

from urllib.parse import quote

from gs1.identifiers import Ref
from tests.capture.helpers import commission, document, event_path, lot_uri
from tests.factories import auth, lot_code
from tests.gs1.examples import epcis_problems

MDA = "urn:epcglobal:cbv:mda#"
PLACE = "urn:epcglobal:epcis:vtype:BusinessLocation"
CLASS = "urn:epcglobal:epcis:vtype:EPCClass"


def _with_master_data(doc: dict, *vocabularies: dict) -> dict:
    return {**doc, "epcisHeader": {"epcisMasterData": {"vocabularyList": list(vocabularies)}}}


def _place(gln: str, name: str) -> dict:
    return {"type": PLACE, "vocabularyElementList": [{
        "id": Ref("location", gln=gln).digital_link(),
        "attributes": [{"id": f"{MDA}name", "attribute": name}, {"id": f"{MDA}streetAddressOne",
                                                                  "attribute": "舒兰市平安镇"}]}]}


def _header(response) -> list[dict]:
    assert response.status_code == 200, response.json
    assert epcis_problems(response.json) == []
    return response.json.get("epcisHeader", {}).get("epcisMasterData", {}).get("vocabularyList", [])


def test_a_party_describes_its_own_place_and_product_and_readers_see_it(client, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    event = commission(farm["gln"], product["gtin"], lot, 10)
    product_class = {"type": CLASS, "vocabularyElementList": [{
        "id": Ref("class", gtin=product["gtin"]).digital_link(), "attributes": [
            {"id": f"{MDA}descriptionShort", "attribute": "舒兰稻谷"}]}]}
    doc = _with_master_data(document(event), _place(farm["gln"], "平安镇合作社"), product_class)
    response = client.post("/epcis/capture", json=doc, headers=auth(farm["token"]))
    assert response.status_code == 202 and response.json["success"], response.json
    header = _header(client.get(event_path(event["eventID"]), headers=auth(farm["token"])))
    by_type = {v["type"]: v["vocabularyElementList"] for v in header}
    assert by_type[PLACE][0]["attributes"][0] == {"id": f"{MDA}name", "attribute": "平安镇合作社"}
    assert by_type[CLASS][0]["attributes"] == [{"id": f"{MDA}descriptionShort", "attribute": "舒兰稻谷"}]
    listed = client.get(f"/epcis/events?MATCH_epcClass={quote(lot_uri(product['gtin'], lot), safe='')}",
                        headers=auth(factory.admin_token))
    assert {v["type"] for v in _header(listed)} == {PLACE, CLASS}
    # described again: the latest description replaces the earlier one
    again = _with_master_data(document(commission(farm["gln"], product["gtin"], lot_code(), 1)),
                              _place(farm["gln"], "新名称"))
    assert client.post("/epcis/capture", json=again, headers=auth(farm["token"])).json["success"]
    header = _header(client.get(event_path(event["eventID"]), headers=auth(farm["token"])))
    assert {v["type"]: v for v in header}[PLACE]["vocabularyElementList"][0]["attributes"][0]["attribute"] == "新名称"


def test_describing_another_partys_place_is_refused_and_nothing_is_written(client, factory):
    farm, other = factory.party(), factory.party()
    product = factory.product(farm["gln"])
    event = commission(farm["gln"], product["gtin"], lot_code(), 10)
    doc = _with_master_data(document(event), _place(other["gln"], "冒名"))
    response = client.post("/epcis/capture", json=doc, headers=auth(farm["token"]))
    assert response.status_code == 403, response.json
    assert client.get(event_path(event["eventID"]), headers=auth(factory.admin_token)).status_code == 404
    # an admin may describe any place (imports)
    assert client.post("/epcis/capture", json=doc, headers=auth(factory.admin_token)).json["success"]
    names = [v for v in _header(client.get(event_path(event["eventID"]), headers=auth(factory.admin_token)))]
    assert names == []  # the admin described the other party's place, which this event does not name


def test_a_malformed_vocabulary_is_400(client, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    doc = document(commission(farm["gln"], product["gtin"], lot_code(), 10))
    for bad in ({"vocabularyList": {}}, {"vocabularyList": [{"vocabularyElementList": []}]},
                {"vocabularyList": [{"type": PLACE, "vocabularyElementList": [{"id": "not a uri"}]}]},
                {"vocabularyList": [{"type": PLACE, "vocabularyElementList": [
                    {"id": lot_uri(product["gtin"], "L1")}]}]}):
        response = client.post("/epcis/capture", json={**doc, "epcisHeader": {"epcisMasterData": bad}},
                               headers=auth(farm["token"]))
        assert response.status_code == 400, (bad, response.json)


def test_within_descendants_follows_the_children_master_data_names(client, factory):
    """WD_bizLocation takes a place, its GLN-extension sub-locations and, at any depth, the children its captured
    master data lists (EPCIS 2.0 §8.2.7.1)."""
    farm, store, shed = factory.party(), factory.party(), factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    at_store = commission(farm["gln"], product["gtin"], lot, 5, bizLocation={"id": Ref(
        "location", gln=store["gln"]).digital_link()})
    at_shed = commission(farm["gln"], product["gtin"], lot, 5, bizLocation={"id": Ref(
        "location", gln=shed["gln"]).digital_link()})
    hierarchy = {"type": PLACE, "vocabularyElementList": [
        {"id": Ref("location", gln=farm["gln"]).digital_link(),
         "children": [Ref("location", gln=store["gln"]).digital_link()]},
        {"id": Ref("location", gln=store["gln"]).digital_link(),
         "children": [Ref("location", gln=shed["gln"]).digital_link()]}]}
    doc = _with_master_data(document(at_store, at_shed), hierarchy)
    assert client.post("/epcis/capture", json=doc, headers=auth(factory.admin_token)).json["success"]
    base = f"/epcis/events?MATCH_epcClass={quote(lot_uri(product['gtin'], lot), safe='')}"
    farm_place = quote(Ref("location", gln=farm["gln"]).digital_link(), safe="")
    store_place = quote(Ref("location", gln=store["gln"]).digital_link(), safe="")

    def ids(url):
        return sorted(e["eventID"] for e in client.get(url, headers=auth(factory.admin_token)).json[
            "epcisBody"]["queryResults"]["resultsBody"]["eventList"])

    assert ids(f"{base}&WD_bizLocation={farm_place}") == sorted([at_store["eventID"], at_shed["eventID"]])
    assert ids(f"{base}&WD_bizLocation={store_place}") == sorted([at_store["eventID"], at_shed["eventID"]])
    assert ids(f"{base}&EQ_bizLocation={store_place}") == [at_store["eventID"]]
    shed_place = quote(Ref("location", gln=shed["gln"]).digital_link(), safe="")
    assert ids(f"{base}&WD_bizLocation={shed_place}") == [at_shed["eventID"]]
