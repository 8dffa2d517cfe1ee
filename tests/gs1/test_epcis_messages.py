"""What a client reads when normalisation refuses an event: the exact message and location, for every check.

Also every derived value of a NormalizedEvent, for each notation the standard allows.
"""

import pytest

from gs1.epcis import (
    DEFAULT_PREFIXES,
    context_prefixes,
    document_events,
    expand_curie,
    normalize_event,
    normalize_vocab,
    parse_document,
    parse_time,
    utc_iso,
)
from gs1.errors import InvalidEvent

LGTIN = "urn:epc:class:lgtin:6901234.056789.L2024"


def _event(**fields):
    ev = {"type": "ObjectEvent", "eventTime": "2024-09-20T08:30:00+08:00", "eventTimeZoneOffset": "+08:00",
          "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:6901234.056789.R0001"]}
    ev.update(fields)
    return {k: v for k, v in ev.items() if v is not None}


def _refusal(ev, location=""):
    with pytest.raises(InvalidEvent) as caught:
        normalize_event(ev, location)
    return caught.value.location, caught.value.message


_TYPES = "AggregationEvent, AssociationEvent, ObjectEvent, TransactionEvent, TransformationEvent"
_SDT = "https://ref.gs1.org/cbv/SDT-owning_party"


@pytest.mark.parametrize(
    ("fields", "location", "message"),
    [
        ({"type": "Event"}, "type", f"type must be one of {_TYPES}, got 'Event'"),
        ({"type": None}, "type", f"type must be one of {_TYPES}, got None"),
        ({"type": "epcis:Event"}, "type", f"type must be one of {_TYPES}, got 'Event'"),
        ({"type": "TransformationEvent", "epcList": None, "action": "ADD"}, "action",
         "a TransformationEvent has no action"),
        ({"action": "MOVE"}, "action", "action must be ADD, OBSERVE or DELETE, got 'MOVE'"),
        ({"action": None}, "action", "action must be ADD, OBSERVE or DELETE, got None"),
        ({"eventTime": None}, "eventTime", "eventTime is required"),
        ({"eventTime": "2024-09-20T08:30:00"}, "eventTime",
         "'2024-09-20T08:30:00' is not a date-time with a time zone (e.g. 2024-05-01T08:30:00+08:00)"),
        ({"eventTime": 20240920}, "eventTime",
         "20240920 is not a date-time with a time zone (e.g. 2024-05-01T08:30:00+08:00)"),
        ({"eventTime": "2024-02-30T08:30:00Z"}, "eventTime",
         "'2024-02-30T08:30:00Z' is not a valid date-time: day is out of range for month"),
        ({"eventTime": "2024-09-20T08:30:00+14:01"}, "eventTime",
         "'2024-09-20T08:30:00+14:01' has a time zone offset beyond +/-14:00"),
        ({"eventTime": "2024-09-20T08:30:00-14:01"}, "eventTime",
         "'2024-09-20T08:30:00-14:01' has a time zone offset beyond +/-14:00"),
        ({"eventTime": "0001-12-31T23:59:59Z"}, "eventTime",
         "'0001-12-31T23:59:59Z' is out of range: use a time between 0002-01-01 and 9998-12-31"),
        ({"eventTime": "9999-01-01T00:00:00Z"}, "eventTime",
         "'9999-01-01T00:00:00Z' is out of range: use a time between 0002-01-01 and 9998-12-31"),
        ({"eventTimeZoneOffset": "8"}, "eventTimeZoneOffset", "eventTimeZoneOffset must look like +08:00, got '8'"),
        ({"eventTimeZoneOffset": "+15:00"}, "eventTimeZoneOffset",
         "eventTimeZoneOffset must look like +08:00, got '+15:00'"),
        ({"eventTimeZoneOffset": "+08:60"}, "eventTimeZoneOffset",
         "eventTimeZoneOffset must look like +08:00, got '+08:60'"),
        ({"eventTimeZoneOffset": 8}, "eventTimeZoneOffset", "eventTimeZoneOffset must look like +08:00, got 8"),
        ({"recordTime": "yesterday"}, "recordTime",
         "'yesterday' is not a date-time with a time zone (e.g. 2024-05-01T08:30:00+08:00)"),
        ({"eventID": ""}, "eventID", "expected a non-empty string, got ''"),
        ({"eventID": 7}, "eventID", "expected a non-empty string, got 7"),
        ({"bizStep": ""}, "bizStep", "expected a non-empty string, got ''"),
        ({"disposition": ["x"]}, "disposition", "expected a non-empty string, got ['x']"),
        ({"epcList": "urn:epc:id:sgtin:6901234.056789.R0001"}, "epcList", "epcList must be a list"),
        ({"epcList": ["urn:epc:id:sgtin:6901234.056789.R0001", "x y"]}, "epcList[1]",
         "identifier 'x y' is not a URI"),
        ({"quantityList": {}}, "quantityList", "quantityList must be a list"),
        ({"quantityList": [LGTIN]}, "quantityList[0]", "a quantity element must be an object"),
        ({"quantityList": [{"quantity": 1}]}, "quantityList[0]", "a quantity element needs epcClass"),
        ({"quantityList": [{"epcClass": "nope"}]}, "quantityList[0].epcClass", "identifier 'nope' is not a URI"),
        ({"quantityList": [{"epcClass": LGTIN, "quantity": "1"}]}, "quantityList[0].quantity",
         "quantity must be a number, got '1'"),
        ({"quantityList": [{"epcClass": LGTIN, "quantity": True}]}, "quantityList[0].quantity",
         "quantity must be a number, got True"),
        ({"quantityList": [{"epcClass": LGTIN, "quantity": -0.5}]}, "quantityList[0].quantity",
         "quantity must not be negative, got -0.5"),
        ({"quantityList": [{"epcClass": LGTIN, "quantity": 1, "uom": 5}]}, "quantityList[0].uom",
         "uom must be a string, got 5"),
        ({"quantityList": [{"epcClass": LGTIN, "uom": "KGM"}]}, "quantityList[0].uom",
         "uom is given without a quantity"),
        ({"readPoint": "urn:epc:id:sgln:6901234.00001.0"}, "readPoint", "readPoint must be an object with an id"),
        ({"bizLocation": {"name": "x"}}, "bizLocation", "bizLocation must be an object with an id"),
        ({"bizLocation": {"id": "urn:epc:id:sgtin:0614141.107346.2017"}}, "bizLocation.id",
         "'urn:epc:id:sgtin:0614141.107346.2017' identifies a item, not a location or party"),
        ({"bizTransactionList": {}}, "bizTransactionList", "bizTransactionList must be a list"),
        ({"bizTransactionList": ["urn:x:1"]}, "bizTransactionList[0]",
         "each entry needs a bizTransaction identifier"),
        ({"bizTransactionList": [{"type": "po"}]}, "bizTransactionList[0]",
         "each entry needs a bizTransaction identifier"),
        ({"bizTransactionList": [{"type": "", "bizTransaction": "urn:x:1"}]}, "bizTransactionList[0].type",
         "expected a non-empty string, got ''"),
        ({"bizTransactionList": [{"bizTransaction": ""}]}, "bizTransactionList[0].bizTransaction",
         "expected a non-empty string, got ''"),
        ({"sourceList": [{"type": _SDT}]}, "sourceList[0]", "each entry needs a 'source' identifier"),
        ({"sourceList": ["urn:epc:id:pgln:6901234.00002"]}, "sourceList[0]", "each entry needs a 'source' identifier"),
        ({"destinationList": [{"source": "urn:epc:id:pgln:6901234.00002"}]}, "destinationList[0]",
         "each entry needs a 'destination' identifier"),
        ({"destinationList": [{"type": 1, "destination": "urn:epc:id:pgln:6901234.00002"}]},
         "destinationList[0].type", "expected a non-empty string, got 1"),
        ({"sourceList": [{"source": "https://id.gs1.org/00/106141412345678908"}]}, "sourceList[0].source",
         "'https://id.gs1.org/00/106141412345678908' identifies a sscc, not a location or party"),
        ({"sensorElementList": {}}, "sensorElementList", "sensorElementList must be a list"),
        ({"sourceList": "x"}, "sourceList", "sourceList must be a list"),
        ({"destinationList": {}}, "destinationList", "destinationList must be a list"),
        ({"ilmd": []}, "ilmd", "ilmd must be an object"),
        ({"transformationID": ""}, "transformationID", "expected a non-empty string, got ''"),
        ({"persistentDisposition": []}, "persistentDisposition", "persistentDisposition must be an object"),
        ({"persistentDisposition": {"set": "recalled"}}, "persistentDisposition.set", "set must be a list"),
        ({"persistentDisposition": {"unset": "recalled"}}, "persistentDisposition.unset", "unset must be a list"),
        ({"persistentDisposition": {"set": ["recalled", ""]}}, "persistentDisposition.set[1]",
         "expected a non-empty string, got ''"),
        ({"errorDeclaration": "now"}, "errorDeclaration", "errorDeclaration must be an object"),
        ({"errorDeclaration": {"reason": "did_not_occur"}}, "errorDeclaration",
         "errorDeclaration needs declarationTime"),
        ({"errorDeclaration": {"declarationTime": "2024-01-02T00:00:00Z", "reason": ""}}, "errorDeclaration.reason",
         "expected a non-empty string, got ''"),
        ({"errorDeclaration": {"declarationTime": "2024-01-02T00:00:00Z", "correctiveEventIDs": "urn:uuid:1"}},
         "errorDeclaration.correctiveEventIDs", "correctiveEventIDs must be a list"),
        ({"errorDeclaration": {"declarationTime": "2024-01-02T00:00:00Z", "correctiveEventIDs": ["urn:uuid:1", 2]}},
         "errorDeclaration.correctiveEventIDs[1]", "expected a non-empty string, got 2"),
        ({"errorDeclaration": {"declarationTime": "2024-01-02"}}, "errorDeclaration.declarationTime",
         "'2024-01-02' is not a date-time with a time zone (e.g. 2024-05-01T08:30:00+08:00)"),
    ],
)
def test_each_refusal_names_its_location_and_reason(fields, location, message):
    ev = _event(**fields)
    assert _refusal(ev) == (location, message)
    assert _refusal(ev, "epcisBody.eventList[4]") == (f"epcisBody.eventList[4].{location}", message)
    with pytest.raises(InvalidEvent) as caught:
        normalize_event(ev, "here")
    assert str(caught.value) == f"here.{location}: {message}"


