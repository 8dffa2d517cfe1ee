"""gs1/epcis_xml.py without Neo4j (the unit tier): EPCIS 2.0 and 1.2 XML -> EPCIS 2.0 JSON, JSON -> XML, and the
hostile documents it refuses. The expected answers are GS1's own JSON twins or written out here by hand."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from gs1.epcis_xml import InvalidXML, parse_xml_document, render_query_document
from gs1.structure import structure_problems
from tests.epcis.xml_helpers import events_of, example, leaves, normal, twin, xml_events, xml_names

E2 = 'xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-09-20T08:00:00Z"'
E1 = 'xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2026-09-20T08:00:00Z"'
Q = "{urn:epcglobal:epcis-query:xsd:2}"


def doc2(events: str, ns: str = "", header: str = "") -> bytes:
    return (f'<epcis:EPCISDocument {E2} {ns}>{header}<EPCISBody><EventList>{events}</EventList></EPCISBody>'
            "</epcis:EPCISDocument>").encode()


def one(xml: bytes) -> dict:
    doc, _ = parse_xml_document(xml)
    [event] = doc["epcisBody"]["eventList"]
    return event


OBJECT = ("<ObjectEvent><eventTime>2026-09-20T08:00:00+08:00</eventTime><eventTimeZoneOffset>+08:00"
          "</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList>"
          "<action>OBSERVE</action>{}</ObjectEvent>")


# --- GS1's examples against GS1's own JSON twins --------------------------------------------------------------

@pytest.mark.parametrize(("xml", "json_twin"), [
    ("Example_9.6.1-ObjectEvent-2020_06_18a.xml", "Example_9.6.1-ObjectEvent.jsonld"),
    ("Example-PersistentDisposition.xml", "PersistentDisposition-example.jsonld"),
])
def test_gs1_xml_examples_read_as_their_json_twins(xml, json_twin):
    doc, version = parse_xml_document(example(xml))
    assert version == "2.0"
    assert structure_problems(doc) == []
    assert normal(events_of(doc)) == normal(events_of(twin(json_twin)))


def test_the_document_declares_the_extension_namespaces_of_the_xml():
    doc, _ = parse_xml_document(example("Example_9.6.1-ObjectEvent-2020_06_18a.xml"))
    assert doc["@context"][1] == {"example": "http://ns.example.com/epcis"}
    assert doc["schemaVersion"] == "2.0" and doc["creationDate"] == "2005-07-11T11:30:47.0Z"


def test_the_gs1_12_object_event_is_the_20_example_plus_its_extension_slot_field():
    doc12, version = parse_xml_document(example("1.2/ObjectEvent.xml"))
    assert version == "1.2"
    expected = [dict(ev) for ev in events_of(twin("Example_9.6.1-ObjectEvent.jsonld"))]
    expected[1]["myField"] = "Example of a vendor/user extension"  # 1.2 extension/extension/myField, kept
    assert normal(events_of(doc12)) == normal(expected)


@pytest.mark.parametrize("name", [n for n in xml_names("2.0") + xml_names("1.2") if n != "1.2/AssociationEvent.xml"])
def test_every_kept_example_reads_and_round_trips_through_xml(name):
    data = example(name)
    doc, _ = parse_xml_document(data)
    out = render_query_document(doc)
    # the XML written keeps every value of every event (paths without the 1.2/2.0 extension wrappers)
    assert [leaves(e) for e in xml_events(out)] == [leaves(e) for e in xml_events(data)]
    again, _ = parse_xml_document(out)
    assert events_of(again) == events_of(doc)


def test_gs1s_12_association_example_misspells_sensor_metadata_and_is_refused():
    with pytest.raises(InvalidXML, match="sensorMetaData"):
        parse_xml_document(example("1.2/AssociationEvent.xml"))


# --- EPCIS 1.2: wrappers, vocabularies, the TransformationEvent inside EventList/extension ----------------------

LEGACY = f"""<epcis:EPCISDocument {E1} xmlns:ex="http://example.com/ns/">
<EPCISBody><EventList>
 <ObjectEvent>
  <eventTime>2026-09-20T08:00:00+08:00</eventTime><eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
  <baseExtension><eventID>urn:uuid:11111111-1111-4111-8111-111111111111</eventID>
   <errorDeclaration><declarationTime>2026-09-21T08:00:00+08:00</declarationTime>
    <reason>urn:epcglobal:cbv:er:incorrect_data</reason>
    <correctiveEventIDs><correctiveEventID>urn:uuid:c</correctiveEventID></correctiveEventIDs>
   </errorDeclaration></baseExtension>
  <epcList/>
  <action>ADD</action>
  <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
  <disposition>urn:epcglobal:cbv:disp:active</disposition>
  <readPoint><id>urn:epc:id:sgln:0614141.00777.0</id></readPoint>
  <extension>
   <quantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.L1</epcClass>
    <quantity>12.5</quantity><uom>KGM</uom></quantityElement></quantityList>
   <sourceList><source type="urn:epcglobal:cbv:sdt:owning_party">urn:epc:id:pgln:0614141.00777</source></sourceList>
   <ilmd><ex:harvest>2026-09-01</ex:harvest></ilmd>
  </extension>
  <ex:grade>A</ex:grade>
 </ObjectEvent>
 <extension>
  <TransformationEvent>
   <eventTime>2026-09-22T08:00:00+08:00</eventTime><eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
   <inputQuantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.L1</epcClass>
    <quantity>10</quantity><uom>KGM</uom></quantityElement></inputQuantityList>
   <outputEPCList><epc>urn:epc:id:sgtin:0614141.107346.9</epc></outputEPCList>
   <bizStep>urn:epcglobal:cbv:bizstep:creating_class_instance</bizStep>
   <bizTransactionList><bizTransaction type="urn:epcglobal:cbv:btt:po">urn:epcglobal:cbv:bt:0614141000005:7
   </bizTransaction></bizTransactionList>
  </TransformationEvent>
 </extension>
