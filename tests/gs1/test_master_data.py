"""gs1/master_data.py: the header's vocabularies parsed, and who may describe what (no database)."""

from __future__ import annotations

import pytest

from gs1.errors import InvalidEvent
from gs1.master_data import parse_master_data, refused_elements

FARM, OTHER = "6990000000015", "6990000000022"
GTIN = "06990000000015"


def _doc(*vocabularies):
    return {"epcisHeader": {"epcisMasterData": {"vocabularyList": list(vocabularies)}}}


def test_elements_keep_their_attributes_children_and_business_keys():
    (place, product) = parse_master_data(_doc(
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
            {"id": f"urn:epc:id:sgln:{FARM[:7]}.{FARM[7:12]}.0", "attributes": [{"id": "n", "attribute": "A"}],
             "children": [f"https://id.gs1.org/414/{FARM}/254/1"]}]},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
            {"id": f"https://id.gs1.org/01/{GTIN}"}]}))
    assert place.key == f"loc:{FARM}" and place.attributes == (("n", "A"),) and len(place.children) == 1
    assert product.key == f"class:{GTIN}"
    assert place.as_vocabulary_element()["attributes"] == [{"id": "n", "attribute": "A"}]
    assert parse_master_data({}) == parse_master_data({"epcisHeader": {}}) == []


@pytest.mark.parametrize("bad", [
    {"vocabularyList": "x"}, {"vocabularyList": [{}]},
    {"vocabularyList": [{"type": "t", "vocabularyElementList": [{"attributes": []}]}]},
    {"vocabularyList": [{"type": "t", "vocabularyElementList": [{"id": "x y"}]}]},
    {"vocabularyList": [{"type": "t", "vocabularyElementList": [{"id": "urn:x:1", "attributes": [{"a": 1}]}]}]},
    {"vocabularyList": [{"type": "t", "vocabularyElementList": [{"id": "urn:x:1", "children": [1]}]}]},
])
def test_a_malformed_header_names_where(bad):
    with pytest.raises(InvalidEvent) as info:
        parse_master_data({"epcisHeader": {"epcisMasterData": bad}})
    assert info.value.location.startswith("epcisHeader.epcisMasterData")


def test_a_party_describes_only_its_own_places_and_products():
    elements = parse_master_data(_doc({"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
        {"id": f"https://id.gs1.org/414/{FARM}"}, {"id": f"https://id.gs1.org/414/{FARM}/254/7"},
        {"id": f"https://id.gs1.org/414/{OTHER}"}, {"id": "urn:example:thing"}]},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
            {"id": f"https://id.gs1.org/01/{GTIN}/10/L1"}]}))
    refused = refused_elements(elements, FARM, {GTIN: OTHER})
    assert refused == [f"https://id.gs1.org/414/{OTHER}", "urn:example:thing", f"https://id.gs1.org/01/{GTIN}/10/L1"]
    assert refused_elements(elements, FARM, {GTIN: FARM}) == [f"https://id.gs1.org/414/{OTHER}", "urn:example:thing"]
    assert refused_elements(elements, None, {}) == []