def test_refusals_in_the_lists_of_other_event_types_name_their_list():
    agg = {"type": "AggregationEvent", "action": "ADD", "eventTime": "2024-01-01T00:00:00Z",
           "parentID": "urn:epc:id:sscc:0614141.1234567890"}
    assert _refusal({**agg, "childEPCs": ["a b"]}) == ("childEPCs[0]", "identifier 'a b' is not a URI")
    assert _refusal({**agg, "childQuantityList": [{}]}) == ("childQuantityList[0]", "a quantity element needs epcClass")
    assert _refusal({**agg, "parentID": "a b"}) == ("parentID", "identifier 'a b' is not a URI")
    tf = {"type": "TransformationEvent", "eventTime": "2024-01-01T00:00:00Z"}
    assert _refusal({**tf, "inputEPCList": ["a b"]}) == ("inputEPCList[0]", "identifier 'a b' is not a URI")
    assert _refusal({**tf, "inputQuantityList": [1]}) == (
        "inputQuantityList[0]", "a quantity element must be an object")
    assert _refusal({**tf, "outputEPCList": "x"}) == ("outputEPCList", "outputEPCList must be a list")
    assert _refusal({**tf, "outputQuantityList": [{"epcClass": LGTIN, "quantity": -1}]}) == (
        "outputQuantityList[0].quantity", "quantity must not be negative, got -1")
    assert _refusal({**tf, "action": "OBSERVE"}) == ("action", "a TransformationEvent has no action")