</EventList></EPCISBody></epcis:EPCISDocument>""".encode()

LEGACY_AS_JSON = [
    {"type": "ObjectEvent", "eventTime": "2026-09-20T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
     "eventID": "urn:uuid:11111111-1111-4111-8111-111111111111",
     "errorDeclaration": {"declarationTime": "2026-09-21T08:00:00+08:00", "reason": "incorrect_data",
                          "correctiveEventIDs": ["urn:uuid:c"]},
     "epcList": [], "action": "ADD", "bizStep": "commissioning", "disposition": "active",
     "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
     "quantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "quantity": 12.5, "uom": "KGM"}],
     "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00777"}],
     "ilmd": {"ex:harvest": "2026-09-01"}, "ex:grade": "A"},
    {"type": "TransformationEvent", "eventTime": "2026-09-22T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
     "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "quantity": 10, "uom": "KGM"}],
     "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.9"], "bizStep": "creating_class_instance",
     "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:7"}]},
]


def test_a_12_document_maps_to_the_20_json_the_cbv_20_prescribes():
    doc, version = parse_xml_document(LEGACY)
    assert version == "1.2"
    assert doc["epcisBody"]["eventList"] == LEGACY_AS_JSON
    assert doc["@context"][1] == {"ex": "http://example.com/ns/"}
    assert structure_problems(doc) == []


def test_a_12_document_and_its_20_equivalent_give_the_same_events():
    as_20 = render_query_document(parse_xml_document(LEGACY)[0])
    assert b"urn:epcglobal:epcis:xsd:1" not in as_20
    assert events_of(parse_xml_document(as_20)[0]) == LEGACY_AS_JSON


# --- field by field --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "bare"), [
    ("urn:epcglobal:cbv:bizstep:shipping", "shipping"),
    ("https://ref.gs1.org/cbv/BizStep-shipping", "shipping"),
    ("shipping", "shipping"),
    ("http://epcis.example.org/hc/bizstep/discharge", "http://epcis.example.org/hc/bizstep/discharge"),
])
def test_cbv_values_become_bare_terms_and_other_uris_stay(written, bare):
    assert one(doc2(OBJECT.format(f"<bizStep>{written}</bizStep>")))["bizStep"] == bare


def test_sensor_reports_type_numbers_and_booleans_and_keep_namespaced_attributes():
    sensor = ('<sensorElementList><sensorElement><sensorMetadata time="2026-09-20T08:00:00+08:00" ex:batch="7"/>'
              '<sensorReport type="gs1:Temperature" value="4" minValue="-1.5" booleanValue="false" uom="CEL"/>'
              '<ex:probe>P1</ex:probe></sensorElement></sensorElementList>')
    ev = one(doc2(OBJECT.format(sensor), 'xmlns:ex="http://e.x/"'))
    assert ev["sensorElementList"] == [{
        "sensorMetadata": {"time": "2026-09-20T08:00:00+08:00", "ex:batch": "7"},
        "sensorReport": [{"type": "gs1:Temperature", "value": 4, "minValue": -1.5, "booleanValue": False,
                          "uom": "CEL"}],
        "ex:probe": "P1"}]
    assert type(ev["sensorElementList"][0]["sensorReport"][0]["minValue"]) is float


def test_user_extensions_nest_repeat_and_keep_attributes_and_text():
    ext = ('<ex:a ex:unit="kg">5</ex:a><ex:list>1</ex:list><ex:list>2</ex:list>'
           '<ex:obj><inner>x</inner><ex:deep><ex:v/></ex:deep></ex:obj>')
    ev = one(doc2(OBJECT.format(ext), 'xmlns:ex="http://e.x/"'))
    assert ev["ex:a"] == {"@ex:unit": "kg", "#text": "5"}
    assert ev["ex:list"] == ["1", "2"]
    assert ev["ex:obj"] == {"inner": "x", "ex:deep": {"ex:v": ""}}


def test_a_nil_quantity_is_left_out_and_decimals_stay_decimal():
    ql = ('<quantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.A</epcClass>'
          '<quantity xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/></quantityElement>'
          '<quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.B</epcClass><quantity>25.0</quantity>'
          '</quantityElement></quantityList>')
    assert one(doc2(OBJECT.format(ql)))["quantityList"] == [
        {"epcClass": "urn:epc:class:lgtin:0614141.107346.A"},
        {"epcClass": "urn:epc:class:lgtin:0614141.107346.B", "quantity": 25.0}]


def test_a_prefix_used_by_the_standard_context_for_another_namespace_is_renamed():
    ev = one(doc2(OBJECT.format("<gs1:x>1</gs1:x>"), 'xmlns:gs1="http://not-gs1.example/"'))
    assert ev["gs12:x"] == "1"


def test_master_data_in_the_header_becomes_the_json_vocabulary_list():
    header = ('<EPCISHeader><extension><EPCISMasterData><VocabularyList>'
              '<Vocabulary type="urn:epcglobal:epcis:vtype:BusinessLocation"><VocabularyElementList>'
              '<VocabularyElement id="urn:epc:id:sgln:0614141.00777.0">'
              '<attribute id="urn:epcglobal:cbv:mda#name">Farm</attribute>'
              '<children><id>urn:epc:id:sgln:0614141.00777.1</id></children>'
              '</VocabularyElement></VocabularyElementList></Vocabulary></VocabularyList></EPCISMasterData>'
              '</extension></EPCISHeader>')
    doc, _ = parse_xml_document(doc2(OBJECT.format(""), header=header))
    assert doc["epcisHeader"] == {"epcisMasterData": {"vocabularyList": [{
        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [{"id": "urn:epc:id:sgln:0614141.00777.0",
                                   "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "Farm"}],
                                   "children": ["urn:epc:id:sgln:0614141.00777.1"]}]}]}}


# --- what is refused -------------------------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z">
<EPCISBody><EventList><ObjectEvent><eventTime>&lol3;</eventTime></ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z">
<EPCISBody><EventList><ObjectEvent><eventTime>&x;</eventTime></ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><d/>"""


