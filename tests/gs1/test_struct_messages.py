"""Every message of our own EPCIS structure rules, exactly as a client reads it, with the location it names.

tests/gs1/test_structure.py holds the verdicts to GS1's schema; this file holds the words: one change to a valid
seed event per case, and the whole list of problems it must give (``E`` stands for ``epcisBody.eventList[0]``).
Named to sort before test_structure.py: its fast tests fail first when a message breaks (mutation runs use -x).
"""

from __future__ import annotations

import copy

import pytest

from gs1.structure import structure_problems
from tests.gs1.test_structure import CONTEXT, ITEM, LOT, SEEDS, document

D = "_delete"

CASES = [
    ("ObjectEvent", {"action": "MOVE"}, ["E.action: \"MOVE\" is not one of ['OBSERVE', 'ADD', 'DELETE']"]),
    (
        "ObjectEvent",
        {"action": D, "epcList": D, "quantityList": D, "sensorElementList": D},
        [
            "E: 'action' is a required property",
            "E: an ObjectEvent needs an epcList, a non-empty quantityList, or sensor data with a readPoint",
        ],
    ),
    (
        "ObjectEvent",
        {"eventTime": D, "eventTimeZoneOffset": D},
        ["E: 'eventTime' is a required property", "E: 'eventTimeZoneOffset' is a required property"],
    ),
    (
        "ObjectEvent",
        {"eventTime": 1, "recordTime": 2, "eventID": 3},
        [
            "E.eventTime: 1 is not of type 'string'",
            "E.recordTime: 2 is not of type 'string'",
            "E.eventID: 3 is not of type 'string'",
        ],
    ),
    ("ObjectEvent", {"eventTimeZoneOffset": "+14:00"}, []),
    ("ObjectEvent", {"eventTimeZoneOffset": "-13:59"}, []),
    (
        "ObjectEvent",
        {"eventTimeZoneOffset": "+14:01"},
        ["E.eventTimeZoneOffset: '+14:01' is not a time zone offset such as '+08:00'"],
    ),
    (
        "ObjectEvent",
        {"eventTimeZoneOffset": "08:00"},
        ["E.eventTimeZoneOffset: '08:00' is not a time zone offset such as '+08:00'"],
    ),
    (
        "ObjectEvent",
        {"eventTimeZoneOffset": "+08:00 "},
        ["E.eventTimeZoneOffset: '+08:00 ' is not a time zone offset such as '+08:00'"],
    ),
    ("ObjectEvent", {"eventTimeZoneOffset": 8}, ["E.eventTimeZoneOffset: 8 is not of type 'string'"]),
    ("ObjectEvent", {"certificationInfo": "https://c.example/1"}, []),
    ("ObjectEvent", {"certificationInfo": ["x", 2]}, ["E.certificationInfo[1]: 2 is not of type 'string'"]),
    ("ObjectEvent", {"certificationInfo": {"a": 1}}, ["E.certificationInfo: must be a URI or a list of URIs"]),
    ("ObjectEvent", {"@context": 5}, ["E.@context: must be a URI, an object or a list of them"]),
    (
        "ObjectEvent",
        {"@context": ["a", "a", 3, {"x": "y"}]},
        ["E.@context: has non-unique elements", "E.@context[2]: must be a URI or an object"],
    ),
    ("ObjectEvent", {"@context": {"x": "y"}}, []),
    (
        "ObjectEvent",
        {
            "epcList": [
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            ]
        },
        [],
    ),
    (
        "ObjectEvent",
        {
            "epcList": "y" * 100
        },
        [
            "E.epcList: \"" + "y" * 79 + " is not of type 'array'"
        ],
    ),
    ("ObjectEvent", {"epcList": [], "quantityList": D, "sensorElementList": D}, []),
    (
        "ObjectEvent",
        {"epcList": D, "quantityList": [], "sensorElementList": D},
        ["E: an ObjectEvent needs an epcList, a non-empty quantityList, or sensor data with a readPoint"],
    ),
    (
        "ObjectEvent",
        {"epcList": D, "quantityList": D, "readPoint": D},
        ["E: an ObjectEvent needs an epcList, a non-empty quantityList, or sensor data with a readPoint"],
    ),
    ("ObjectEvent", {"epcList": D, "quantityList": D}, []),
    (
        "ObjectEvent",
        {"epcList": D, "quantityList": D, "sensorElementList": []},
        ["E: an ObjectEvent needs an epcList, a non-empty quantityList, or sensor data with a readPoint"],
    ),
    ("ObjectEvent", {"epcList": D, "quantityList": [{"epcClass": LOT}]}, []),
    ("ObjectEvent", {"action": "OBSERVE"}, ["E.ilmd: ilmd is only allowed with action ADD"]),
    ("ObjectEvent", {"action": "DELETE"}, ["E.ilmd: ilmd is only allowed with action ADD"]),
    ("ObjectEvent", {"action": "OBSERVE", "ilmd": D}, []),
    (
        "ObjectEvent",
        {
            "quantityList": [
                5,
                {"epcClass": LOT, "quantity": 1.5, "uom": "KG"},
                {"epcClass": LOT, "uom": "KGMM"},
                {"epcClass": LOT, "uom": 3},
            ]
        },
        [
            "E.quantityList[0]: 5 is not of type 'object'",
            "E.quantityList[2].uom: 'KGMM' does not match '^[A-Z0-9]{2,3}$'",
            "E.quantityList[3].uom: 3 is not of type 'string'",
        ],
    ),
    (
        "ObjectEvent",
        {"quantityList": [{"epcClass": LOT, "quantity": None, "uom": "kgm", "x": 1, "a": 2}]},
        [
            "E.quantityList[0]: additional properties are not allowed ('a', 'x')",
            "E.quantityList[0].quantity: null is not of type 'number'",
            "E.quantityList[0].uom: 'kgm' does not match '^[A-Z0-9]{2,3}$'",
        ],
    ),
    ("ObjectEvent", {"quantityList": "q"}, ["E.quantityList: \"q\" is not of type 'array'"]),
    (
        "ObjectEvent",
        {"bizStep": "urn:epcglobal:cbv:bizstep:x", "disposition": "http://ns.gs1.org/cbv/Disp-x"},
        [
            "E.bizStep: 'urn:epcglobal:cbv:bizstep:x' is a CBV 1.x URI; write the CBV 2.0 value",
            "E.disposition: 'http://ns.gs1.org/cbv/Disp-x' is a CBV 1.x URI; write the CBV 2.0 value",
        ],
    ),
    (
        "ObjectEvent",
        {"bizStep": "https://ns.gs1.org/cbv/BizStep-x", "disposition": "https://ref.gs1.org/cbv/Disp-active"},
        ["E.bizStep: 'https://ns.gs1.org/cbv/BizStep-x' is a CBV 1.x URI; write the CBV 2.0 value"],
    ),
    ("ObjectEvent", {"bizStep": "xurn:epcglobal:cbv:bizstep:x"}, []),
    (
        "ObjectEvent",
        {"readPoint": {"id": 5}, "bizLocation": []},
        ["E.readPoint.id: 5 is not of type 'string'", "E.bizLocation: [] is not of type 'object'"],
    ),
    (
        "ObjectEvent",
        {"persistentDisposition": {"set": ["a", "a"], "unset": "b", "x": 1}},
        [
            "E.persistentDisposition: additional properties are not allowed ('x')",
            "E.persistentDisposition.set: has non-unique elements",
            "E.persistentDisposition.unset: \"b\" is not of type 'array'",
        ],
    ),
    (
        "ObjectEvent",
        {"persistentDisposition": {"unset": [1, "urn:epcglobal:cbv:disp:active"]}},
        [
            "E.persistentDisposition.unset[0]: 1 is not of type 'string'",
            "E.persistentDisposition.unset[1]: 'urn:epcglobal:cbv:disp:active'"
            " is a CBV 1.x URI; write the CBV 2.0 value",
        ],
    ),
    ("ObjectEvent", {"persistentDisposition": {"set": ["active"]}}, []),
    (
        "ObjectEvent",
        {"persistentDisposition": "active"},
        ["E.persistentDisposition: \"active\" is not of type 'object'"],
    ),
    (
        "ObjectEvent",
        {"errorDeclaration": {"declarationTime": 5, "reason": "urn:epcglobal:cbv:er:x", "correctiveEventIDs": "u"}},
        [
            "E.errorDeclaration.declarationTime: 5 is not of type 'string'",
            "E.errorDeclaration.reason: 'urn:epcglobal:cbv:er:x' is a CBV 1.x URI; write the CBV 2.0 value",
            "E.errorDeclaration.correctiveEventIDs: \"u\" is not of type 'array'",
        ],
    ),
    (
        "ObjectEvent",
        {"errorDeclaration": {"declarationTime": "t", "reason": 7, "correctiveEventIDs": [1, "u"]}},
        [
            "E.errorDeclaration.reason: 7 is not of type 'string'",
            "E.errorDeclaration.correctiveEventIDs[0]: 1 is not of type 'string'",
        ],
    ),
    ("ObjectEvent", {"errorDeclaration": []}, ["E.errorDeclaration: [] is not of type 'object'"]),
    (
        "ObjectEvent",
        {"bizTransactionList": [{"bizTransaction": "b"}, 5, {"type": 1, "bizTransaction": 2, "z": 0}]},
        [
            "E.bizTransactionList[1]: 5 is not of type 'object'",
            "E.bizTransactionList[2]: additional properties are not allowed ('z')",
            "E.bizTransactionList[2].type: 1 is not of type 'string'",
            "E.bizTransactionList[2].bizTransaction: 2 is not of type 'string'",
        ],
    ),
    ("ObjectEvent", {"bizTransactionList": {}}, ["E.bizTransactionList: {} is not of type 'array'"]),
    (
        "ObjectEvent",
        {"sourceList": [{"type": "urn:epcglobal:cbv:sdt:owning_party", "source": 3}, {}], "destinationList": "d"},
        [
            "E.sourceList[0].type: 'urn:epcglobal:cbv:sdt:owning_party' is a CBV 1.x URI; write the CBV 2.0 value",
            "E.sourceList[0].source: 3 is not of type 'string'",
            "E.sourceList[1]: 'type' is a required property",
            "E.sourceList[1]: 'source' is a required property",
            "E.destinationList: \"d\" is not of type 'array'",
        ],
    ),
    (
        "ObjectEvent",
        {"destinationList": [{"destination": "d"}]},
        ["E.destinationList[0]: 'type' is a required property"],
    ),
    ("ObjectEvent", {"sensorElementList": "s"}, ["E.sensorElementList: \"s\" is not of type 'array'"]),
    (
        "ObjectEvent",
        {"sensorElementList": [5, {"sensorMetadata": [], "sensorReport": "r"}]},
        [
            "E.sensorElementList[0]: 5 is not of type 'object'",
            "E.sensorElementList[1].sensorMetadata: [] is not of type 'object'",
            "E.sensorElementList[1].sensorReport: \"r\" is not of type 'array'",
        ],
    ),
    (
        "ObjectEvent",
        {
            "sensorElementList": [
                {
                    "sensorMetadata": {
                        "time": 1,
                        "deviceID": 1,
                        "deviceMetadata": 1,
                        "rawData": 1,
                        "startTime": 1,
                        "endTime": 1,
                        "dataProcessingMethod": 1,
                        "bizRules": 1,
                        "other": 1,
                    },
                    "sensorReport": [{"type": "Temperature"}],
                }
            ]
        },
        [
            "E.sensorElementList[0].sensorMetadata.time: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.deviceID: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.deviceMetadata: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.rawData: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.startTime: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.endTime: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.dataProcessingMethod: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorMetadata.bizRules: 1 is not of type 'string'",
        ],
    ),
    (
        "ObjectEvent",
        {
            "sensorElementList": [
                {
                    "sensorReport": [
                        3,
                        {
                            "type": "https://gs1.org/voc/Temperature",
                            "exception": "http://www.gs1.org/voc/ALARM_CONDITION",
                            "component": "urn:epcglobal:cbv:comp:x",
                        },
                    ]
                }
            ]
        },
        [
            "E.sensorElementList[0].sensorReport[0]: 3 is not of type 'object'",
            "E.sensorElementList[0].sensorReport[1].type: 'https://gs1.org/voc/Temperature'"
            " is a CBV 1.x URI; write the CBV 2.0 value",
            "E.sensorElementList[0].sensorReport[1].exception: 'http://www.gs1.org/voc/ALARM_CONDITION'"
            " is a CBV 1.x URI; write the CBV 2.0 value",
            "E.sensorElementList[0].sensorReport[1].component: 'urn:epcglobal:cbv:comp:x'"
            " is a CBV 1.x URI; write the CBV 2.0 value",
        ],
    ),
    (
        "ObjectEvent",
        {"sensorElementList": [{"sensorReport": [{"type": 1, "exception": 2, "component": 3}]}]},
        [
            "E.sensorElementList[0].sensorReport[0].type: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].exception: 2 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].component: 3 is not of type 'string'",
        ],
    ),
    (
        "ObjectEvent",
        {
            "sensorElementList": [
                {
                    "sensorReport": [
                        {
                            "type": "urn:epcglobal:cbv:x",
                            "deviceID": 1,
                            "deviceMetadata": 1,
                            "rawData": 1,
                            "dataProcessingMethod": 1,
                            "bizRules": 1,
                            "microorganism": 1,
                            "chemicalSubstance": 1,
                            "coordinateReferenceSystem": 1,
                            "uriValue": 1,
                            "time": 1,
                            "stringValue": 1,
                            "uom": 1,
                        }
                    ]
                }
            ]
        },
        [
            "E.sensorElementList[0].sensorReport[0].deviceID: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].deviceMetadata: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].rawData: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].dataProcessingMethod: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].bizRules: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].microorganism: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].chemicalSubstance: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].coordinateReferenceSystem: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].uriValue: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].time: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].stringValue: 1 is not of type 'string'",
            "E.sensorElementList[0].sensorReport[0].uom: 1 is not of type 'string'",
        ],
    ),
    (
        "ObjectEvent",
        {
            "sensorElementList": [
                {
                    "sensorReport": [
                        {
                            "type": "T",
                            "value": "1",
                            "minValue": "1",
                            "maxValue": "1",
                            "meanValue": "1",
                            "sDev": "1",
                            "percRank": "1",
                            "percValue": "1",
                            "booleanValue": 1,
                            "hexBinaryValue": 5,
                        }
                    ]
                }
            ]
        },
        [
            "E.sensorElementList[0].sensorReport[0].value: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].minValue: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].maxValue: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].meanValue: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].sDev: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].percRank: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].percValue: \"1\" is not of type 'number'",
            "E.sensorElementList[0].sensorReport[0].booleanValue: is not of type 'boolean'",
            "E.sensorElementList[0].sensorReport[0].hexBinaryValue: 5 is not of type 'string'",
        ],
    ),
    (
        "ObjectEvent",
        {
            "sensorElementList": [
                {
                    "sensorReport": [
                        {
                            "type": "T",
                            "value": True,
                            "minValue": 1,
                            "maxValue": 2.5,
                            "booleanValue": False,
                            "hexBinaryValue": "abcDEF09",
                        }
                    ]
                }
            ]
        },
        ["E.sensorElementList[0].sensorReport[0].value: true is not of type 'number'"],
    ),
    (
        "ObjectEvent",
        {"sensorElementList": [{"sensorReport": [{"type": "T", "hexBinaryValue": ""}]}]},
        ["E.sensorElementList[0].sensorReport[0].hexBinaryValue: '' does not match '^[A-Fa-f0-9]+$'"],
    ),
    (
        "ObjectEvent",
        {"type": "https://example.org/MyEvent", "action": "MOVE", "eventTime": 5},
        ["E.eventTime: 5 is not of type 'string'"],
    ),
    ("ObjectEvent", {"type": D}, ["E: 'type' is a required property"]),
    (
        "AggregationEvent",
        {"action": "ADD", "childEPCs": [], "childQuantityList": []},
        ["E: an AggregationEvent with action ADD needs childEPCs or a childQuantityList"],
    ),
    (
        "AggregationEvent",
        {"action": "OBSERVE", "childEPCs": D, "childQuantityList": D},
        ["E: an AggregationEvent with action OBSERVE needs childEPCs or a childQuantityList"],
    ),
    ("AggregationEvent", {"action": "DELETE", "childEPCs": D, "childQuantityList": D}, []),
    ("AggregationEvent", {"action": D, "childEPCs": D, "childQuantityList": D}, ["E: 'action' is a required property"]),
    ("AggregationEvent", {"action": "ADD", "childEPCs": D, "childQuantityList": [{"epcClass": LOT}]}, []),
    (
        "AggregationEvent",
        {
            "childEPCs": [ITEM, ITEM],
            "parentID": 5,
            "epcList": 5,
            "ilmd": 5,
            "persistentDisposition": 5,
            "transformationID": 5,
        },
        ["E.parentID: 5 is not of type 'string'"],
    ),
    (
        "AssociationEvent",
        {"action": "ADD", "childEPCs": D},
        ["E: an AssociationEvent with action ADD needs childEPCs or a childQuantityList"],
    ),
    (
        "AssociationEvent",
        {"action": "ADD", "childEPCs": [ITEM], "parentID": D},
        ["E: 'parentID' is a required property"],
    ),
    (
        "TransactionEvent",
        {"action": "ADD", "epcList": D, "quantityList": D},
        ["E: a TransactionEvent with action ADD needs an epcList or a quantityList"],
    ),
    ("TransactionEvent", {"action": "OBSERVE", "epcList": [], "quantityList": D}, []),
    ("TransactionEvent", {"action": "DELETE", "epcList": D, "quantityList": D}, []),
    (
        "TransactionEvent",
        {"action": "ADD", "epcList": D, "quantityList": []},
        ["E: a TransactionEvent with action ADD needs an epcList or a quantityList"],
    ),
    (
        "TransactionEvent",
        {"epcList": [ITEM, ITEM], "parentID": 1, "bizTransactionList": []},
        ["E.parentID: 1 is not of type 'string'", "E.bizTransactionList: should be non-empty"],
    ),
    ("TransformationEvent", {"action": "MOVE"}, []),
    ("TransformationEvent", {"inputEPCList": D, "inputQuantityList": D}, []),
    (
        "TransformationEvent",
        {"inputEPCList": D, "inputQuantityList": D, "transformationID": D},
        ["E: a TransformationEvent needs inputs and outputs, or either with a transformationID"],
    ),
    (
        "TransformationEvent",
        {"outputEPCList": D, "outputQuantityList": D, "transformationID": D},
        ["E: a TransformationEvent needs inputs and outputs, or either with a transformationID"],
    ),
    ("TransformationEvent", {"outputEPCList": D, "outputQuantityList": [], "inputEPCList": []}, []),
    ("TransformationEvent", {"inputEPCList": D, "outputQuantityList": D}, []),
    ("TransformationEvent", {"inputEPCList": D, "outputEPCList": D, "transformationID": D}, []),
    ("TransformationEvent", {"inputQuantityList": D, "outputEPCList": D, "transformationID": D}, []),
    (
        "TransformationEvent",
        {"inputEPCList": [ITEM, ITEM], "transformationID": 5, "ilmd": [], "persistentDisposition": {}},
        [
            "E.inputEPCList: has non-unique elements",
            "E.transformationID: 5 is not of type 'string'",
            "E.persistentDisposition: needs 'set' or 'unset'",
            "E.ilmd: [] is not of type 'object'",
        ],
    ),
]