def test_a_non_object_event_is_refused_at_its_own_location():
    assert _refusal([]) == ("", "an event must be a JSON object")
    assert _refusal("x", "epcisBody.eventList[0]") == ("epcisBody.eventList[0]", "an event must be a JSON object")


def test_every_field_is_derived():
    ev = _event(
        eventID="urn:uuid:0f1e", recordTime="2024-09-20T09:00:00.123456+08:00",
        bizStep="urn:epcglobal:cbv:bizstep:receiving", disposition="cbv:Disp-in_progress",
        quantityList=[{"epcClass": LGTIN, "quantity": 0}, {"epcClass": LGTIN, "quantity": 2.5, "uom": "KGM"}],
        readPoint={"id": "urn:epc:id:sgln:6901234.00001.0"}, bizLocation={"id": "urn:epc:id:sgln:6901234.00001.7"},
        parentID="urn:epc:id:sscc:0614141.1234567890",
        bizTransactionList=[{"bizTransaction": "urn:x:po:1"},
                            {"type": "urn:epcglobal:cbv:btt:desadv", "bizTransaction": "urn:x:desadv:1"}],
        sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00002"},
                    {"source": "urn:epc:id:sgln:6901234.00001.0"}],
        destinationList=[{"type": "cbv:SDT-location", "destination": "https://id.gs1.org/414/6901234000016"}],
        sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 4}]}],
        ilmd={"cbvmda:lotNumber": "L2024"}, certificationInfo="https://cert.example/1",
        persistentDisposition={"set": ["cbv:Disp-recalled"], "unset": ["urn:epcglobal:cbv:disp:active"]},
        errorDeclaration={"declarationTime": "2024-09-21T00:00:00+08:00", "reason": "cbv:ER-did_not_occur",
                          "example:note": "typo"},
        transformationID="urn:x:t:1", **{"example:temp": 4, "@context": [{"example": "https://ex.example/"}]},
    )
    out = normalize_event(ev)
    assert out.type == "ObjectEvent" and out.action == "OBSERVE" and out.event_id == "urn:uuid:0f1e"
    assert out.event_time == "2024-09-20T00:30:00.000Z" and out.event_time_zone_offset == "+08:00"
    assert out.record_time == "2024-09-20T01:00:00.123456Z"
    assert (out.biz_step, out.disposition) == ("receiving", "in_progress")
    assert [(o.ref.key, o.quantity, o.uom) for o in out.objects] == [
        ("item:06901234567892:R0001", None, None), ("lot:06901234567892:L2024", 0, None),
        ("lot:06901234567892:L2024", 2.5, "KGM")]
    assert (out.read_point.key, out.biz_location.key) == ("loc:6901234000016", "loc:6901234000016:7")
    assert out.parent is None  # an ObjectEvent has no parent, whatever it carries
    assert out.biz_transactions == [(None, "urn:x:po:1"), ("desadv", "urn:x:desadv:1")]
    assert [(s.type, s.ref.key) for s in out.sources] == [("owning_party", "party:6901234000023"),
                                                           (None, "loc:6901234000016")]
    assert [(d.type, d.ref.key) for d in out.destinations] == [("location", "loc:6901234000016")]
    assert out.sensor_elements == [{"sensorReport": [{"type": "Temperature", "value": 4}]}]
    assert out.ilmd == {"cbvmda:lotNumber": "L2024"} and out.certification_info == "https://cert.example/1"
    assert out.persistent_disposition == {"set": ["recalled"], "unset": ["active"]}
    assert out.error_declaration == {"declaration_time": "2024-09-20T16:00:00.000Z", "reason": "did_not_occur",
                                     "corrective_event_ids": [], "extensions": {"example:note": "typo"}}
    assert out.transformation_id == "urn:x:t:1"
    assert out.extensions == {"example:temp": 4}
    assert (out.children, out.inputs, out.outputs) == ([], [], [])


