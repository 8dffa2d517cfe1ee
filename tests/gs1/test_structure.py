"""Our own EPCIS 2.0 structure check (gs1/structure.py) refuses what GS1's schema refuses, and accepts what it accepts.

The first tests need nothing from outside the repository. The cross-check against GS1's schema and examples runs
when ../shared/epcis (or EPCIS_SCHEMA_PATH) is there and skips, saying so, when it is not.
"""

from __future__ import annotations

import copy
import json

import pytest

from gs1 import schema
from gs1.errors import SchemaUnavailable
from gs1.structure import structure_problems
from tests.gs1.examples import example_names, load_example

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
LOT = "https://id.gs1.org/01/06901234567892/10/L1"
ITEM = "https://id.gs1.org/01/06901234567892/21/S1"
SSCC = "urn:epc:id:sscc:0614141.1234567890"
LOC = {"id": "https://id.gs1.org/414/6901234567892"}
COMMON = {"eventTime": "2026-09-20T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
          "eventID": "urn:uuid:6d4f62a5-3e5b-4a0c-9f55-3e0d6b0c2f11", "bizStep": "shipping",
          "disposition": "in_transit", "readPoint": LOC, "bizLocation": LOC,
          "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234567892:PO1"}],
          "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/6901234567892"}],
          "destinationList": [{"type": "owning_party", "destination": "https://id.gs1.org/417/6901234567892"}],
          "certificationInfo": ["https://example.org/cert/1"],
          "sensorElementList": [{"sensorMetadata": {"time": "2026-09-20T08:00:00+08:00", "deviceID": "urn:d:1"},
                                 "sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL",
                                                   "hexBinaryValue": "0A1B", "booleanValue": True}]}]}

# one full event of each type: every standard field a structure rule looks at
SEEDS = {
    "ObjectEvent": {"type": "ObjectEvent", "action": "ADD", **COMMON, "epcList": [ITEM],
                    "quantityList": [{"epcClass": LOT, "quantity": 5.0, "uom": "KGM"}],
                    "persistentDisposition": {"set": ["completeness_verified"], "unset": ["recalled"]},
                    "ilmd": {"example:harvest": "2026-09-19"}},
    "AggregationEvent": {"type": "AggregationEvent", "action": "ADD", **COMMON, "parentID": SSCC,
                         "childEPCs": [ITEM], "childQuantityList": [{"epcClass": LOT, "quantity": 2, "uom": "KGM"}]},
    "TransactionEvent": {"type": "TransactionEvent", "action": "ADD", **COMMON, "parentID": SSCC,
                         "epcList": [ITEM], "quantityList": [{"epcClass": LOT, "quantity": 1}]},
    "TransformationEvent": {"type": "TransformationEvent", **COMMON, "inputEPCList": [ITEM],
                            "inputQuantityList": [{"epcClass": LOT, "quantity": 1, "uom": "KGM"}],
                            "outputEPCList": ["https://id.gs1.org/01/06901234567892/21/S2"],
                            "outputQuantityList": [{"epcClass": LOT}], "transformationID": "urn:uuid:1",
                            "ilmd": {}},
    "AssociationEvent": {"type": "AssociationEvent", "action": "DELETE", **COMMON,
                         "parentID": "https://id.gs1.org/8004/0614141234567", "childEPCs": [ITEM]},
}
ERROR_DECLARATION = {"declarationTime": "2026-09-21T08:00:00+08:00", "reason": "incorrect_data",
                     "correctiveEventIDs": ["urn:uuid:2"]}


def document(*events: dict) -> dict:
    """An EPCISDocument of these events."""
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-09-20T08:00:00Z", "epcisBody": {"eventList": list(events)}}


def seed_documents() -> list[dict]:
    """Our valid documents: each seed alone, one with an error declaration, a bare event and a query document."""
    docs = [document(copy.deepcopy(ev)) for ev in SEEDS.values()]
    docs.append(document({**copy.deepcopy(SEEDS["ObjectEvent"]), "errorDeclaration": ERROR_DECLARATION}))
    docs.append({"@context": CONTEXT, **copy.deepcopy(SEEDS["ObjectEvent"])})
    docs.append({"@context": CONTEXT, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
                 "creationDate": "2026-09-20T08:00:00Z", "epcisBody": {"queryResults": {
                     "queryName": "SimpleEventQuery",
                     "resultsBody": {"eventList": [copy.deepcopy(SEEDS["ObjectEvent"])]}}}})
    return docs