def _changed(seed: str, change: dict) -> dict:
    ev = copy.deepcopy(SEEDS[seed])
    for name, value in change.items():
        if value == D:
            ev.pop(name, None)
        else:
            ev[name] = value
    return ev


@pytest.mark.parametrize(("seed", "change", "problems"), CASES)
def test_each_broken_rule_gives_its_message_at_its_location(seed, change, problems):
    expected = [p.replace("E", "epcisBody.eventList[0]", 1) for p in problems]
    assert structure_problems(document(_changed(seed, change))) == expected


def test_long_values_are_cut_in_messages():
    problems = structure_problems(document(_changed("ObjectEvent", {"epcList": "y" * 100})))
    assert problems == ['epcisBody.eventList[0].epcList: "' + "y" * 79 + " is not of type 'array'"]


def _query(body) -> dict:
    return {"@context": CONTEXT, "type": "EPCISQueryDocument", "epcisBody": body}


def _doc(**fields) -> dict:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "c",
        "epcisBody": {"eventList": []},
        **fields,
    }


@pytest.mark.parametrize(
    ("doc", "problems"),
    [
        ([], ["(document): [] is not of type 'object'"]),
        ("x", ["(document): \"x\" is not of type 'object'"]),
        ({"type": 5}, ["type: 5 is not of type 'string'"]),
        (
            {"type": "EPCISDocument"},
            [
                "(document): '@context' is a required property",
                "(document): 'schemaVersion' is a required property",
                "(document): 'creationDate' is a required property",
                "(document): 'epcisBody' is a required property",
            ],
        ),
        (
            {"type": "EPCISQueryDocument"},
            ["(document): '@context' is a required property", "(document): 'epcisBody' is a required property"],
        ),
        (_doc(schemaVersion="2.0.1"), []),
        (_doc(schemaVersion="2", epcisHeader={}, id="i", instanceIdentifier="1", sender="s", receiver="r"), []),
        (
            _doc(schemaVersion="2.", creationDate=1, id=1, instanceIdentifier=2, sender=3, receiver=4, epcisHeader=[]),
            [
                "schemaVersion: '2.' is not a version such as '2.0'",
                "id: 1 is not of type 'string'",
                "creationDate: 1 is not of type 'string'",
                "instanceIdentifier: 2 is not of type 'string'",
                "sender: 3 is not of type 'string'",
                "receiver: 4 is not of type 'string'",
                "epcisHeader: [] is not of type 'object'",
            ],
        ),
        (_doc(schemaVersion="v2.0"), ["schemaVersion: 'v2.0' is not a version such as '2.0'"]),
        (
            _doc(schemaVersion=2, epcisBody={"event": {}}),
            ["schemaVersion: 2 is not of type 'string'", "epcisBody: 'eventList' is a required property"],
        ),
        (
            _doc(epcisBody={"eventList": [copy.deepcopy(SEEDS["ObjectEvent"]), 7]}),
            ["epcisBody.eventList[1]: 7 is not of type 'object'"],
        ),
        (_query({}), ["epcisBody: 'queryResults' is a required property"]),
        (_query([]), ["epcisBody: [] is not of type 'object'"]),
        (_query({"queryResults": []}), ["epcisBody.queryResults: [] is not of type 'object'"]),
        (
            _query({"queryResults": {}}),
            [
                "epcisBody.queryResults: 'queryName' is a required property",
                "epcisBody.queryResults: 'resultsBody' is a required property",
            ],
        ),
        (
            _query({"queryResults": {"queryName": 1, "resultsBody": []}}),
            [
                "epcisBody.queryResults.queryName: 1 is not of type 'string'",
                "epcisBody.queryResults.resultsBody: [] is not of type 'object'",
            ],
        ),
        (
            _query({"queryResults": {"queryName": "q", "resultsBody": {}}}),
            ["epcisBody.queryResults.resultsBody: 'eventList' is a required property"],
        ),
        (
            _query({"queryResults": {"queryName": "q", "resultsBody": {"eventList": {}}}}),
            ["epcisBody.queryResults.resultsBody.eventList: {} is not of type 'array'"],
        ),
        (
            _query({"queryResults": {"queryName": "q", "resultsBody": {"eventList": [5, {"type": "ObjectEvent"}]}}}),
            [
                "epcisBody.queryResults.resultsBody.eventList[0]: 5 is not of type 'object'",
                "epcisBody.queryResults.resultsBody.eventList[1]: 'eventTime' is a required property",
                "epcisBody.queryResults.resultsBody.eventList[1]: 'eventTimeZoneOffset' is a required property",
                "epcisBody.queryResults.resultsBody.eventList[1]: 'action' is a required property",
                "epcisBody.queryResults.resultsBody.eventList[1]: an ObjectEvent needs an epcList, a non-empty "
                "quantityList, or sensor data with a readPoint",
            ],
        ),
        (
            {**_query({"queryResults": {"queryName": "q", "resultsBody": {"eventList": []}}}), "@context": 5},
            ["@context: must be a URI, an object or a list of them"],
        ),
        (
            {
                "type": "EPCISQueryDocument",
                "schemaVersion": "x",
                "epcisBody": {"queryResults": {"queryName": "q", "resultsBody": {"eventList": []}}},
            },
            ["(document): '@context' is a required property", "schemaVersion: 'x' is not a version such as '2.0'"],
        ),
        (
            {"type": "Foo"},
            [
                "(document): '@context' is a required property",
                "(document): 'eventTime' is a required property",
                "(document): 'eventTimeZoneOffset' is a required property",
            ],
        ),
        (
            {
                "type": "ObjectEvent",
                "@context": [],
                "action": "ADD",
                "eventTime": "t",
                "eventTimeZoneOffset": "+00:00",
                "epcList": [],
            },
            [],
        ),
        (
            {
                "type": "ObjectEvent",
                "@context": "c",
                "action": "ADD",
                "eventTime": "t",
                "eventTimeZoneOffset": "+00:00",
                "epcList": [],
                "eventID": 5,
            },
            ["eventID: 5 is not of type 'string'"],
        ),
    ],
)
def test_document_level_messages(doc, problems):
    assert structure_problems(doc) == problems