def test_absent_optional_fields_give_empty_values():
    out = normalize_event(_event(epcList=None))
    assert out.objects == [] and out.sources == [] and out.destinations == [] and out.biz_transactions == []
    assert out.sensor_elements == [] and out.extensions == {}
    assert (out.event_id, out.record_time, out.biz_step, out.disposition, out.read_point, out.biz_location,
            out.parent, out.transformation_id, out.persistent_disposition, out.error_declaration, out.ilmd,
            out.certification_info) == (None,) * 12
    pd = normalize_event(_event(persistentDisposition={"set": ["recalled"]})).persistent_disposition
    assert pd == {"set": ["recalled"], "unset": []}
    ed = normalize_event(_event(errorDeclaration={"declarationTime": "2024-01-01T00:00:00Z"})).error_declaration
    assert ed == {"declaration_time": "2024-01-01T00:00:00.000Z", "reason": None, "corrective_event_ids": [],
                  "extensions": {}}


@pytest.mark.parametrize("ev_type", ["AggregationEvent", "AssociationEvent", "TransactionEvent"])
def test_parent_is_read_for_the_types_that_have_one(ev_type):
    out = normalize_event({"type": f"epcis:{ev_type}" if ev_type == "AssociationEvent" else ev_type, "action": "ADD",
                           "eventTime": "2024-01-01T00:00:00Z", "parentID": "urn:epc:id:sscc:0614141.1234567890",
                           "epcList": ["urn:x:o"], "childEPCs": ["urn:x:c"]})
    assert out.type == ev_type and out.parent.key == "sscc:106141412345678908"
    if ev_type == "TransactionEvent":
        assert [o.ref.key for o in out.objects] == ["other:urn:x:o"] and out.children == []
    else:
        assert [c.ref.key for c in out.children] == ["other:urn:x:c"] and out.objects == []


