"""gs1/event_query.py: the SimpleEventQuery grammar and predicates on an event document, without a database."""

from __future__ import annotations

import pytest

from gs1.event_query import EventView, QueryParameterError, compile_params, matches, parse_extensions

NS = "https://example.org/ns/"
EVENT = {
    "type": "ObjectEvent", "ilmd": {"ex:grade": "A", "ex:moisture": 14.5, "ex:lab": {"ex:name": "Jilin"}},
    "ex:carrier": "Jilin Cold", "ex:sealed": True, "ex:loaded": "2026-09-21T08:00:00+08:00",
    "bizTransactionList": [{"type": "urn:epcglobal:cbv:btt:po", "bizTransaction": "urn:x:po:1"}],
    "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/6990000000015"}],
    "persistentDisposition": {"set": ["cbv:Disp-completeness_inferred"], "unset": ["recalled"]},
    "sensorElementList": [
        {"sensorMetadata": {"deviceID": "urn:d:1", "startTime": "2026-09-21T00:00:00Z", "bizRules": "urn:rule:1"},
         "sensorReport": [{"type": "gs1:Temperature", "value": 9.5, "uom": "CEL"},
                          {"type": "gs1:RelativeHumidity", "value": 40, "uom": "A93"}]}],
    "errorDeclaration": {"declarationTime": "2026-09-22T00:00:00Z", "reason": "cbv:ER-incorrect_data",
                         "correctiveEventIDs": ["urn:uuid:c1"]},
    "quantityList": [{"epcClass": "urn:x", "quantity": 10, "uom": "KGM"}],
    "transformationID": "urn:t:1",
}
VIEW = EventView.of(EVENT, ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": NS}])


@pytest.mark.parametrize(("params", "expected"), [
    ({f"EQ_ILMD_{NS}grade": "B|A"}, True),
    ({f"EQ_ILMD_{NS}grade": "B"}, False),
    ({"EQ_ILMD_ex:grade": "A"}, True),  # the event's own prefix, written as the event wrote it
    ({f"GE_ILMD_{NS}moisture": "14.5"}, True),
    ({f"GT_ILMD_{NS}moisture": "14.5"}, False),
    ({f"EQ_INNER_ILMD_{NS}name": "Jilin"}, True),
    ({f"EQ_ILMD_{NS}name": "Jilin"}, False),  # nested: only INNER reaches it
    ({f"EQ_{NS}sealed": "true"}, True),
    ({f"GE_{NS}loaded": "2026-09-21T00:00:00Z"}, True),
    ({f"LT_{NS}loaded": "2026-09-21T00:00:00Z"}, False),
    ({f"EXISTS_{NS}carrier": ""}, True),
    ({f"EXISTS_{NS}colour": ""}, False),
    ({"EQ_bizTransaction_po": "urn:x:po:1"}, True),
    ({"EQ_bizTransaction_inv": "urn:x:po:1"}, False),
    ({"EQ_source_owning_party": "urn:epc:id:pgln:6990000.00001"}, True),
    ({"EQ_destination_owning_party": "https://id.gs1.org/417/6990000000015"}, False),
    ({"EQ_persistentDisposition_set": "completeness_inferred"}, True),
    ({"EQ_persistentDisposition_unset": "completeness_inferred"}, False),
    ({"EQ_persistentDisposition_unset": "urn:epcglobal:cbv:disp:recalled"}, True),
    ({"EXISTS_errorDeclaration": ""}, True),
    ({"EQ_errorReason": "incorrect_data"}, True),
    ({"EQ_errorReason": "did_not_occur"}, False),
    ({"EQ_correctiveEventID": "urn:uuid:c1"}, True),
    ({"GE_errorDeclarationTime": "2026-09-22T08:00:00+08:00"}, True),
    ({"LT_errorDeclarationTime": "2026-09-22T08:00:00+08:00"}, False),
    ({"EQ_type": "Temperature", "GT_value_CEL": "9"}, True),
    # Conditions hold for one report: the humidity report is not warm, the warm report is not humidity.
    ({"EQ_type": "gs1:RelativeHumidity", "GT_value_CEL": "9"}, False),
    ({"EQ_deviceID": "urn:d:1", "LT_value_A93": "41"}, True),
    ({"EQ_bizRules": "urn:rule:1"}, True),
    ({"GE_startTime": "2026-09-21T00:00:00Z"}, True),
    ({"LT_startTime": "2026-09-21T00:00:00Z"}, False),
    ({"GT_value_FAH": "49"}, True),  # 9.5 CEL is 49.1 FAH: convertible units are compared converted
    ({"GT_value_FAH": "49.2"}, False),
    ({"GE_value_KEL": "282.65"}, True),
    ({"LT_value_CEL": "50", "EQ_type": "gs1:RelativeHumidity"}, False),  # A93 (percent) is not a temperature
    ({"EQ_quantity": "10"}, True),
    ({"GT_quantity": "10"}, False),
    ({"EQ_transformationID": "urn:t:1"}, True),
    ({"EXISTS_sensorElementList": ""}, True),
    ({"EXISTS_ilmd": ""}, True),
    ({"EXISTS_bizLocation": ""}, False),
])
def test_each_parameter_decides_on_the_document(params, expected):
    assert matches(compile_params(params), VIEW) is expected


@pytest.mark.parametrize("name", ["EQ_colour", "FOO", "EQ_ILMD_grade", "EQ_eventTime", "XX_ILMD_ex:grade",
                                  "EQ_bizTransaction_", "EXISTS_", "GT_value_"])
def test_a_name_outside_the_grammar_is_refused_naming_itself(name):
    with pytest.raises(QueryParameterError) as info:
        compile_params({name: "x"})
    assert info.value.name == name


@pytest.mark.parametrize(("name", "value"), [("GT_value_CEL", "warm"), ("GE_startTime", "today"),
                                             ("GT_quantity", "nan"), (f"GT_{NS}x", "big"), ("EQ_type", "a||b")])
def test_a_value_it_cannot_use_is_refused(name, value):
    with pytest.raises(QueryParameterError):
        compile_params({name: value})


def test_temperatures_convert_between_units():
    from gs1.event_query import convert

    assert convert(5, "CEL", "FAH") == pytest.approx(41)
    assert convert(41, "FAH", "CEL") == pytest.approx(5)
    assert convert(0, "CEL", "KEL") == pytest.approx(273.15)
    assert convert(1, "KGM", "CEL") is None and convert(2.5, "KGM", "KGM") == 2.5


def test_gs1_extensions_header_declares_prefixes():
    assert parse_extensions(f"ex2={NS}, bad, =x") == {"ex2": NS}
    assert matches(compile_params({"EQ_ILMD_ex2:grade": "A"}, {"ex2": NS}), VIEW)