@pytest.mark.parametrize(("body", "words"), [
    (BOMB, "entities"),
    (XXE, "entities"),
    (PARAMETER_ENTITY, "entities"),
    (b"<epcis:EPCISDocument", "well-formed"),
    (b"", "well-formed"),
    (b"<a>" * 100 + b"</a>" * 100, "deeper than 64"),
    (doc2(OBJECT.format("<ex:big>" + "x" * (2 * 1024 * 1024) + "</ex:big>"), 'xmlns:ex="http://e.x/"'),
     "longer than"),
    (b'<EPCISDocument xmlns="http://other/" schemaVersion="2.0" creationDate="x"/>', "root element"),
    (f'<epcis:EPCISDocument {E2.replace("2.0", "1.2")}><EPCISBody/></epcis:EPCISDocument>'.encode(),
     "does not match the namespace"),
    (b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"><EPCISBody/>'
     b'</epcis:EPCISDocument>', "creationDate"),
    (f'<epcis:EPCISDocument {E2}/>'.encode(), "EPCISBody"),
    (doc2("<QuantityEvent/>"), "QuantityEvent"),
    (doc2("<ex:MyEvent/>", 'xmlns:ex="http://e.x/"'), "not an EPCIS event type"),
    (doc2(OBJECT.format("<bizstep>urn:epcglobal:cbv:bizstep:shipping</bizstep>")), "<bizstep> is not a field"),
    (doc2(OBJECT.format("<readPoint><name>x</name></readPoint>")), "not part of a readPoint"),
    (doc2(OBJECT.format("<readPoint/>")), "needs an <id>"),
    (doc2(OBJECT.format("<sourceList><source>urn:epc:id:pgln:0614141.00777</source></sourceList>")),
     "needs a type"),
    (doc2(OBJECT.format("<quantityList><quantityElement><quantity>1</quantity></quantityElement></quantityList>")),
     "needs an <epcClass>"),
    (doc2(OBJECT.format("<quantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.A</epcClass>"
                        "<quantity>lots</quantity></quantityElement></quantityList>")), "not a number"),
    (doc2(OBJECT.format('<sensorElementList><sensorElement><sensorReport type="gs1:T" booleanValue="yes"/>'
                        "</sensorElement></sensorElementList>")), "not a boolean"),
    (doc2(OBJECT.format("<action>ADD</action>")), "given twice"),
    (doc2(OBJECT.format("<childEPCs><id>x</id></childEPCs>")), "<id> in <childEPCs>: only <epc> elements"),
    (doc2(OBJECT.format("<sensorElementList><extension/><x/></sensorElementList>")),
     "<x> in <sensorElementList>: only <sensorElement>"),
    (doc2(OBJECT.format("<eventID></eventID>")), "is empty"),
    (doc2(OBJECT.format("<disposition><x/></disposition>")), "must hold text"),
])
def test_hostile_malformed_and_wrong_documents_are_refused_with_a_clear_message(body, words):
    with pytest.raises(InvalidXML, match=re.escape(words)):
        parse_xml_document(body)