def test_transformation_event_reads_inputs_and_outputs_only():
    out = normalize_event({"type": "TransformationEvent", "eventTime": "2024-01-01T00:00:00Z",
                           "epcList": ["urn:x:o"], "childEPCs": ["urn:x:c"], "parentID": "urn:x:p",
                           "inputEPCList": ["urn:x:i"], "inputQuantityList": [{"epcClass": LGTIN, "quantity": 3}],
                           "outputEPCList": ["urn:x:out"], "outputQuantityList": [{"epcClass": LGTIN}]})
    assert [(i.ref.key, i.quantity) for i in out.inputs] == [("other:urn:x:i", None),
                                                            ("lot:06901234567892:L2024", 3)]
    assert [(o.ref.key, o.quantity) for o in out.outputs] == [("other:urn:x:out", None),
                                                             ("lot:06901234567892:L2024", None)]
    assert out.objects == [] and out.children == [] and out.parent is None and out.action is None


@pytest.mark.parametrize(
    ("event_time", "offset"),
    [("2024-01-01T00:00:00Z", "+00:00"), ("2024-01-01T00:00:00+00:00", "+00:00"),
     ("2024-01-01T00:00:00-05:30", "-05:30"), ("2024-01-01T00:00:00+14:00", "+14:00"),
     ("2024-01-01T00:00:00-00:45", "-00:45"), ("2024-01-01T00:00:00+09:05", "+09:05")],
)
def test_missing_offset_is_taken_from_the_event_time(event_time, offset):
    assert normalize_event(_event(eventTime=event_time, eventTimeZoneOffset=None)).event_time_zone_offset == offset