@pytest.mark.parametrize("doc", seed_documents(), ids=lambda d: d["type"] if d["type"] != "EPCISDocument"
                         else d["epcisBody"]["eventList"][0]["type"] + ("+error" if "errorDeclaration" in
                                                                        d["epcisBody"]["eventList"][0] else ""))
def test_well_formed_documents_pass(doc):
    assert structure_problems(doc) == []


def _event(doc: dict) -> dict:
    return doc["epcisBody"]["eventList"][0]


# (event type, change to the event, the location named, a word of the message)
BROKEN = [
    ("ObjectEvent", {"action": "MOVE"}, "epcisBody.eventList[0].action", "is not one of"),
    ("ObjectEvent", {"action": None}, "epcisBody.eventList[0].action", "is not one of"),
    ("ObjectEvent", {"action": "_delete"}, "epcisBody.eventList[0]", "'action' is a required property"),
    ("AggregationEvent", {"action": "_delete"}, "epcisBody.eventList[0]", "'action' is a required property"),
    ("ObjectEvent", {"eventTime": "_delete"}, "epcisBody.eventList[0]", "'eventTime' is a required property"),
    ("TransformationEvent", {"eventTimeZoneOffset": "_delete"}, "epcisBody.eventList[0]", "'eventTimeZoneOffset'"),
    ("ObjectEvent", {"eventTime": 20260920}, "epcisBody.eventList[0].eventTime", "'string'"),
    ("ObjectEvent", {"eventTimeZoneOffset": "+8:00"}, "epcisBody.eventList[0].eventTimeZoneOffset", "offset"),
    ("ObjectEvent", {"eventTimeZoneOffset": "+14:30"}, "epcisBody.eventList[0].eventTimeZoneOffset", "offset"),
    ("TransactionEvent", {"bizTransactionList": "_delete"}, "epcisBody.eventList[0]", "'bizTransactionList'"),
    ("TransactionEvent", {"bizTransactionList": []}, "epcisBody.eventList[0].bizTransactionList", "non-empty"),
    ("AssociationEvent", {"parentID": "_delete"}, "epcisBody.eventList[0]", "'parentID' is a required property"),
    ("ObjectEvent", {"epcList": ITEM}, "epcisBody.eventList[0].epcList", "'array'"),
    ("ObjectEvent", {"epcList": [ITEM, ITEM]}, "epcisBody.eventList[0].epcList", "non-unique"),
    ("ObjectEvent", {"epcList": [7]}, "epcisBody.eventList[0].epcList[0]", "'string'"),
    ("ObjectEvent", {"quantityList": [{"quantity": 1}]}, "epcisBody.eventList[0].quantityList[0]", "'epcClass'"),
    ("ObjectEvent", {"quantityList": [{"epcClass": LOT, "quantity": "5"}]},
     "epcisBody.eventList[0].quantityList[0].quantity", "'number'"),
    ("ObjectEvent", {"quantityList": [{"epcClass": LOT, "quantity": True}]},
     "epcisBody.eventList[0].quantityList[0].quantity", "'number'"),
    ("ObjectEvent", {"quantityList": [{"epcClass": LOT, "uom": "kg"}]},
     "epcisBody.eventList[0].quantityList[0].uom", "does not match"),
    ("ObjectEvent", {"quantityList": [{"epcClass": LOT, "unit": "KGM"}]},
     "epcisBody.eventList[0].quantityList[0]", "additional properties"),
    ("TransformationEvent", {"inputQuantityList": {"epcClass": LOT}},
     "epcisBody.eventList[0].inputQuantityList", "'array'"),
    ("TransformationEvent", {"outputEPCList": [ITEM, ITEM]}, "epcisBody.eventList[0].outputEPCList", "non-unique"),
    ("AggregationEvent", {"childQuantityList": [{"epcClass": 5}]},
     "epcisBody.eventList[0].childQuantityList[0].epcClass", "'string'"),
    ("ObjectEvent", {"bizStep": "urn:epcglobal:cbv:bizstep:shipping"}, "epcisBody.eventList[0].bizStep", "CBV 1.x"),
    ("ObjectEvent", {"disposition": ["active"]}, "epcisBody.eventList[0].disposition", "'string'"),
    ("ObjectEvent", {"readPoint": {}}, "epcisBody.eventList[0].readPoint", "'id' is a required property"),
    ("ObjectEvent", {"bizLocation": LOC["id"]}, "epcisBody.eventList[0].bizLocation", "'object'"),
    ("ObjectEvent", {"sourceList": [{"source": "https://id.gs1.org/417/6901234567892"}]},
     "epcisBody.eventList[0].sourceList[0]", "'type' is a required property"),
    ("ObjectEvent", {"destinationList": [{"type": "owning_party", "destination": "x", "note": 1}]},
     "epcisBody.eventList[0].destinationList[0]", "additional properties"),
    ("ObjectEvent", {"bizTransactionList": [{"type": "po"}]},
     "epcisBody.eventList[0].bizTransactionList[0]", "'bizTransaction' is a required property"),
    ("ObjectEvent", {"persistentDisposition": {"set": []}}, "epcisBody.eventList[0].persistentDisposition.set",
     "non-empty"),
    ("ObjectEvent", {"persistentDisposition": {}}, "epcisBody.eventList[0].persistentDisposition", "'set' or"),
    ("ObjectEvent", {"persistentDisposition": {"add": ["active"]}}, "epcisBody.eventList[0].persistentDisposition",
     "additional properties"),
    ("ObjectEvent", {"ilmd": "harvested"}, "epcisBody.eventList[0].ilmd", "'object'"),
    ("ObjectEvent", {"errorDeclaration": {"reason": "incorrect_data"}}, "epcisBody.eventList[0].errorDeclaration",
     "'declarationTime'"),
    ("ObjectEvent", {"certificationInfo": 7}, "epcisBody.eventList[0].certificationInfo", "URI"),
    ("ObjectEvent", {"sensorElementList": [{"sensorMetadata": {}}]}, "epcisBody.eventList[0].sensorElementList[0]",
     "'sensorReport'"),
    ("ObjectEvent", {"sensorElementList": [{"sensorReport": []}]},
     "epcisBody.eventList[0].sensorElementList[0].sensorReport", "non-empty"),
    ("ObjectEvent", {"sensorElementList": [{"sensorReport": [{"value": 4}]}]},
     "epcisBody.eventList[0].sensorElementList[0].sensorReport[0]", "'type'"),
    ("ObjectEvent", {"sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": "4"}]}]},
     "epcisBody.eventList[0].sensorElementList[0].sensorReport[0].value", "'number'"),
    ("ObjectEvent", {"sensorElementList": [{"sensorReport": [{"type": "Temperature", "hexBinaryValue": "0xZZ"}]}]},
     "epcisBody.eventList[0].sensorElementList[0].sensorReport[0].hexBinaryValue", "does not match"),
    ("ObjectEvent", {"type": 3}, "epcisBody.eventList[0].type", "'string'"),
]