def test_an_element_count_beyond_the_bound_is_refused():
    events = OBJECT.format("") * 50
    with pytest.raises(InvalidXML, match="more than 100 elements"):
        parse_xml_document(doc2(events), max_elements=100)


def test_unknown_unqualified_fields_in_an_extension_slot_are_kept_as_plain_keys():
    ev = one(doc2(OBJECT.format("<extension><futureField>1</futureField></extension>")))
    assert ev["futureField"] == "1"


# --- writing XML -----------------------------------------------------------------------------------------------

QUERY_DOC = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"tg": "https://tg.example/ns#"}],
    "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": "2026-09-20T08:00:00Z",
    "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": [{
        "type": "ObjectEvent", "eventID": "urn:uuid:e1", "eventTime": "2026-09-20T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "recordTime": "2026-09-20T00:00:01Z", "action": "ADD",
        "bizStep": "commissioning", "disposition": "cbv:Disp-active",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "quantity": 0.00001, "uom": "KGM"}],
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
        "persistentDisposition": {"set": ["completeness_verified"], "unset": ["completeness_inferred"]},
        "ilmd": {"cbvmda:countryOfOrigin": "CN", "tg:earTags": ["T1", "T2"], "tg:ageYears": 6,
                 "tg:note": "bad\x01char", "tg:none": None},
        "certificationInfo": ["https://cert.example/1", "https://cert.example/2"],
    }]}}},
}


def _event_xml(body: bytes) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag == f"{Q}EPCISQueryDocument"
    results = root.find(f"EPCISBody/{Q}QueryResults")
    assert results.findtext("queryName") == "SimpleEventQuery"
    return results.find("resultsBody/EventList/ObjectEvent")


def test_query_documents_render_as_epcis_20_xml_with_urn_cbv_values_in_xsd_order():
    ev = _event_xml(render_query_document(QUERY_DOC))
    assert [c.tag for c in ev] == ["eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "certificationInfo",
                                   "certificationInfo", "action", "bizStep", "disposition", "readPoint",
                                   "quantityList", "persistentDisposition", "ilmd"]
    assert ev.findtext("bizStep") == "urn:epcglobal:cbv:bizstep:commissioning"
    assert ev.findtext("disposition") == "urn:epcglobal:cbv:disp:active"
    assert [(c.tag, c.text) for c in ev.find("persistentDisposition")] == [
        ("unset", "urn:epcglobal:cbv:disp:completeness_inferred"),
        ("set", "urn:epcglobal:cbv:disp:completeness_verified")]
    assert ev.findtext("quantityList/quantityElement/quantity") == "0.00001"
    ilmd = ev.find("ilmd")
    assert ilmd.findtext("{urn:epcglobal:cbv:mda}countryOfOrigin") == "CN"
    assert [t.text for t in ilmd.findall("{https://tg.example/ns#}earTags")] == ["T1", "T2"]
    assert ilmd.findtext("{https://tg.example/ns#}ageYears") == "6"
    assert ilmd.findtext("{https://tg.example/ns#}note") == "bad\ufffdchar"
    assert ilmd.find("{https://tg.example/ns#}none").get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_written_xml_reads_back_as_the_same_json_events():
    again, _ = parse_xml_document(render_query_document(QUERY_DOC))
    expected = dict(events_of(QUERY_DOC)[0])
    expected.update(disposition="active", ilmd={**expected["ilmd"], "tg:ageYears": "6", "tg:note": "bad\ufffdchar"})
    assert events_of(again) == [expected]