@pytest.mark.parametrize("offset", ["+14:00", "-14:00", "+00:00", "-09:59", "+10:30"])
def test_offsets_at_the_edges_are_accepted(offset):
    assert normalize_event(_event(eventTimeZoneOffset=offset)).event_time_zone_offset == offset


@pytest.mark.parametrize(
    ("text", "utc"),
    [("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z"),
     ("2024-01-01T08:00:00.5+08:00", "2024-01-01T00:00:00.500Z"),
     ("2024-01-01T00:00:00.123Z", "2024-01-01T00:00:00.123Z"),
     ("2024-01-01T00:00:00.1234Z", "2024-01-01T00:00:00.123400Z"),
     ("2024-01-01T00:00:00.000001Z", "2024-01-01T00:00:00.000001Z"),
     ("2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123456Z"),
     ("2024-01-01T00:00:00.9999999+01:00", "2023-12-31T23:00:00.999999Z"),
     ("0002-01-01T00:00:00Z", "0002-01-01T00:00:00.000Z"),
     ("9998-12-31T23:59:59.999999Z", "9998-12-31T23:59:59.999999Z"),
     ("2024-06-30T23:00:00-14:00", "2024-07-01T13:00:00.000Z")],
)
def test_times_are_written_in_utc_with_the_precision_they_carry(text, utc):
    assert utc_iso(parse_time(text, "eventTime")) == utc


def test_parse_time_refusals_carry_the_given_location():
    with pytest.raises(InvalidEvent) as caught:
        parse_time("2024-01-01T00:00Z", "epcisBody.eventList[0].eventTime")
    assert caught.value.location == "epcisBody.eventList[0].eventTime"
    assert caught.value.message == (
        "'2024-01-01T00:00Z' is not a date-time with a time zone (e.g. 2024-05-01T08:30:00+08:00)")


def test_context_prefixes_read_string_entries_of_objects_only():
    prefixes = context_prefixes(
        ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
         {"jl": "https://jl.example.cn/voc/", "@vocab": "https://v.example/", "n": 1, "cbv": "https://cbv.example/"}],
        {"ex": "https://ex.example/"}, None, "https://other.example/ctx.jsonld")
    assert prefixes == {**DEFAULT_PREFIXES, "jl": "https://jl.example.cn/voc/", "cbv": "https://cbv.example/",
                        "ex": "https://ex.example/"}
    assert context_prefixes() == DEFAULT_PREFIXES and context_prefixes() is not DEFAULT_PREFIXES
    assert DEFAULT_PREFIXES == {"cbv": "https://ref.gs1.org/cbv/", "gs1": "https://gs1.org/voc/",
                                "epcis": "https://ref.gs1.org/epcis/", "cbvmda": "urn:epcglobal:cbv:mda:"}


@pytest.mark.parametrize(
    ("value", "expanded"),
    [("cbv:BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping"), ("gs1:Place", "https://gs1.org/voc/Place"),
     ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda:lotNumber"), ("jl:x", "jl:x"), ("cbv://x", "cbv://x"),
     ("shipping", "shipping"), ("cbv:", "https://ref.gs1.org/cbv/"),
     ("cbv:BizStep-a:b", "https://ref.gs1.org/cbv/BizStep-a:b"), ("jl:cbv:x", "jl:cbv:x")],
)
def test_expand_curie_expands_declared_prefixes_only(value, expanded):
    assert expand_curie(value, DEFAULT_PREFIXES) == expanded


