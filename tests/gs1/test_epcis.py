import copy

import pytest

from gs1.epcis import normalize_event, normalize_vocab, parse_document
from gs1.errors import InvalidEvent
from tests.gs1.examples import example_names, load_example, require_examples_dir

EXPECTED_EVENT_COUNTS = {
    "AssociationEvent__AssociationEvent-a.jsonld": 1,
    "AssociationEvent__AssociationEvent-b.jsonld": 1,
    "AssociationEvent__AssociationEvent-c.jsonld": 1,
    "AssociationEvent__AssociationEvent-d.jsonld": 1,
    "AssociationEvent__AssociationEvent-e.jsonld": 1,
    "AssociationEvent__AssociationEvent-f.jsonld": 1,
    "AssociationEvent__AssociationEvent-g.jsonld": 1,
    "AssociationEvent__AssociationEvent-h.jsonld": 1,
    "Example-TransactionEvents-2020_07_03y.jsonld": 2,
    "Example-Type-sourceOrDestination_measurement_bizTransaction.jsonld": 1,
    "Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers.jsonld": 2,
    "Example_9.6.1-ObjectEvent.jsonld": 2,
    "Example_9.6.1-with-comment.jsonld": 2,
    "Example_9.6.2-ObjectEvent.jsonld": 1,
    "Example_9.6.3-AggregationEvent.jsonld": 1,
    "Example_9.6.4-TransformationEvent.jsonld": 1,
    "PersistentDisposition-example.jsonld": 2,
    "WithDigitalLinkID__Example_9.6.1-ObjectEventWithDigitalLink.jsonld": 2,
    "WithDigitalLinkID__Example_9.6.2-ObjectEventWithDigitalLink.jsonld": 1,
    "WithDigitalLinkID__Example_9.6.3-AggregationEventWithDigitalLink.jsonld": 1,
    "WithDigitalLinkID__Example_9.6.4-TransformationEventWithDigitalLink.jsonld": 1,
    "WithErrorDeclaration__ErrorDeclarationAndCorrectiveEvent.jsonld": 2,
    "WithErrorDeclaration__Example_9.6.1-ObjectEvent-with-error-declaration.jsonld": 2,
    "WithFullCombinationOfFields__aggregation_event_all_possible_fields.jsonld": 1,
    "WithFullCombinationOfFields__association_event_all_possible_fields.jsonld": 1,
    "WithFullCombinationOfFields__object_event_all_possible_fields.jsonld": 1,
    "WithFullCombinationOfFields__transaction_event_all_possible_fields.jsonld": 1,
    "WithFullCombinationOfFields__transformation_event_all_possible_fields.jsonld": 1,
    "WithSensorData__SensorDataExample1.jsonld": 1,
    "WithSensorData__SensorDataExample10.jsonld": 1,
    "WithSensorData__SensorDataExample11.jsonld": 1,
    "WithSensorData__SensorDataExample12.jsonld": 1,
    "WithSensorData__SensorDataExample13.jsonld": 1,
    "WithSensorData__SensorDataExample14.jsonld": 1,
    "WithSensorData__SensorDataExample15.jsonld": 1,
    "WithSensorData__SensorDataExample16.jsonld": 1,
    "WithSensorData__SensorDataExample17.jsonld": 1,
    "WithSensorData__SensorDataExample1b.jsonld": 1,
    "WithSensorData__SensorDataExample2.jsonld": 1,
    "WithSensorData__SensorDataExample3.jsonld": 1,
    "WithSensorData__SensorDataExample4.jsonld": 1,
    "WithSensorData__SensorDataExample5.jsonld": 1,
    "WithSensorData__SensorDataExample6.jsonld": 1,
    "WithSensorData__SensorDataExample7.jsonld": 1,
    "WithSensorData__SensorDataExample8.jsonld": 1,
    "WithSensorData__SensorDataExample9.jsonld": 1,
}


def test_every_capture_example_is_listed():
    require_examples_dir()
    assert sorted(EXPECTED_EVENT_COUNTS) == example_names()


@pytest.mark.parametrize("name", sorted(EXPECTED_EVENT_COUNTS))
def test_gs1_example_parses_into_expected_number_of_events(name):
    doc = load_example(name)
    events = parse_document(doc)
    assert len(events) == EXPECTED_EVENT_COUNTS[name]
    for ev in events:
        assert ev.event_time.endswith("Z")
        assert ev.raw in doc["epcisBody"]["eventList"]


def _object_event(**extra):
    ev = {
        "type": "ObjectEvent",
        "eventTime": "2024-09-20T08:30:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:6901234.056789.R0001"],
        "bizStep": "shipping",
    }
    ev.update(extra)
    return ev