def test_always_web_uri_writes_cbv_values_as_web_uris():
    ev = _event_xml(render_query_document(QUERY_DOC, "Always_Web_URI"))
    assert ev.findtext("bizStep") == "https://ref.gs1.org/cbv/BizStep-commissioning"
    assert ev.findtext("disposition") == "https://ref.gs1.org/cbv/Disp-active"


def test_an_event_type_without_an_xml_form_is_refused_when_writing():
    doc = {**QUERY_DOC, "epcisBody": {"queryResults": {"queryName": "q", "resultsBody": {"eventList": [
        {"type": "ex:Custom", "eventTime": "2026-09-20T08:00:00Z", "eventTimeZoneOffset": "+00:00"}]}}}}
    with pytest.raises(ValueError, match="no EPCIS 2.0 XML form"):
        render_query_document(doc)


# --- each refusal, word for word, with where it is ---------------------------------------------------------------

EV = "EPCISBody.EventList[0]"
VOCAB = "EPCISHeader.EPCISMasterData.Vocabulary"


def _header(inner: str) -> str:
    return f"<EPCISHeader><extension><EPCISMasterData><VocabularyList>{inner}</VocabularyList></EPCISMasterData>" \
           "</extension></EPCISHeader>"


@pytest.mark.parametrize(("body", "said"), [
    (doc2(OBJECT.format("<quantityList><quantityElement><epcClass>c</epcClass><foo/></quantityElement>"
                        "</quantityList>")), f"{EV}.quantityList[0]: <foo> is not part of a quantityElement"),
    (doc2(OBJECT.format("<quantityList><quantityElement><uom>KGM</uom></quantityElement></quantityList>")),
     f"{EV}.quantityList[0]: a quantityElement needs an <epcClass>"),
    (doc2(OBJECT.format("<readPoint><name>x</name></readPoint>")),
     f"{EV}.readPoint: <name> is not part of a readPoint"),
    (doc2(OBJECT.format("<bizLocation/>")), f"{EV}.bizLocation: <bizLocation> needs an <id>"),
    (doc2(OBJECT.format("<destinationList><destination>d</destination></destinationList>")),
     f"{EV}.destinationList[0]: a <destination> needs a type attribute"),
    (doc2(OBJECT.format('<sensorElementList><sensorElement><sensorFoo/></sensorElement></sensorElementList>')),
     f"{EV}.sensorElementList[0]: <sensorFoo> is not part of a sensorElement"),
    (doc2(OBJECT.format("<persistentDisposition><foo/></persistentDisposition>")),
     f"{EV}.persistentDisposition: <foo>: a persistentDisposition holds <set> and <unset>"),
    (doc2(OBJECT.format("<errorDeclaration><foo/></errorDeclaration>")),
     f"{EV}.errorDeclaration: <foo> is not part of an errorDeclaration"),
    (doc2(OBJECT.format("<bizstep>x</bizstep>")),
     f"{EV}.bizstep: <bizstep> is not a field of an EPCIS event; an extension needs a namespace"),
    (doc2(OBJECT.format("<action>ADD</action>")), f"{EV}.action: <action> is given twice"),
    (doc2("<QuantityEvent/>"),
     f"{EV}: QuantityEvent (EPCIS 1.0/1.1) is not part of EPCIS 2.0: send an ObjectEvent with a quantityList"),
    (doc2("<ex:MyEvent/>", 'xmlns:ex="http://e.x/"'),
     f"{EV}: <MyEvent> is not an EPCIS event type this service captures (ObjectEvent, AggregationEvent, "
     "TransactionEvent, TransformationEvent, AssociationEvent)"),
    (doc2(OBJECT.format(""), header=_header("<Vocabulary/>")), f"{VOCAB}: a Vocabulary needs a type attribute"),
    (doc2(OBJECT.format(""), header=_header('<Vocabulary type="t"><VocabularyElementList><VocabularyElement/>'
                                            "</VocabularyElementList></Vocabulary>")),
     f"{VOCAB}: a VocabularyElement needs an id attribute"),
    (doc2(OBJECT.format(""), header=_header('<Vocabulary type="t"><VocabularyElementList><VocabularyElement id="i">'
                                            "<attribute>v</attribute></VocabularyElement></VocabularyElementList>"
                                            "</Vocabulary>")),
     f"{VOCAB}: an attribute needs an id"),
    (b'<EPCISDocument xmlns="http://other/" schemaVersion="2.0" creationDate="x"/>',
     "the root element is <EPCISDocument> in http://other/: an EPCIS XML document is an EPCISDocument in "
     "urn:epcglobal:epcis:xsd:2 (EPCIS 2.0) or urn:epcglobal:epcis:xsd:1 (EPCIS 1.x)"),
    (b"<EPCISDocument/>", "the root element is <EPCISDocument> in no namespace: an EPCIS XML document is an "
                          "EPCISDocument in urn:epcglobal:epcis:xsd:2 (EPCIS 2.0) or urn:epcglobal:epcis:xsd:1 "
                          "(EPCIS 1.x)"),
    (b'<e:EPCISDocument xmlns:e="urn:epcglobal:epcis:xsd:2" creationDate="x"/>',
     "schemaVersion: the document needs a schemaVersion attribute such as 2.0 or 1.2"),
    (b'<e:EPCISDocument xmlns:e="urn:epcglobal:epcis:xsd:2" schemaVersion="1.2" creationDate="x"/>',
     "schemaVersion: schemaVersion 1.2 does not match the namespace urn:epcglobal:epcis:xsd:2"),
    (b'<e:EPCISDocument xmlns:e="urn:epcglobal:epcis:xsd:1" schemaVersion="2.0" creationDate="x"/>',
     "schemaVersion: schemaVersion 2.0 does not match the namespace urn:epcglobal:epcis:xsd:1"),
    (b'<e:EPCISDocument xmlns:e="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate=" "/>',
     "creationDate: the document needs a creationDate attribute"),
    (b'<e:EPCISDocument xmlns:e="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="x">'
     b"<EPCISBody/><EPCISBody/></e:EPCISDocument>", "EPCISBody: the document needs exactly one <EPCISBody>"),
    (b'<q:EPCISQueryDocument xmlns:q="urn:epcglobal:epcis-query:xsd:2" schemaVersion="2.0" creationDate="x">'
     b"<EPCISBody/></q:EPCISQueryDocument>", "EPCISBody: an EPCISQueryDocument's body needs one <QueryResults>"),
    (doc2(OBJECT.format("<quantityList><quantityElement><epcClass>c</epcClass><quantity>1e999</quantity>"
                        "</quantityElement></quantityList>")),
     f"{EV}.quantityList[0].quantity: '1e999' is not a number"),
    (doc2(OBJECT.format('<sensorElementList><sensorElement><sensorReport booleanValue="yes"/></sensorElement>'
                        "</sensorElementList>")),
     f"{EV}.sensorElementList[0].sensorReport@booleanValue: 'yes' is not a boolean (true or false)"),
    (doc2(OBJECT.format('<sensorElementList><sensorElement><sensorReport value="high"/></sensorElement>'
                        "</sensorElementList>")),
     f"{EV}.sensorElementList[0].sensorReport@value: 'high' is not a number"),
    (doc2(OBJECT.format("<eventID> </eventID>")), f"{EV}.eventID: <eventID> is empty"),
    (doc2(OBJECT.format("<disposition><x/></disposition>")),
     f"{EV}.disposition: <disposition> must hold text, not elements"),
    (doc2(OBJECT.format("<childEPCs><epc>a</epc><id>x</id></childEPCs>")),
     f"{EV}.childEPCs[1]: <id> in <childEPCs>: only <epc> elements belong here"),
    (doc2(OBJECT.format("<errorDeclaration><correctiveEventIDs><id>x</id></correctiveEventIDs></errorDeclaration>")),
     f"{EV}.errorDeclaration.correctiveEventIDs[0]: <id> in <correctiveEventIDs>: only <correctiveEventID> "
     "elements belong here"),
    (b"<a>" * 65 + b"</a>" * 65, "the XML nests deeper than 64 elements"),
    (doc2(OBJECT.format('<ex:a ex:b="' + "y" * (1024 * 1024 + 1) + '"/>'), 'xmlns:ex="http://e.x/"'),
     "a text or attribute value of <a> is longer than 1048576 characters"),
    (BOMB, "the XML declares entities or refers to external resources (DTD entities are refused: EntitiesForbidden)"),
    (doc2(OBJECT.format("<errorDeclaration><declarationTime/></errorDeclaration>")),
     f"{EV}.errorDeclaration.declarationTime: <declarationTime> is empty"),
    (doc2(OBJECT.format("<errorDeclaration><reason/></errorDeclaration>")),
     f"{EV}.errorDeclaration.reason: <reason> is empty"),
    (doc2(OBJECT.format('<sensorElementList><sensorElement><sensorMetadata value="v"/></sensorElement>'
                        "</sensorElementList>")),
     f"{EV}.sensorElementList[0].sensorMetadata@value: 'v' is not a number"),
])
def test_each_refusal_says_what_and_where(body, said):
    with pytest.raises(InvalidXML) as caught:
        parse_xml_document(body)
    assert str(caught.value) == said