# The fields each event type declares in GS1's schema (besides those all five share); elsewhere they are extensions.
DECLARED = {
    "ObjectEvent": {"epcList", "quantityList", "persistentDisposition", "ilmd"},
    "AggregationEvent": {"parentID", "childEPCs", "childQuantityList"},
    "TransactionEvent": {"parentID", "epcList", "quantityList"},
    "TransformationEvent": {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                            "transformationID", "persistentDisposition", "ilmd"},
    "AssociationEvent": {"parentID", "childEPCs", "childQuantityList"},
}
WRONG = {"epcList": ("x", "array"), "childEPCs": ("x", "array"), "inputEPCList": ("x", "array"),
         "outputEPCList": ("x", "array"), "quantityList": ("x", "array"), "childQuantityList": ("x", "array"),
         "inputQuantityList": ("x", "array"), "outputQuantityList": ("x", "array"), "parentID": (5, "string"),
         "transformationID": (5, "string"), "persistentDisposition": (5, "object"), "ilmd": (5, "object")}


@pytest.mark.parametrize("ev_type", sorted(DECLARED))
@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_field_is_checked_only_on_the_event_types_that_declare_it(ev_type, name):
    value, json_type = WRONG[name]
    problems = structure_problems(document(_changed(ev_type, {name: value})))
    shown = '"x"' if value == "x" else "5"
    expected = [f"epcisBody.eventList[0].{name}: {shown} is not of type '{json_type}'"]
    assert problems == (expected if name in DECLARED[ev_type] else [])
