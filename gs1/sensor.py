"""Cold-chain temperature rules, pure (no database): which readings of an EPCIS event are temperatures, what they are
in degrees Celsius, whether one lies outside a product's storage range, and for how long a series stayed outside.

An EPCIS 2.0 ``sensorElementList`` holds elements of ``sensorMetadata`` (device, time, startTime/endTime) and
``sensorReport``s; a temperature report has ``type`` gs1:Temperature (or its IRI, or the older ``MT-Temperature``
term), a unit (UN/CEFACT ``CEL``, ``FAH``, ``KEL``) and any of ``value``, ``minValue``, ``maxValue``,
``meanValue``. A report's time is its own ``time``, else its element's metadata ``time``, else the event's time.
A report without a temperature unit is not judged: without the scale a number says nothing about a limit.

The limit is the product's stored storage range (``storage_min_c``/``storage_max_c``, inclusive, in Celsius): chilled
beef 0..4 (4.0 is in range, 4.1 is not), frozen beef at most -18 (no lower bound). A product without recorded
storage conditions has no limit, and its readings are not judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gs1.epcis import parse_time
from gs1.errors import GS1Error
from gs1.event_query import convert

TEMPERATURE_TERMS = ("Temperature", "MT-Temperature")
TEMPERATURE_UNITS = ("CEL", "FAH", "KEL")
VALUE_FIELDS = ("value", "minValue", "maxValue", "meanValue")
_GS1_VOC = "https://gs1.org/voc/"
# CBV business steps during which goods are kept or moved under their storage conditions; a reading taken at
# slaughter or cooking (a carcass at 38 °C) says nothing about the cold chain.
COLD_CHAIN_STEPS = frozenset({
    "shipping", "receiving", "storing", "transporting", "departing", "arriving", "loading", "unloading",
    "holding", "accepting", "staging_outbound", "stocking", "sensor_reporting", "inspecting",
})


@dataclass(frozen=True)
class Limit:
    """A storage range in degrees Celsius, inclusive at both ends; None for an open end."""

    min_c: float | None
    max_c: float | None

    @classmethod
    def of(cls, min_c: float | None, max_c: float | None) -> Limit | None:
        """The limit of a product's stored storage conditions, or None when it records neither bound."""
        if min_c is None and max_c is None:
            return None
        return cls(None if min_c is None else float(min_c), None if max_c is None else float(max_c))

    def breach(self, celsius: float) -> str | None:
        """Return "above" or "below" for a temperature outside the range, None for one inside it."""
        if self.max_c is not None and celsius > self.max_c:
            return "above"
        if self.min_c is not None and celsius < self.min_c:
            return "below"
        return None

    def as_dict(self) -> dict:
        """The limit as alert details carry it."""
        return {"min_c": self.min_c, "max_c": self.max_c}


@dataclass(frozen=True)
class Reading:
    """One temperature figure of a sensor report, as read and in Celsius (rounded to a micro-degree)."""

    time: datetime
    field: str
    value: float
    uom: str
    celsius: float
    device: str | None = None

    def as_dict(self) -> dict:
        """The reading as alert details carry it."""
        return {"time": self.time.isoformat(), "field": self.field, "value": self.value, "uom": self.uom,
                "celsius": self.celsius, "device": self.device}


def to_celsius(value: float, uom: str) -> float | None:
    """A temperature in degrees Celsius, rounded to 6 places (39.2 FAH is exactly 4.0); None for another unit."""
    if uom not in TEMPERATURE_UNITS:
        return None
    converted = convert(float(value), uom, "CEL")
    return None if converted is None else round(converted, 6)


def is_temperature(term: object) -> bool:
    """Tell whether a sensor report's ``type`` names temperature (bare, gs1: CURIE or gs1 IRI)."""
    if not isinstance(term, str):
        return False
    for prefix in ("gs1:", _GS1_VOC):
        if term.startswith(prefix):
            term = term[len(prefix):]
            break
    return term in TEMPERATURE_TERMS


def _time(value: object, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return parse_time(value, "sensorReport.time")
        except (GS1Error, ValueError):
            return fallback
    return fallback


def temperature_readings(sensor_elements: Iterable[object], event_time: datetime) -> list[Reading]:
    """Return every temperature figure of an event's sensorElementList, in document order.

    Args:
        sensor_elements: the event's ``sensorElementList`` as captured.
        event_time: the event's time: the time of a report that gives none of its own.
    """
    out: list[Reading] = []
    for element in sensor_elements or []:
        if not isinstance(element, dict):
            continue
        meta = element.get("sensorMetadata") if isinstance(element.get("sensorMetadata"), dict) else {}
        element_time = _time(meta.get("time"), event_time)
        reports = element.get("sensorReport")
        for report in reports if isinstance(reports, list) else [reports]:
            if not isinstance(report, dict) or not is_temperature(report.get("type")):
                continue
            uom = report.get("uom")
            if not isinstance(uom, str):
                continue
            when = _time(report.get("time"), element_time)
            device = report.get("deviceID") or meta.get("deviceID")
            for name in VALUE_FIELDS:
                value = report.get(name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                celsius = to_celsius(value, uom)
                if celsius is not None:
                    out.append(Reading(when, name, float(value), uom, celsius,
                                       device if isinstance(device, str) else None))
    return out


def outside(readings: Iterable[Reading], limit: Limit) -> list[Reading]:
    """Return the readings outside the limit, in the order given."""
    return [r for r in readings if limit.breach(r.celsius) is not None]


def seconds_outside(readings: Iterable[Reading], limit: Limit) -> float:
    """How long a series of readings stayed outside the limit, in seconds.

    Readings are taken in time order; the state at each reading time (outside when any figure at that time is)
    holds until the next reading time, so a series in, out at 10:00, out at 10:20, in at 10:30 was outside for 30
    minutes. A last reading outside adds nothing (nothing says how long it lasted); a single reading gives 0.
    """
    states: dict[datetime, bool] = {}
    for r in readings:
        states[r.time] = states.get(r.time, False) or limit.breach(r.celsius) is not None
    times = sorted(states)
    return sum((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False) if states[a])


def excursion(readings: list[Reading], limit: Limit) -> dict | None:
    """Return the excursion a product with ``limit`` suffered in these readings, or None when every one is in range.

    Returns:
        {"limit", "readings" (those outside), "peak_c" (the reading farthest outside), "direction" (of the peak),
        "seconds_outside", "first", "last" (ISO times of the first and last reading outside), "reading_count"}.
    """
    out = outside(readings, limit)
    if not out:
        return None

    def distance(r: Reading) -> float:
        if limit.max_c is not None and r.celsius > limit.max_c:
            return r.celsius - limit.max_c
        return limit.min_c - r.celsius if limit.min_c is not None else 0.0

    peak = max(out, key=distance)
    times = sorted(r.time for r in out)
    return {"limit": limit.as_dict(), "readings": [r.as_dict() for r in out], "peak_c": peak.celsius,
            "direction": limit.breach(peak.celsius), "seconds_outside": seconds_outside(readings, limit),
            "first": times[0].isoformat(), "last": times[-1].isoformat(), "reading_count": len(readings)}
