"""SimpleEventQuery parameters that the graph does not index, evaluated on an event as captured (EPCIS 2.0 §8.2.7.1).

The graph filters what it can seek or index (type, times, action, bizStep, disposition, places, eventID, EPCs);
every other standard parameter is compiled here into a predicate on the event's JSON document. Parameter names
with a variable part (``EQ_bizTransaction_<type>``, ``EQ_ILMD_<field>``, ``GE_value_<uom>``, ``EQ_<field>``) are
parsed by the grammar below, so a field name from the request is only ever a dictionary key looked up in a
document, never query text. Anything outside the grammar is a QueryParameterException.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gs1.epcis import STANDARD_FIELDS, context_prefixes, expand_curie, normalize_vocab, parse_time
from gs1.errors import GS1Error
from gs1.identifiers import parse_identifier

Predicate = Callable[["EventView"], bool]

# Sensor fields: where each EQ_ parameter looks (metadata, report, or either).
_SENSOR_META = ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules")
_SENSOR_REPORT_EQ = ("type", "exception", "microorganism", "chemicalSubstance", "stringValue", "booleanValue",
                     "hexBinaryValue", "uriValue", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
                     "coordinateReferenceSystem")
_SENSOR_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")
_COMPARATORS = {
    "EQ": lambda a, b: a == b, "GT": lambda a, b: a > b, "GE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b, "LE": lambda a, b: a <= b,
}
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
# CBV sensor types are written bare, as gs1:Temperature or as the full IRI; compare the bare term.
_GS1_VOC = "https://gs1.org/voc/"


class QueryParameterError(GS1Error):
    """A query parameter this server does not know, or a value it cannot use (QueryParameterException)."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")


@dataclass(frozen=True)
class EventView:
    """An event document with the CURIE prefixes its own document declared."""

    doc: dict
    prefixes: dict[str, str]

    @classmethod
    def of(cls, doc: dict, context: Any = None) -> EventView:
        """Wrap a stored event and its document's @context."""
        return cls(doc, context_prefixes(context))

    def expand(self, name: str) -> str:
        """A field name or value as a full IRI, when it is a CURIE of a declared prefix."""
        return expand_curie(name, self.prefixes)