@pytest.mark.parametrize("ev_type,change,location,word", BROKEN,
                         ids=[f"{t}-{'-'.join(c)}-{w}" for t, c, _, w in BROKEN])
def test_a_broken_structure_is_named_where_it_breaks(ev_type, change, location, word):
    doc = document(copy.deepcopy(SEEDS[ev_type]))
    for name, value in change.items():
        if value == "_delete":
            del _event(doc)[name]
        else:
            _event(doc)[name] = value
    problems = structure_problems(doc)
    assert any(p.startswith(location + ": ") and word in p for p in problems), problems


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("@context"), "(document): '@context' is a required property"),
    (lambda d: d.pop("schemaVersion"), "(document): 'schemaVersion' is a required property"),
    (lambda d: d.update(schemaVersion="two"), "schemaVersion: 'two' is not a version such as '2.0'"),
    (lambda d: d.update(creationDate=None), "creationDate: null is not of type 'string'"),
    (lambda d: d.update(epcisBody=[]), "epcisBody: [] is not of type 'object'"),
    (lambda d: d["epcisBody"].pop("eventList"), "epcisBody: 'eventList' is a required property"),
    (lambda d: d["epcisBody"].update(eventList={}), "epcisBody.eventList: {} is not of type 'array'"),
    (lambda d: d["epcisBody"].update(eventList=[7]), "epcisBody.eventList[0]: 7 is not of type 'object'"),
    (lambda d: d.update(type=None), "type: null is not of type 'string'"),
])
def test_a_broken_document_is_named_where_it_breaks(change, message):
    doc = document(copy.deepcopy(SEEDS["ObjectEvent"]))
    change(doc)
    assert message in structure_problems(doc)