def test_the_limits_hold_exactly_at_their_bounds():
    deep = b"<a>" * 64 + b"</a>" * 64
    with pytest.raises(InvalidXML, match="root element"):
        parse_xml_document(deep)  # 64 levels are read; the document is refused for what it is, not its depth
    big = doc2(OBJECT.format('<ex:a ex:b="' + "y" * (1024 * 1024) + '"/>'), 'xmlns:ex="http://e.x/"')
    assert one(big)["ex:a"] == {"@ex:b": "y" * (1024 * 1024)}
    small = doc2(OBJECT.format(""))
    count = small.count(b"<") - small.count(b"</")
    parse_xml_document(small, max_elements=count)
    with pytest.raises(InvalidXML, match=f"more than {count - 1} elements"):
        parse_xml_document(small, max_elements=count - 1)


@pytest.mark.parametrize(("text", "value"), [("1", True), ("0", False), ("true", True), ("false", False)])
def test_sensor_booleans_take_the_xsd_lexical_forms(text, value):
    sensor = (f'<sensorElementList><sensorElement><sensorReport booleanValue="{text}"/></sensorElement>'
              "</sensorElementList>")
    assert one(doc2(OBJECT.format(sensor)))["sensorElementList"][0]["sensorReport"][0]["booleanValue"] is value


