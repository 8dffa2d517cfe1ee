"""Cold-chain temperature rules (gs1/sensor.py), pure: units, exact range boundaries, time outside a series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gs1.sensor import (
    Limit,
    Reading,
    excursion,
    is_temperature,
    outside,
    seconds_outside,
    temperature_readings,
    to_celsius,
)

CHILLED = Limit(0.0, 4.0)      # chilled beef 0..4 °C
FROZEN = Limit(None, -18.0)    # frozen beef at most -18 °C
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _report(value, uom="CEL", field="value", **more):
    return {"sensorReport": [{"type": "gs1:Temperature", field: value, "uom": uom, **more}]}


@pytest.mark.parametrize(("value", "uom", "celsius"), [
    (4.0, "CEL", 4.0), (39.2, "FAH", 4.0), (32, "FAH", 0.0), (277.15, "KEL", 4.0), (273.15, "KEL", 0.0),
    (-0.4, "FAH", -18.0), (255.15, "KEL", -18.0), (39.38, "FAH", 4.1), (277.25, "KEL", 4.1),
])
def test_to_celsius_converts_exactly_at_micro_degree(value, uom, celsius):
    assert to_celsius(value, uom) == celsius


def test_to_celsius_refuses_other_units():
    assert to_celsius(4.0, "KGM") is None
    assert to_celsius(4.0, "cel") is None


@pytest.mark.parametrize(("celsius", "breach"), [
    (4.0, None), (4.1, "above"), (0.0, None), (-0.1, "below"), (2.0, None), (4.000001, "above"),
])
def test_chilled_range_is_inclusive(celsius, breach):
    assert CHILLED.breach(celsius) == breach


@pytest.mark.parametrize(("celsius", "breach"), [(-18.0, None), (-17.9, "above"), (-40.0, None)])
def test_frozen_has_no_lower_bound(celsius, breach):
    assert FROZEN.breach(celsius) == breach


def test_lower_bound_only():
    assert Limit(2.0, None).breach(1.9) == "below"
    assert Limit(2.0, None).breach(100.0) is None


def test_no_storage_conditions_is_no_limit():
    assert Limit.of(None, None) is None
    assert Limit.of(0, 4) == Limit(0.0, 4.0)
    assert Limit.of(None, -18) == Limit(None, -18.0)


@pytest.mark.parametrize("term", ["gs1:Temperature", "Temperature", "https://gs1.org/voc/Temperature",
                                  "gs1:MT-Temperature", "MT-Temperature"])
def test_temperature_terms(term):
    assert is_temperature(term)


@pytest.mark.parametrize("term", ["gs1:Humidity", "cbv:Temperature", "temperature", None, 3])
def test_other_terms_are_not_temperature(term):
    assert not is_temperature(term)


def test_readings_take_every_figure_unit_and_time():
    elements = [
        {"sensorMetadata": {"time": "2026-03-01T17:00:00+08:00", "deviceID": "urn:epc:id:giai:4000001.1"},
         "sensorReport": [
             {"type": "gs1:Temperature", "minValue": 1.5, "maxValue": 39.38, "meanValue": 3.0, "uom": "FAH"},
             {"type": "gs1:Humidity", "value": 80, "uom": "A93"},
             {"type": "gs1:Temperature", "value": 3.0, "uom": "CEL", "time": "2026-03-01T09:30:00Z"},
             {"type": "gs1:Temperature", "value": 99},  # no unit: not judged
         ]},
        {"sensorReport": [{"type": "Temperature", "value": 277.15, "uom": "KEL"}]},
        "not an element",
    ]
    got = temperature_readings(elements, T0)
    assert [(r.field, r.value, r.uom, r.celsius) for r in got] == [
        ("minValue", 1.5, "FAH", round((1.5 - 32) * 5 / 9, 6)), ("maxValue", 39.38, "FAH", 4.1),
        ("meanValue", 3.0, "FAH", round((3.0 - 32) * 5 / 9, 6)), ("value", 3.0, "CEL", 3.0),
        ("value", 277.15, "KEL", 4.0)]
    assert got[0].time == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)      # the element's metadata time
    assert got[0].device == "urn:epc:id:giai:4000001.1"
    assert got[3].time == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)     # the report's own time
    assert got[4].time == T0                                          # none given: the event's


def test_reading_of_a_single_report_object_and_booleans_ignored():
    elements = [{"sensorReport": {"type": "gs1:Temperature", "value": 5, "uom": "CEL"}},
                {"sensorReport": [{"type": "gs1:Temperature", "value": True, "uom": "CEL"}]}]
    assert [r.celsius for r in temperature_readings(elements, T0)] == [5.0]


def _series(*points):
    return [Reading(T0 + timedelta(minutes=m), "value", c, "CEL", c) for m, c in points]


def test_seconds_outside_holds_each_state_until_the_next_reading():
    series = _series((0, 3.0), (10, 5.0), (30, 6.0), (40, 3.5), (50, 4.2))
    assert seconds_outside(series, CHILLED) == 30 * 60       # 10 -> 40; the last reading outside adds nothing


def test_seconds_outside_of_a_single_reading_is_zero():
    assert seconds_outside(_series((0, 9.0)), CHILLED) == 0


def test_seconds_outside_any_figure_at_a_time_counts():
    series = [*_series((0, 3.0)), Reading(T0, "maxValue", 4.1, "CEL", 4.1), *_series((15, 3.0))]
    assert seconds_outside(series, CHILLED) == 15 * 60


def test_excursion_names_readings_peak_and_limit():
    series = _series((0, 3.0), (10, 4.1), (20, 7.5), (30, -0.5), (40, 2.0))
    found = excursion(series, CHILLED)
    assert [r["celsius"] for r in found["readings"]] == [4.1, 7.5, -0.5]
    assert found["peak_c"] == 7.5 and found["direction"] == "above"
    assert found["limit"] == {"min_c": 0.0, "max_c": 4.0}
    assert found["seconds_outside"] == 30 * 60
    assert found["first"] == (T0 + timedelta(minutes=10)).isoformat()
    assert found["last"] == (T0 + timedelta(minutes=30)).isoformat()
    assert found["reading_count"] == 5


def test_peak_below_the_range():
    found = excursion(_series((0, -3.0), (5, 4.5)), CHILLED)
    assert found["peak_c"] == -3.0 and found["direction"] == "below"


def test_in_range_readings_are_no_excursion():
    assert excursion(_series((0, 0.0), (10, 4.0), (20, 2.0)), CHILLED) is None
    assert outside(_series((0, 4.0)), CHILLED) == []


def test_fahrenheit_boundary_is_in_range():
    readings = temperature_readings([_report(39.2, "FAH")], T0)
    assert excursion(readings, CHILLED) is None
    assert excursion(temperature_readings([_report(39.38, "FAH")], T0), CHILLED)["peak_c"] == 4.1


def test_kelvin_frozen():
    assert excursion(temperature_readings([_report(255.15, "KEL")], T0), FROZEN) is None
    assert excursion(temperature_readings([_report(255.25, "KEL")], T0), FROZEN)["peak_c"] == -17.9