def test_a_bare_event_needs_its_own_context():
    assert structure_problems(copy.deepcopy(SEEDS["ObjectEvent"])) == ["(document): '@context' is a required property"]


def test_what_the_schema_leaves_open_stays_open():
    """Extension fields, other CBV URIs, undeclared fields of an event type: the schema accepts them, so do we."""
    ev = copy.deepcopy(SEEDS["AggregationEvent"])
    ev.update({"example:temp": {"x": 1}, "bizStep": "https://example.org/steps/drying", "ilmd": "not checked here",
               "epcList": "not an AggregationEvent field"})
    assert structure_problems(document(ev)) == []


# --- the cross-check with GS1's schema -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema_refuses():
    """Whether GS1's schema refuses a document (as capture applies it: formats not asserted); skips without it.

    jsonschema-rs with formats off gives the reference validator's verdicts about 100 times faster, which is what
    lets every single change of every example be tried; test_the_fast_verdict_is_the_reference_one holds the two
    together.
    """
    try:
        schema.get_validator()
    except SchemaUnavailable as e:
        pytest.skip(f"GS1's EPCIS JSON schema is not here ({e}); our own structure rules are tested above")
    import jsonschema_rs

    with open(schema.schema_path(), encoding="utf-8") as fh:
        fast = jsonschema_rs.Draft7Validator(json.load(fh), validate_formats=False)
    return lambda doc: not fast.is_valid(doc)


_ODD_VALUES = (None, 7, 4.5, True, "x", "MOVE", "+8:00", "kg", "urn:epcglobal:cbv:bizstep:shipping", [], ["x"],
               [{}], {}, {"id": 1})


# GS1's examples get the few values that differ in JSON type (they hold ~20x more fields than our seeds)
_FEW_VALUES = (None, 7, "x", [], {})


def mutations(doc: dict, odd_values: tuple = _ODD_VALUES):
    """Every single change of the first event's values (and the document's own fields) to an odd value or away."""
    def walk(node, path):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in list(items):
            if isinstance(node, dict):
                yield path + (key,), "_delete"
            for odd in odd_values:
                if odd != value:
                    yield path + (key,), odd
            yield from walk(value, path + (key,))

    for field in list(doc):
        if field != "epcisBody":
            yield from (((field,), v) for v in ("_delete", None, 7, "x", [], {}))
    if doc.get("type") == "EPCISDocument" and doc["epcisBody"]["eventList"]:
        yield from walk(doc["epcisBody"]["eventList"][0], ("epcisBody", "eventList", 0))


def _apply(doc: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value == "_delete":
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _agree(doc: dict, schema_refuses, odd_values: tuple = _ODD_VALUES) -> list[str]:
    disagreements = []
    for path, value in mutations(doc, odd_values):
        changed = _apply(doc, path, value)
        ours, theirs = bool(structure_problems(changed)), schema_refuses(changed)
        if ours != theirs:
            disagreements.append(f"{'.'.join(map(str, path))} = {json.dumps(value)}: ours {ours}, GS1 {theirs}")
    return disagreements


def test_the_fast_verdict_is_the_reference_one(schema_refuses):
    changed = [_apply(doc, path, value) for doc in seed_documents() for path, value in mutations(doc)]
    for doc in changed[::50]:
        assert schema_refuses(doc) == bool(schema.validate_document(doc)), doc


def test_our_seeds_and_every_change_of_them_get_the_schemas_verdict(schema_refuses):
    for doc in seed_documents():
        assert not schema_refuses(doc)
        assert _agree(doc, schema_refuses) == []


@pytest.mark.parametrize("name", example_names() or ["(GS1 examples folder absent)"])
def test_gs1_examples_and_every_change_of_them_get_the_schemas_verdict(schema_refuses, name):
    doc = load_example(name)
    assert structure_problems(doc) == []
    assert _agree(doc, schema_refuses, _FEW_VALUES) == []