@pytest.mark.parametrize(("text", "value"), [("+5", 5), ("-3", -3), ("1e2", 100.0), (".5", 0.5), ("7.", 7.0)])
def test_quantities_take_the_decimal_forms(text, value):
    ql = (f"<quantityList><quantityElement><epcClass>c</epcClass><quantity>{text}</quantity></quantityElement>"
          "</quantityList>")
    got = one(doc2(OBJECT.format(ql)))["quantityList"][0]["quantity"]
    assert got == value and type(got) is type(value)


def test_a_default_namespace_extension_gets_a_generated_prefix_and_a_nil_value_is_null():
    ev = one(doc2(OBJECT.format('<x xmlns="http://d.example/">1</x>'
                                '<y:n xmlns:y="http://y.example/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
                                ' xsi:nil="1"/>')))
    assert ev["ns:x"] == "1" and ev["y:n"] is None
    doc, _ = parse_xml_document(doc2(OBJECT.format('<x xmlns="http://d.example/">1</x>')))
    assert doc["@context"][1] == {"ns": "http://d.example/"}


def test_a_query_document_in_xml_reads_with_its_name_and_the_master_data_round_trips():
    doc = {**QUERY_DOC, "epcisHeader": {"epcisMasterData": {"vocabularyList": [{
        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [{"id": "urn:epc:id:sgln:0614141.00777.0",
                                   "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "Farm"}],
                                   "children": ["urn:epc:id:sgln:0614141.00777.1"]}]}]}}}
    doc["epcisBody"] = {"queryResults": {**doc["epcisBody"]["queryResults"], "queryName": "mine",
                                         "subscriptionID": "s1"}}
    body = render_query_document(doc)
    assert ET.fromstring(body).find(f"EPCISBody/{Q}QueryResults/subscriptionID").text == "s1"
    again, version = parse_xml_document(body)
    assert version == "2.0" and again["type"] == "EPCISQueryDocument"
    assert again["epcisBody"]["queryResults"]["queryName"] == "mine"
    assert again["epcisHeader"] == doc["epcisHeader"]