def _values(name: str, text: str) -> list[str]:
    parts = [p.strip() for p in text.split("|")]
    if not parts or any(not p for p in parts):
        raise QueryParameterError(name, "expected one value or several separated by |, with none empty")
    return parts


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise QueryParameterError(name, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise QueryParameterError(name, f"{text!r} is not a finite number")
    return value


def _time(name: str, text: str) -> datetime:
    try:
        return parse_time(text, name)
    except GS1Error:
        raise QueryParameterError(name, f"{text!r} is not a date-time with a time zone") from None


def _doc_time(value: Any) -> datetime | None:
    try:
        return parse_time(value, "")
    except GS1Error:
        return None


def _ref(value: Any):
    try:
        return parse_identifier(value)
    except GS1Error:
        return None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _scalar_equal(found: Any, wanted: list[str]) -> bool:
    if isinstance(found, bool):
        return str(found).lower() in [w.lower() for w in wanted]
    if isinstance(found, int | float):
        for w in wanted:
            try:
                if float(w) == float(found):
                    return True
            except ValueError:
                continue
        return False
    return isinstance(found, str) and found in wanted


def _ordered(found: Any, op: str, bound: str) -> bool:
    """Compare a field's value with a bound: numbers as numbers, times as instants, strings lexically."""
    compare = _COMPARATORS[op]
    if isinstance(found, bool):
        return False
    if isinstance(found, int | float):
        try:
            return compare(float(found), float(bound))
        except ValueError:
            return False
    if isinstance(found, str):
        when, limit = _doc_time(found), _doc_time(bound)
        if when is not None and limit is not None:
            return compare(when, limit)
        return compare(found, bound)
    return False


def _field(container: Any, name: str, view: EventView, prefixes: dict[str, str]) -> list[Any]:
    """Values of the fields of ``container`` named ``name`` (compared as written and as full IRIs)."""
    if not isinstance(container, dict):
        return []
    wanted = {name, expand_curie(name, prefixes)}
    return [v for k, v in container.items() if k in wanted or view.expand(k) in wanted]


def _inner(container: Any, name: str, view: EventView, prefixes: dict[str, str]) -> list[Any]:
    """Values of fields named ``name`` nested at any depth inside the top-level fields of ``container``."""
    found: list[Any] = []
    stack = [v for v in container.values()] if isinstance(container, dict) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found += _field(node, name, view, prefixes)
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return found


def _extension_top(view: EventView) -> dict:
    return {k: v for k, v in view.doc.items() if k not in STANDARD_FIELDS}


def _vocab(value: Any, vocabulary: str, view: EventView) -> str | None:
    return normalize_vocab(value, vocabulary, view.prefixes) if isinstance(value, str) else None


def _sensor_term(value: Any, view: EventView) -> str | None:
    if not isinstance(value, str):
        return None
    full = view.expand(value)
    return full[len(_GS1_VOC):] if full.startswith(_GS1_VOC) else full


@dataclass
class _Sensor:
    """Conditions on one sensorElement: every condition must hold for the same element (and the report ones for the
    same sensorReport), as the standard reads a query of several sensor parameters."""

    meta: list[Callable[[dict, EventView], bool]]
    report: list[Callable[[dict, EventView], bool]]

    def __call__(self, view: EventView) -> bool:
        for element in _as_list(view.doc.get("sensorElementList")):
            if not isinstance(element, dict):
                continue
            meta = element.get("sensorMetadata") if isinstance(element.get("sensorMetadata"), dict) else {}
            if not all(check(meta, view) for check in self.meta):
                continue
            if not self.report:
                return True
            for report in _as_list(element.get("sensorReport")):
                # A report inherits what the element's metadata says (device, processing method) unless it says
                # otherwise itself.
                if isinstance(report, dict) and all(check({**meta, **report}, view) for check in self.report):
                    return True
        return False


def _eq_values(field: str, wanted: list[str], term: bool = False):
    def check(node: dict, view: EventView) -> bool:
        value = node.get(field)
        if term:
            return _sensor_term(value, view) in {_sensor_term(w, view) for w in wanted}
        return _scalar_equal(value, wanted) or (isinstance(value, str) and view.expand(value) in wanted)
    return check


def _time_bound(field: str, op: str, bound: datetime):
    def check(node: dict, view: EventView) -> bool:
        when = _doc_time(node.get(field))
        return when is not None and _COMPARATORS[op](when, bound)
    return check


# Temperatures (UN/CEFACT codes) as (scale, offset) to kelvin: a reading in one unit answers a bound in another, as
# the standard asks of convertible units; other units compare only in the unit the parameter names.
_TO_KELVIN = {"KEL": (1.0, 0.0), "CEL": (1.0, 273.15), "FAH": (5 / 9, 459.67 * 5 / 9)}


def convert(value: float, from_uom: str, to_uom: str) -> float | None:
    """A reading in ``to_uom``, or None when the units are not the same or both temperatures."""
    if from_uom == to_uom:
        return value
    if from_uom in _TO_KELVIN and to_uom in _TO_KELVIN:
        scale, offset = _TO_KELVIN[from_uom]
        kelvin = value * scale + offset
        scale, offset = _TO_KELVIN[to_uom]
        return (kelvin - offset) / scale
    return None


def _number_bound(field: str, op: str, bound: float, uom: str):
    def check(report: dict, view: EventView) -> bool:
        value = report.get(field)
        if not isinstance(value, int | float) or isinstance(value, bool) or not isinstance(report.get("uom"), str):
            return False
        converted = convert(float(value), report["uom"], uom)
        # a converted reading is rounded to a micro-unit, so 5 CEL read as 41 FAH is equal, not 40.99999
        return converted is not None and _COMPARATORS[op](round(converted, 6), bound)
    return check


def _quantities(view: EventView, lists: Iterable[str]) -> list[dict]:
    return [q for name in lists for q in _as_list(view.doc.get(name)) if isinstance(q, dict)]


def _quantity(op: str, bound: float) -> Predicate:
    def check(view: EventView) -> bool:
        return any(isinstance(q.get("quantity"), int | float) and _COMPARATORS[op](float(q["quantity"]), bound)
                   for q in _quantities(view, _QUANTITY_LISTS))
    return check


def _party_list(list_name: str, key: str, type_: str, wanted: list[str]) -> Predicate:
    wanted_keys = {(_ref(w).key if _ref(w) else w) for w in wanted}

    def check(view: EventView) -> bool:
        for entry in _as_list(view.doc.get(list_name)):
            if not isinstance(entry, dict) or _vocab(entry.get("type"), "sourceDestType", view) != type_:
                continue
            ref = _ref(entry.get(key))
            if (ref.key if ref else entry.get(key)) in wanted_keys:
                return True
        return False
    return check


def _biz_transaction(type_: str, wanted: list[str]) -> Predicate:
    def check(view: EventView) -> bool:
        for entry in _as_list(view.doc.get("bizTransactionList")):
            if isinstance(entry, dict) and _vocab(entry.get("type"), "bizTransactionType", view) == type_ \
                    and entry.get("bizTransaction") in wanted:
                return True
        return False
    return check


def _persistent(op: str, wanted: list[str]) -> Predicate:
    wanted_terms = {normalize_vocab(w, "disposition") for w in wanted}

    def check(view: EventView) -> bool:
        pd = view.doc.get("persistentDisposition")
        values = pd.get(op) if isinstance(pd, dict) else None
        return any(_vocab(v, "disposition", view) in wanted_terms for v in _as_list(values))
    return check


def _declaration(view: EventView) -> dict | None:
    decl = view.doc.get("errorDeclaration")
    return decl if isinstance(decl, dict) else None


def _declared_between(op: str, bound: datetime) -> Predicate:
    def check(view: EventView) -> bool:
        decl = _declaration(view)
        when = _doc_time(decl.get("declarationTime")) if decl else None
        return when is not None and _COMPARATORS[op](when, bound)
    return check


def _field_predicate(where: str, op: str, name: str, raw: str, prefixes: dict[str, str]) -> Predicate:
    """EQ_/GT_/GE_/LT_/LE_/EXISTS_ of an extension field, at the top of the event, in its ILMD, or nested (INNER)."""
    inner = where.startswith("INNER")
    ilmd = "ILMD" in where
    if op not in ("EXISTS", "EQ"):
        # An ordered comparison needs a number or a time; a bad one is refused before any event is read.
        try:
            float(raw)
        except ValueError:
            _time(f"{op}_{name}", raw)
    wanted = _values(f"{op}_{name}", raw) if op == "EQ" else [raw]

    def check(view: EventView) -> bool:
        container = view.doc.get("ilmd") if ilmd else _extension_top(view)
        values = (_inner if inner else _field)(container, name, view, prefixes)
        if op == "EXISTS":
            return any(v not in (None, "", [], {}) for v in values)
        if op == "EQ":
            return any(_scalar_equal(v, wanted) or (isinstance(v, str) and view.expand(v) in wanted) for v in values)
        return any(_ordered(v, op, raw) for v in values)
    return check


def _standard_exists(field: str) -> Predicate:
    def check(view: EventView) -> bool:
        return view.doc.get(field) not in (None, "", [], {})
    return check


def compile_params(params: dict[str, str], extensions: dict[str, str] | None = None) -> list[Predicate]:
    """Compile the query parameters the graph leaves to this module into predicates on an EventView.

    Args:
        params: parameter name -> value as sent (several values joined by ``|``).
        extensions: prefix -> namespace the client declared (GS1-Extensions header), for CURIE field names.

    Returns:
        The predicates; an event matches when every one holds.

    Raises:
        QueryParameterError: a name outside the standard's grammar, or a value it cannot use.
    """
    prefixes = {**context_prefixes(), **(extensions or {})}
    predicates: list[Predicate] = []
    sensor = _Sensor([], [])
    for name, raw in params.items():
        op, _, rest = name.partition("_")
        if name in ("EQ_persistentDisposition_set", "EQ_persistentDisposition_unset"):
            predicates.append(_persistent(rest.rsplit("_", 1)[1], _values(name, raw)))
        elif name == "EQ_transformationID":
            wanted = _values(name, raw)
            predicates.append(lambda v, w=wanted: v.doc.get("transformationID") in w)
        elif rest == "quantity" and op in _COMPARATORS:
            predicates.append(_quantity(op, _number(name, raw)))
        elif name == "EXISTS_errorDeclaration":
            predicates.append(lambda v: _declaration(v) is not None)
        elif name in ("GE_errorDeclarationTime", "LT_errorDeclarationTime"):
            predicates.append(_declared_between(op, _time(name, raw)))
        elif name == "EQ_errorReason":
            wanted = {normalize_vocab(w, "errorReason") for w in _values(name, raw)}
            predicates.append(lambda v, w=wanted: _vocab((_declaration(v) or {}).get("reason"), "errorReason", v)
                              in w)
        elif name == "EQ_correctiveEventID":
            wanted = set(_values(name, raw))
            predicates.append(lambda v, w=wanted: bool(w & set(_as_list((_declaration(v) or {}).get(
                "correctiveEventIDs")))))
        elif op == "EQ" and rest.startswith("bizTransaction_") and len(rest) > len("bizTransaction_"):
            type_ = normalize_vocab(rest[len("bizTransaction_"):], "bizTransactionType")
            predicates.append(_biz_transaction(type_, _values(name, raw)))
        elif op == "EQ" and rest.startswith(("source_", "destination_")) and rest.count("_") >= 1 \
                and rest.split("_", 1)[1]:
            which, type_ = rest.split("_", 1)
            predicates.append(_party_list(f"{which}List", which, normalize_vocab(type_, "sourceDestType"),
                                          _values(name, raw)))
        elif name in ("GE_startTime", "LT_startTime", "GE_endTime", "LT_endTime", "GE_time", "LT_time"):
            sensor.meta.append(_time_bound(rest, op, _time(name, raw)))
        elif op == "EQ" and rest in _SENSOR_META and rest not in _SENSOR_REPORT_EQ:
            sensor.meta.append(_eq_values(rest, _values(name, raw)))
        elif op == "EQ" and rest in _SENSOR_REPORT_EQ:
            sensor.report.append(_eq_values(rest, _values(name, raw), term=rest == "type"))
        elif op in _COMPARATORS and rest.split("_", 1)[0] in _SENSOR_NUMBERS and "_" in rest \
                and rest.split("_", 1)[1]:
            field, uom = rest.split("_", 1)
            sensor.report.append(_number_bound(field, op, _number(name, raw), uom))
        elif op == "EXISTS" and rest in STANDARD_FIELDS - {"@context", "type"}:
            predicates.append(_standard_exists(rest))
        elif op in (*_COMPARATORS, "EXISTS") and rest:
            where, field = _split_field(rest)
            if not field or field in STANDARD_FIELDS:
                raise QueryParameterError(name, "not a SimpleEventQuery parameter of EPCIS 2.0")
            if ":" not in field:
                raise QueryParameterError(name, "an extension field is named by its namespace: prefix:name "
                                                "(declared in GS1-Extensions) or the full IRI")
            predicates.append(_field_predicate(where, op, field, raw, prefixes))
        else:
            raise QueryParameterError(name, "not a SimpleEventQuery parameter of EPCIS 2.0")
    if sensor.meta or sensor.report:
        predicates.append(sensor)
    return predicates


def _split_field(rest: str) -> tuple[str, str]:
    for where in ("INNER_ILMD", "ILMD", "INNER"):
        if rest.startswith(where + "_"):
            return where, rest[len(where) + 1:]
    return "", rest


def matches(predicates: list[Predicate], view: EventView) -> bool:
    """Whether an event satisfies every compiled predicate."""
    return all(p(view) for p in predicates)


def parse_extensions(header: str | None) -> dict[str, str]:
    """Parse a GS1-Extensions header (``prefix=namespace, prefix2=namespace2``) into a prefix map."""
    out: dict[str, str] = {}
    for part in (header or "").split(","):
        prefix, sep, namespace = part.strip().partition("=")
        if sep and prefix.strip() and namespace.strip():
            out[prefix.strip()] = namespace.strip()
    return out