def test_object_event_is_normalised():
    ev = _object_event(
        quantityList=[{"epcClass": "urn:epc:class:lgtin:6901234.056789.L2024", "quantity": 10, "uom": "KGM"}],
        readPoint={"id": "urn:epc:id:sgln:6901234.00001.0"},
        bizLocation={"id": "https://id.gs1.org/414/6901234000016/254/dock1"},
        disposition="urn:epcglobal:cbv:disp:in_transit",
        bizTransactionList=[{"type": "cbv:BTT-po", "bizTransaction": "urn:epcglobal:cbv:bt:6901234000012:PO1"}],
        destinationList=[{"type": "https://ref.gs1.org/cbv/SDT-owning_party",
                          "destination": "urn:epc:id:pgln:6901234.00002"}],
        **{"example:temp": "4"},
    )
    out = normalize_event(ev)
    assert out.event_time == "2024-09-20T00:30:00.000Z"
    assert out.event_time_zone_offset == "+08:00"
    assert (out.biz_step, out.disposition) == ("shipping", "in_transit")
    assert [(o.ref.key, o.quantity, o.uom) for o in out.objects] == [
        ("item:06901234567892:R0001", None, None),
        ("lot:06901234567892:L2024", 10, "KGM"),
    ]
    assert out.read_point.key == "loc:6901234000016"
    assert out.biz_location.key == "loc:6901234000016:dock1"
    assert out.biz_transactions == [("po", "urn:epcglobal:cbv:bt:6901234000012:PO1")]
    assert [(d.type, d.ref.key) for d in out.destinations] == [("owning_party", "party:6901234000023")]
    assert out.extensions == {"example:temp": "4"}
    assert out.raw is ev and out.event_id is None and out.record_time is None


@pytest.mark.parametrize(
    "value",
    ["shipping", "cbv:BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"],
)
def test_biz_step_notations_normalise_to_the_bare_term(value):
    assert normalize_event(_object_event(bizStep=value)).biz_step == "shipping"


def test_custom_prefix_from_context_is_expanded():
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"jl": "https://jl.example.cn/voc/"}],
        "type": "EPCISDocument",
        "epcisBody": {"eventList": [_object_event(bizStep="jl:drying")]},
    }
    assert parse_document(doc)[0].biz_step == "https://jl.example.cn/voc/drying"
    assert normalize_vocab("cbv:Disp-recalled", "disposition") == "recalled"


def test_aggregation_transformation_and_error_declaration():
    agg = normalize_event({
        "type": "AggregationEvent", "eventTime": "2024-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "action": "ADD", "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": ["https://id.gs1.org/01/09520123456788/21/1"],
        "childQuantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.011122.*", "quantity": 2.5, "uom": "KGM"}],
    })
    assert agg.parent.key == "sscc:106141412345678908"
    assert [c.ref.key for c in agg.children] == ["item:09520123456788:1", "class:04012345111224"]
    tf = normalize_event({
        "type": "TransformationEvent", "eventTime": "2024-01-01T00:00:00.5+01:00", "eventTimeZoneOffset": "+01:00",
        "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011122.P1", "quantity": 100, "uom": "KGM"}],
        "outputEPCList": ["urn:epc:id:sgtin:4012345.011122.B1"],
        "errorDeclaration": {"declarationTime": "2024-01-02T00:00:00+01:00", "reason": "incorrect_data",
                             "correctiveEventIDs": ["urn:uuid:1"]},
    })
    assert tf.action is None and tf.event_time == "2023-12-31T23:00:00.500Z"
    assert [i.ref.key for i in tf.inputs] == ["lot:04012345111224:P1"]
    assert [o.ref.key for o in tf.outputs] == ["item:04012345111224:B1"]
    assert tf.error_declaration == {"declaration_time": "2024-01-01T23:00:00.000Z", "reason": "incorrect_data",
                                    "corrective_event_ids": ["urn:uuid:1"], "extensions": {}}


@pytest.mark.parametrize(
    ("mutate", "location", "message"),
    [
        (lambda ev: ev["epcList"].append("https://id.gs1.org/01/09520123456789/21/1"), "epcList[1]", "check digit"),
        (lambda ev: ev.update(action="MOVE"), "action", "ADD, OBSERVE or DELETE"),
        (lambda ev: ev.update(eventTime="2024-09-20T08:30:00"), "eventTime", "time zone"),
        (lambda ev: ev.update(eventTimeZoneOffset="8"), "eventTimeZoneOffset", r"\+08:00"),
        (lambda ev: ev.update(quantityList=[{"epcClass": "urn:epc:idpat:sgtin:4012345.011122.*", "quantity": "1"}]),
         "quantityList[0].quantity", "number"),
        (lambda ev: ev.update(readPoint={"id": "urn:epc:id:sgtin:0614141.107346.2017"}), "readPoint.id",
         "not a location"),
        (lambda ev: ev.update(type="Event"), "type", "ObjectEvent"),
    ],
)
def test_bad_content_raises_with_its_location(mutate, location, message):
    ev = _object_event()
    mutate(ev)
    doc = {"type": "EPCISDocument", "epcisBody": {"eventList": [_object_event(), _object_event(), ev]}}
    with pytest.raises(InvalidEvent, match=message) as info:
        parse_document(doc)
    assert info.value.location == f"epcisBody.eventList[2].{location}"


def test_raw_is_left_untouched():
    ev = _object_event(bizStep="urn:epcglobal:cbv:bizstep:shipping")
    before = copy.deepcopy(ev)
    normalize_event(ev)
    assert ev == before


def test_single_event_and_query_document_are_accepted():
    assert len(parse_document(_object_event())) == 1
    query_doc = {"type": "EPCISQueryDocument",
                 "epcisBody": {"queryResults": {"resultsBody": {"eventList": [_object_event()]}}}}
    assert len(parse_document(query_doc)) == 1