def test_an_epcis_document_renders_as_an_epcis_document_and_awkward_names_and_values_survive():
    doc = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
           "schemaVersion": "2.0", "creationDate": "2026-09-20T08:00:00Z", "epcisBody": {"eventList": [{
               "type": "ObjectEvent", "eventTime": "2026-09-20T08:00:00Z", "eventTimeZoneOffset": "+00:00",
               "epcList": [], "action": "OBSERVE",
               "sensorElementList": [{"sensorReport": [{"type": "gs1:T", "stringValue": 'a"b\n<c>&\td\r'}]}],
               "http://full.example/ns#field": "f", "zz:undeclared": "u", "my field": "m", "flag": True}]}}
    body = render_query_document(doc)
    root = ET.fromstring(body)
    assert root.tag == "{urn:epcglobal:epcis:xsd:2}EPCISDocument"
    ev = root.find("EPCISBody/EventList/ObjectEvent")
    assert ev.find("sensorElementList/sensorElement/sensorReport").get("stringValue") == 'a"b\n<c>&\td\r'
    assert ev.findtext("{http://full.example/ns#}field") == "f"
    assert ev.findtext("{urn:tracegraph:undeclared:zz}undeclared") == "u"
    assert ev.findtext("extension/my_field") == "m" and ev.findtext("extension/flag") == "true"


def test_extension_wrappers_inside_ilmd_sensor_elements_error_declarations_and_places_are_unwrapped():
    body = ('<readPoint><id>r</id><extension><ex:p>1</ex:p></extension></readPoint>'
            '<errorDeclaration><declarationTime>2026-09-21T08:00:00Z</declarationTime>'
            '<extension><ex:e>2</ex:e></extension></errorDeclaration>'
            '<sensorElementList><sensorElement><sensorReport type="gs1:T"/><extension><ex:s>3</ex:s></extension>'
            '</sensorElement></sensorElementList>'
            '<ilmd><extension><ex:i>4</ex:i><future>5</future></extension></ilmd>')
    ev = one(doc2(OBJECT.format(body), 'xmlns:ex="http://e.x/"'))
    assert ev["readPoint"] == {"id": "r", "ex:p": "1"}
    assert ev["errorDeclaration"] == {"declarationTime": "2026-09-21T08:00:00Z", "ex:e": "2"}
    assert ev["sensorElementList"] == [{"sensorReport": [{"type": "gs1:T"}], "ex:s": "3"}]
    assert ev["ilmd"] == {"ex:i": "4", "future": "5"}


@pytest.mark.parametrize(("prefix", "written"), [("xmlfoo", "ns"), ("epcisq", "epcisq2"), ("bad prefix", "ns"),
                                                  ("tg", "tg")])
def test_written_prefixes_are_valid_and_never_take_a_reserved_or_used_name(prefix, written):
    doc = {**QUERY_DOC, "@context": [{prefix: "http://p.example/"}]}
    doc["epcisBody"] = {"queryResults": {"queryName": "q", "resultsBody": {"eventList": [{
        "type": "ObjectEvent", "eventTime": "2026-09-20T08:00:00Z", "eventTimeZoneOffset": "+00:00",
        "epcList": [], "action": "OBSERVE", f"{prefix}:x": "1"}]}}}
    body = render_query_document(doc)
    assert f'xmlns:{written}="http://p.example/"'.encode() in body
    assert ET.fromstring(body).find(".//ObjectEvent").findtext("{http://p.example/}x") == "1"


def test_numbers_are_written_as_decimals_and_booleans_as_xsd_booleans():
    doc = {**QUERY_DOC}
    doc["epcisBody"] = {"queryResults": {"queryName": "q", "resultsBody": {"eventList": [{
        "type": "ObjectEvent", "eventTime": "2026-09-20T08:00:00Z", "eventTimeZoneOffset": "+00:00",
        "epcList": [], "action": "OBSERVE", "tg:n": [1e20, 2.5, 7, True, False]}]}}}
    ev = ET.fromstring(render_query_document(doc)).find(".//ObjectEvent")
    assert [e.text for e in ev.findall("{https://tg.example/ns#}n")] == [
        "100000000000000000000", "2.5", "7", "true", "false"]