@pytest.mark.parametrize(
    ("value", "vocabulary", "term"),
    [("in_transit", "disposition", "in_transit"),
     ("urn:epcglobal:cbv:disp:in_transit", "disposition", "in_transit"),
     ("cbv:Disp-in_transit", "disposition", "in_transit"),
     ("https://ref.gs1.org/cbv/Disp-in_transit", "disposition", "in_transit"),
     ("http://ref.gs1.org/cbv/Disp-in_transit", "disposition", "in_transit"),
     ("cbv:BizStep-shipping", "disposition", "https://ref.gs1.org/cbv/BizStep-shipping"),
     ("urn:epcglobal:cbv:bizstep:shipping", "disposition", "urn:epcglobal:cbv:bizstep:shipping"),
     ("cbv:BTT-po", "bizTransactionType", "po"), ("urn:epcglobal:cbv:btt:inv", "bizTransactionType", "inv"),
     ("cbv:SDT-possessing_party", "sourceDestType", "possessing_party"),
     ("urn:epcglobal:cbv:sdt:location", "sourceDestType", "location"),
     ("cbv:ER-incorrect_data", "errorReason", "incorrect_data"),
     ("urn:epcglobal:cbv:er:did_not_occur", "errorReason", "did_not_occur"),
     ("urn:epcglobal:cbv:bizstep:shipping", "bizStep", "shipping"),
     ("https://example.org/steps/drying", "bizStep", "https://example.org/steps/drying"),
     # our own bizSteps (D8 of docs/gs1_openapi.md): our URI is the word; an unknown word of ours, or our URI for
     # another vocabulary, stays a URI
     ("https://tracegraph.example/ns/BizStep-harvesting", "bizStep", "harvesting"),
     ("https://tracegraph.example/ns/BizStep-slaughtering", "bizStep", "slaughtering"),
     ("https://tracegraph.example/ns/BizStep-drying", "bizStep", "https://tracegraph.example/ns/BizStep-drying"),
     ("https://tracegraph.example/ns/BizStep-harvesting", "disposition",
      "https://tracegraph.example/ns/BizStep-harvesting")],
)
def test_normalize_vocab_reduces_every_cbv_notation(value, vocabulary, term):
    assert normalize_vocab(value, vocabulary) == term


def test_normalize_vocab_uses_the_given_prefixes():
    assert normalize_vocab("my:Disp-x", "disposition", {"my": "https://ref.gs1.org/cbv/"}) == "x"
    assert normalize_vocab("cbv:Disp-x", "disposition", {"cbv": "https://elsewhere.example/"}) == (
        "https://elsewhere.example/Disp-x")
    assert normalize_vocab("tg:BizStep-slaughtering", "bizStep", {"tg": "https://tracegraph.example/ns/"}) == (
        "slaughtering")


def test_an_event_context_adds_to_the_document_prefixes():
    doc = {"@context": [{"jl": "https://jl.example.cn/voc/"}], "type": "EPCISDocument", "epcisBody": {"eventList": [
        _event(bizStep="jl:drying", disposition="ex:dry"),
        _event(bizStep="jl:drying", disposition="ex:dry", **{"@context": {"ex": "https://ex.example/"}})]}}
    first, second = parse_document(doc)
    assert (first.biz_step, first.disposition) == ("https://jl.example.cn/voc/drying", "ex:dry")
    assert (second.biz_step, second.disposition) == ("https://jl.example.cn/voc/drying", "https://ex.example/dry")
    alone = normalize_event(_event(bizStep="cbv:BizStep-packing", **{"@context": {"ex": "https://ex.example/"}}))
    assert alone.biz_step == "packing"


def test_document_events_finds_the_events_of_each_document_shape():
    ev = _event()
    assert document_events(ev) == ([ev], "")
    bare = _event(type="epcis:ObjectEvent")
    assert document_events(bare) == ([bare], "")
    assert document_events({"epcisBody": {"eventList": [ev, ev]}}) == ([ev, ev], "epcisBody.eventList")
    assert document_events({"epcisBody": {"event": ev}}) == ([ev], "epcisBody.event")
    assert document_events({"epcisBody": {"queryResults": {"resultsBody": {"eventList": [ev]}}}}) == (
        [ev], "epcisBody.queryResults.resultsBody.eventList")


@pytest.mark.parametrize(
    ("doc", "location", "message"),
    [([], "", "an EPCIS document must be a JSON object"),
     ({"type": "EPCISDocument"}, "epcisBody", "an EPCISDocument needs an epcisBody object"),
     ({"type": "epcis:Event", "epcisBody": []}, "epcisBody", "an EPCISDocument needs an epcisBody object"),
     ({"epcisBody": {}}, "epcisBody", "epcisBody has no eventList"),
     ({"epcisBody": {"queryResults": []}}, "epcisBody", "epcisBody has no eventList"),
     ({"epcisBody": {"eventList": {}}}, "epcisBody.eventList", "eventList must be a list"),
     ({"epcisBody": {"queryResults": {}}}, "epcisBody.queryResults.resultsBody.eventList",
      "eventList must be a list"),
     ({"epcisBody": {"queryResults": {"resultsBody": {"eventList": "x"}}}},
      "epcisBody.queryResults.resultsBody.eventList", "eventList must be a list")],
)
def test_document_refusals_name_where(doc, location, message):
    with pytest.raises(InvalidEvent) as caught:
        parse_document(doc)
    assert (caught.value.location, caught.value.message) == (location, message)


def test_event_locations_follow_the_document_shape():
    bad = _event(action="MOVE")
    for doc, location in [
        (bad, "action"),
        ({"epcisBody": {"event": bad}}, "epcisBody.event.action"),
        ({"epcisBody": {"eventList": [_event(), bad]}}, "epcisBody.eventList[1].action"),
        ({"epcisBody": {"queryResults": {"resultsBody": {"eventList": [bad]}}}},
         "epcisBody.queryResults.resultsBody.eventList[0].action"),
    ]:
        with pytest.raises(InvalidEvent) as caught:
            parse_document(doc)
        assert caught.value.location == location


def test_a_document_context_reaches_every_shape():
    ctx = {"jl": "https://jl.example.cn/voc/"}
    ev = _event(bizStep="jl:drying")
    for doc in ({**ev, "@context": ctx}, {"@context": ctx, "epcisBody": {"event": ev}},
                {"@context": [ctx], "epcisBody": {"eventList": [ev]}}):
        assert [e.biz_step for e in parse_document(doc)] == ["https://jl.example.cn/voc/drying"]


def test_refusals_without_a_location_name_the_field_alone():
    with pytest.raises(InvalidEvent) as caught:
        normalize_event(_event(action="MOVE"))
    assert caught.value.location == "action"


def test_the_event_context_reaches_sources_error_reasons_and_persistent_dispositions():
    ev = _event(**{"@context": [{"my": "https://ref.gs1.org/cbv/"}],
                   "sourceList": [{"type": "my:SDT-owning_party", "source": "urn:epc:id:pgln:6901234.00002"}],
                   "errorDeclaration": {"declarationTime": "2024-01-02T00:00:00Z", "reason": "my:ER-incorrect_data"},
                   "persistentDisposition": {"set": ["my:Disp-recalled"]}})
    out = normalize_event(ev)
    assert [s.type for s in out.sources] == ["owning_party"]
    assert out.error_declaration["reason"] == "incorrect_data"
    assert out.persistent_disposition == {"set": ["recalled"], "unset": []}
    doc = {"@context": [{"my": "https://ref.gs1.org/cbv/"}], "epcisBody": {"eventList": [
        {k: v for k, v in ev.items() if k != "@context"}]}}
    (again,) = parse_document(doc)
    assert again.sources == out.sources and again.error_declaration == out.error_declaration
    assert again.persistent_disposition == out.persistent_disposition


def test_times_are_utc_whatever_the_machines_time_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "CST-8")  # POSIX form: needs no tz database
    time.tzset()
    try:
        assert utc_iso(parse_time("2024-01-01T08:00:00+08:00", "eventTime")) == "2024-01-01T00:00:00.000Z"
        assert normalize_event(_event()).event_time == "2024-09-20T00:30:00.000Z"
    finally:
        monkeypatch.undo()
        time.tzset()
