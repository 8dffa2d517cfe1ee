"""Normalise EPCIS 2.0 JSON/JSON-LD documents into plain events ready for storage.

Normalisation keeps the captured event untouched in ``NormalizedEvent.raw`` and derives from it: UTC event time,
bare CBV terms (``shipping`` whatever the notation), and canonical ``Ref`` objects for every identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from gs1.errors import InvalidEvent, InvalidIdentifier
from gs1.identifiers import Ref, parse_identifier, parse_location

EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
)
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})

CBV_BASE = "https://ref.gs1.org/cbv/"
DEFAULT_PREFIXES = {
    "cbv": CBV_BASE,
    "gs1": "https://gs1.org/voc/",
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
}

# This service's own namespace, one home for it: its extension fields (tracegraph:recallID, ILMD fields) and its own
# vocabulary terms, named as CBV names its own (``BizStep-<word>``).
OWN_NS = "https://tracegraph.example/ns/"
# The service's own bizSteps (DOMAIN.md's origin steps; CBV 2.0 has neither, its word for slaughter is `killing`). They
# are stored and compared as these bare words; in EPCIS they are written as URIs of OWN_NS (GS1's schema takes only
# CBV's words or a URI there, and in JSON-LD a bare word means a CBV term), and read in either form.
OWN_BIZ_STEPS = ("harvesting", "slaughtering")
OWN_BIZ_STEP_BASE = OWN_NS + "BizStep-"

# Vocabulary -> (CBV 2.0 web URI term prefix, CBV 1.x URN prefix).
VOCABULARIES = {
    "bizStep": ("BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("Disp-", "urn:epcglobal:cbv:disp:"),
    "bizTransactionType": ("BTT-", "urn:epcglobal:cbv:btt:"),
    "sourceDestType": ("SDT-", "urn:epcglobal:cbv:sdt:"),
    "errorReason": ("ER-", "urn:epcglobal:cbv:er:"),
}

# The CBV 2.0 standard vocabularies, as the REST binding's /bizSteps and /dispositions list them.
CBV_BIZ_STEPS = (
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
    "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
    "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
    "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
    "unloading", "unpacking", "void_shipping",
)
CBV_DISPOSITIONS = (
    "active", "available", "completeness_inferred", "completeness_verified", "conformant", "container_closed",
    "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress",
    "in_transit", "inactive", "mismatch_class", "mismatch_instance", "mismatch_quantity", "needs_replacement",
    "no_pedigree_match", "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unavailable", "unknown",
)

STANDARD_FIELDS = frozenset({
    "@context", "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "action", "bizStep",
    "disposition", "readPoint", "bizLocation", "epcList", "quantityList", "parentID", "childEPCs",
    "childQuantityList", "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
    "transformationID", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
    "persistentDisposition", "ilmd", "errorDeclaration", "certificationInfo",
})

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_OFFSET = re.compile(r"[+-](0\d|1[0-4]):[0-5]\d")
_MAX_OFFSET = timedelta(hours=14)
_EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


class EPCQuantity(NamedTuple):
    """One entry of an EPC list (quantity and uom None) or of a quantity list."""

    ref: Ref
    quantity: float | int | None = None
    uom: str | None = None


class SourceDest(NamedTuple):
    """A source or destination: its CBV type (bare term when standard) and the location/party reference."""

    type: str | None
    ref: Ref


class BizTransaction(NamedTuple):
    """A business transaction: its CBV type (bare term when standard, or None) and identifier URI."""

    type: str | None
    id: str


@dataclass(slots=True)
class NormalizedEvent:
    """An EPCIS event reduced to the values the graph stores; ``raw`` is the event exactly as captured."""

    event_id: str | None
    type: str
    action: str | None
    event_time: str
    event_time_zone_offset: str
    record_time: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    read_point: Ref | None = None
    biz_location: Ref | None = None
    objects: list[EPCQuantity] = field(default_factory=list)
    parent: Ref | None = None
    children: list[EPCQuantity] = field(default_factory=list)
    inputs: list[EPCQuantity] = field(default_factory=list)
    outputs: list[EPCQuantity] = field(default_factory=list)
    transformation_id: str | None = None
    sources: list[SourceDest] = field(default_factory=list)
    destinations: list[SourceDest] = field(default_factory=list)
    biz_transactions: list[BizTransaction] = field(default_factory=list)
    persistent_disposition: dict[str, list[str]] | None = None
    error_declaration: dict[str, Any] | None = None
    certification_info: Any = None
    sensor_elements: list[Any] = field(default_factory=list)
    ilmd: dict[str, Any] | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


# --- helpers --------------------------------------------------------------------------------------------------

def context_prefixes(*contexts: Any) -> dict[str, str]:
    """Return the CURIE prefix map declared by JSON-LD ``@context`` values, on top of cbv/gs1/epcis."""
    prefixes = dict(DEFAULT_PREFIXES)
    for ctx in contexts:
        items = ctx if isinstance(ctx, list) else [ctx]
        for item in items:
            if isinstance(item, dict):
                for name, value in item.items():
                    if isinstance(value, str) and not name.startswith("@"):
                        prefixes[name] = value
    return prefixes


def expand_curie(value: str, prefixes: dict[str, str]) -> str:
    """Expand ``prefix:rest`` when ``prefix`` is declared; return anything else unchanged."""
    prefix, sep, rest = value.partition(":")
    if sep and not rest.startswith("//") and prefix in prefixes:
        return prefixes[prefix] + rest
    return value


def normalize_vocab(value: str, vocabulary: str, prefixes: dict[str, str] | None = None) -> str:
    """Reduce a CBV value in any notation to its bare term; non-CBV values come back expanded but unchanged.

    ``shipping``, ``cbv:BizStep-shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` and
    ``https://ref.gs1.org/cbv/BizStep-shipping`` all give ``shipping`` for ``vocabulary="bizStep"``; our own
    ``https://tracegraph.example/ns/BizStep-harvesting`` (or its CURIE, the prefix declared) gives ``harvesting``.
    """
    web_prefix, urn_prefix = VOCABULARIES[vocabulary]
    if ":" not in value:
        return value
    if value.startswith(urn_prefix):
        return value[len(urn_prefix):]
    expanded = expand_curie(value, prefixes or DEFAULT_PREFIXES)
    for base in (CBV_BASE, "http://ref.gs1.org/cbv/"):
        if expanded.startswith(base + web_prefix):
            return expanded[len(base) + len(web_prefix):]
    own = expanded.removeprefix(OWN_BIZ_STEP_BASE)
    if vocabulary == "bizStep" and own in OWN_BIZ_STEPS:
        return own
    return expanded


def vocab_uri(term: str) -> str:
    """The EPCIS form of a bare bizStep: our own words as OWN_NS URIs, anything else (CBV's words) unchanged."""
    return OWN_BIZ_STEP_BASE + term if term in OWN_BIZ_STEPS else term


def wire_event(event: dict) -> dict:
    """An event as it leaves the service in EPCIS form (query answers, subscriptions, exports): a bizStep of ours
    stored as a bare word is written as its URI (a copy; the stored event is unchanged). Every other field, and a
    bizStep captured in another notation, stay as captured."""
    step = event.get("bizStep")
    if isinstance(step, str) and step in OWN_BIZ_STEPS:
        return {**event, "bizStep": vocab_uri(step)}
    return event


def parse_time(value: Any, location: str) -> datetime:
    """Parse an xsd:dateTime that carries a time zone; raise InvalidEvent otherwise."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise InvalidEvent(f"{value!r} is not a date-time with a time zone (e.g. 2024-05-01T08:30:00+08:00)", location)
    text = value
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        # datetime keeps microseconds; finer digits carry no meaning for EPCIS and would not parse.
        text = text[:dot] + text[dot:end][:7] + text[end:]
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as e:
        raise InvalidEvent(f"{value!r} is not a valid date-time: {e}", location) from None
    offset = dt.utcoffset()
    if offset is not None and abs(offset) > _MAX_OFFSET:
        raise InvalidEvent(f"{value!r} has a time zone offset beyond +/-14:00", location)
    # Year 1 and year 9999 parse, but their UTC instant (or a day either side of it, which windows and
    # rounding compute) falls outside what datetime can hold: refused here rather than failing later.
    if not _EARLIEST <= dt <= _LATEST:
        raise InvalidEvent(f"{value!r} is out of range: use a time between 0002-01-01 and 9998-12-31", location)
    return dt


def utc_iso(dt: datetime) -> str:
    """Return ``dt`` in UTC as ISO 8601 with a ``Z``: milliseconds, or microseconds when they are not zero."""
    dt = dt.astimezone(UTC)
    spec = "milliseconds" if dt.microsecond % 1000 == 0 else "microseconds"
    return dt.isoformat(timespec=spec).replace("+00:00", "Z")


def _offset_of(dt: datetime) -> str:
    offset = dt.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _join(location: str, name: str) -> str:
    return f"{location}.{name}" if location else name


def _ref(value: Any, location: str, *, place: bool = False) -> Ref:
    try:
        return parse_location(value) if place else parse_identifier(value)
    except InvalidIdentifier as e:
        raise InvalidEvent(str(e), location) from None


def _list(ev: dict, name: str, location: str) -> list:
    value = ev.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidEvent(f"{name} must be a list", _join(location, name))
    return value


def _string(value: Any, location: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"expected a non-empty string, got {value!r}", location)
    return value


def _epc_list(ev: dict, name: str, location: str) -> list[EPCQuantity]:
    out = []
    for i, epc in enumerate(_list(ev, name, location)):
        out.append(EPCQuantity(_ref(epc, _join(location, f"{name}[{i}]"))))
    return out


def _quantity_list(ev: dict, name: str, location: str) -> list[EPCQuantity]:
    out = []
    for i, element in enumerate(_list(ev, name, location)):
        here = _join(location, f"{name}[{i}]")
        if not isinstance(element, dict):
            raise InvalidEvent("a quantity element must be an object", here)
        if "epcClass" not in element:
            raise InvalidEvent("a quantity element needs epcClass", here)
        ref = _ref(element["epcClass"], f"{here}.epcClass")
        quantity = element.get("quantity")
        if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, (int, float))):
            raise InvalidEvent(f"quantity must be a number, got {quantity!r}", f"{here}.quantity")
        if quantity is not None and quantity < 0:
            raise InvalidEvent(f"quantity must not be negative, got {quantity!r}", f"{here}.quantity")
        uom = element.get("uom")
        if uom is not None and not isinstance(uom, str):
            raise InvalidEvent(f"uom must be a string, got {uom!r}", f"{here}.uom")
        if uom is not None and quantity is None:
            raise InvalidEvent("uom is given without a quantity", f"{here}.uom")
        out.append(EPCQuantity(ref, quantity, uom))
    return out


def _source_dest(ev: dict, name: str, key: str, location: str, prefixes: dict[str, str]) -> list[SourceDest]:
    out = []
    for i, element in enumerate(_list(ev, name, location)):
        here = _join(location, f"{name}[{i}]")
        if not isinstance(element, dict) or key not in element:
            raise InvalidEvent(f"each entry needs a {key!r} identifier", here)
        kind = element.get("type")
        if kind is not None:
            kind = normalize_vocab(_string(kind, f"{here}.type"), "sourceDestType", prefixes)
        out.append(SourceDest(kind, _ref(element[key], f"{here}.{key}", place=True)))
    return out


def _place(ev: dict, name: str, location: str) -> Ref | None:
    value = ev.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or "id" not in value:
        raise InvalidEvent(f"{name} must be an object with an id", _join(location, name))
    return _ref(value["id"], _join(location, f"{name}.id"), place=True)


def _error_declaration(ev: dict, location: str, prefixes: dict[str, str]) -> dict[str, Any] | None:
    decl = ev.get("errorDeclaration")
    if decl is None:
        return None
    here = _join(location, "errorDeclaration")
    if not isinstance(decl, dict):
        raise InvalidEvent("errorDeclaration must be an object", here)
    if "declarationTime" not in decl:
        raise InvalidEvent("errorDeclaration needs declarationTime", here)
    reason = decl.get("reason")
    if reason is not None:
        reason = normalize_vocab(_string(reason, f"{here}.reason"), "errorReason", prefixes)
    corrective = decl.get("correctiveEventIDs") or []
    if not isinstance(corrective, list):
        raise InvalidEvent("correctiveEventIDs must be a list", f"{here}.correctiveEventIDs")
    ids = [_string(x, f"{here}.correctiveEventIDs[{i}]") for i, x in enumerate(corrective)]
    extra = {k: v for k, v in decl.items() if k not in ("declarationTime", "reason", "correctiveEventIDs")}
    return {
        "declaration_time": utc_iso(parse_time(decl["declarationTime"], f"{here}.declarationTime")),
        "reason": reason,
        "corrective_event_ids": ids,
        "extensions": extra,
    }


def _persistent_disposition(ev: dict, location: str, prefixes: dict[str, str]) -> dict[str, list[str]] | None:
    pd = ev.get("persistentDisposition")
    if pd is None:
        return None
    here = _join(location, "persistentDisposition")
    if not isinstance(pd, dict):
        raise InvalidEvent("persistentDisposition must be an object", here)
    out: dict[str, list[str]] = {}
    for op in ("set", "unset"):
        values = pd.get(op) or []
        if not isinstance(values, list):
            raise InvalidEvent(f"{op} must be a list", f"{here}.{op}")
        out[op] = [
            normalize_vocab(_string(v, f"{here}.{op}[{i}]"), "disposition", prefixes) for i, v in enumerate(values)
        ]
    return out


# --- public API -----------------------------------------------------------------------------------------------

def normalize_event(ev: dict, location: str = "", prefixes: dict[str, str] | None = None) -> NormalizedEvent:
    """Normalise one EPCIS 2.0 event (JSON/JSON-LD object) for storage.

    Args:
        ev: the event as decoded from JSON; it is kept unmodified as ``raw``.
        location: JSON-pointer-like path of the event, prefixed to error locations.
        prefixes: CURIE prefixes from the document's ``@context`` (see ``context_prefixes``).

    Returns:
        The NormalizedEvent.

    Raises:
        InvalidEvent: missing or malformed content; ``location`` names the offending value.
    """
    here = location

    def _at(name: str) -> str:
        return _join(here, name)

    if not isinstance(ev, dict):
        raise InvalidEvent("an event must be a JSON object", here)
    own_context = ev.get("@context")
    # Building the prefix map costs a dict copy: only events with a context of their own need their own map.
    if prefixes is None or own_context is not None:
        prefixes = context_prefixes(prefixes or DEFAULT_PREFIXES, own_context)
    ev_type = ev.get("type")
    if isinstance(ev_type, str) and ev_type.startswith("epcis:"):
        ev_type = ev_type[len("epcis:"):]
    if ev_type not in EVENT_TYPES:
        raise InvalidEvent(f"type must be one of {', '.join(sorted(EVENT_TYPES))}, got {ev_type!r}", _at("type"))

    action = ev.get("action")
    if ev_type == "TransformationEvent":
        if action is not None:
            raise InvalidEvent("a TransformationEvent has no action", _at("action"))
    elif action not in ACTIONS:
        raise InvalidEvent(f"action must be ADD, OBSERVE or DELETE, got {action!r}", _at("action"))

    if "eventTime" not in ev:
        raise InvalidEvent("eventTime is required", _at("eventTime"))
    event_time = parse_time(ev["eventTime"], _at("eventTime"))
    offset = ev.get("eventTimeZoneOffset")
    if offset is None:
        offset = _offset_of(event_time)
    elif not isinstance(offset, str) or not _OFFSET.fullmatch(offset):
        raise InvalidEvent(f"eventTimeZoneOffset must look like +08:00, got {offset!r}", _at("eventTimeZoneOffset"))
    record_time = ev.get("recordTime")
    if record_time is not None:
        record_time = utc_iso(parse_time(record_time, _at("recordTime")))

    event_id = ev.get("eventID")
    if event_id is not None:
        event_id = _string(event_id, _at("eventID"))

    biz_step = ev.get("bizStep")
    if biz_step is not None:
        biz_step = normalize_vocab(_string(biz_step, _at("bizStep")), "bizStep", prefixes)
    disposition = ev.get("disposition")
    if disposition is not None:
        disposition = normalize_vocab(_string(disposition, _at("disposition")), "disposition", prefixes)

    loc = here or ""
    objects: list[EPCQuantity] = []
    children: list[EPCQuantity] = []
    inputs: list[EPCQuantity] = []
    outputs: list[EPCQuantity] = []
    parent = None
    if ev_type in ("ObjectEvent", "TransactionEvent"):
        objects = _epc_list(ev, "epcList", loc) + _quantity_list(ev, "quantityList", loc)
    if ev_type in ("AggregationEvent", "AssociationEvent"):
        children = _epc_list(ev, "childEPCs", loc) + _quantity_list(ev, "childQuantityList", loc)
    if ev_type == "TransformationEvent":
        inputs = _epc_list(ev, "inputEPCList", loc) + _quantity_list(ev, "inputQuantityList", loc)
        outputs = _epc_list(ev, "outputEPCList", loc) + _quantity_list(ev, "outputQuantityList", loc)
    if ev_type in ("AggregationEvent", "AssociationEvent", "TransactionEvent") and ev.get("parentID") is not None:
        parent = _ref(ev["parentID"], _at("parentID"))

    biz_transactions = []
    for i, bt in enumerate(_list(ev, "bizTransactionList", loc)):
        bt_at = _at(f"bizTransactionList[{i}]")
        if not isinstance(bt, dict) or "bizTransaction" not in bt:
            raise InvalidEvent("each entry needs a bizTransaction identifier", bt_at)
        bt_type = bt.get("type")
        if bt_type is not None:
            bt_type = normalize_vocab(_string(bt_type, f"{bt_at}.type"), "bizTransactionType", prefixes)
        biz_transactions.append(BizTransaction(bt_type, _string(bt["bizTransaction"], f"{bt_at}.bizTransaction")))

    sensors = _list(ev, "sensorElementList", loc)
    ilmd = ev.get("ilmd")
    if ilmd is not None and not isinstance(ilmd, dict):
        raise InvalidEvent("ilmd must be an object", _at("ilmd"))
    transformation_id = ev.get("transformationID")
    if transformation_id is not None:
        transformation_id = _string(transformation_id, _at("transformationID"))

    return NormalizedEvent(
        event_id=event_id,
        type=ev_type,
        action=action,
        event_time=utc_iso(event_time),
        event_time_zone_offset=offset,
        record_time=record_time,
        biz_step=biz_step,
        disposition=disposition,
        read_point=_place(ev, "readPoint", loc),
        biz_location=_place(ev, "bizLocation", loc),
        objects=objects,
        parent=parent,
        children=children,
        inputs=inputs,
        outputs=outputs,
        transformation_id=transformation_id,
        sources=_source_dest(ev, "sourceList", "source", loc, prefixes),
        destinations=_source_dest(ev, "destinationList", "destination", loc, prefixes),
        biz_transactions=biz_transactions,
        persistent_disposition=_persistent_disposition(ev, loc, prefixes),
        error_declaration=_error_declaration(ev, loc, prefixes),
        certification_info=ev.get("certificationInfo"),
        sensor_elements=sensors,
        ilmd=ilmd,
        extensions={k: v for k, v in ev.items() if k not in STANDARD_FIELDS},
        raw=ev,
    )


def document_events(doc: dict) -> tuple[list[Any], str]:
    """Return the raw event list of an EPCIS document (or a bare event) and its JSON-pointer-like location.

    Raises:
        InvalidEvent: not an EPCISDocument, EPCISQueryDocument or event.
    """
    if not isinstance(doc, dict):
        raise InvalidEvent("an EPCIS document must be a JSON object", "")
    # a non-string type ({} or a list) is not hashable: checked first, or the set lookup raised (a 500)
    if isinstance(doc.get("type"), str) and (doc["type"] in EVENT_TYPES or doc["type"][6:] in EVENT_TYPES):
        return [doc], ""
    body = doc.get("epcisBody")
    if not isinstance(body, dict):
        raise InvalidEvent("an EPCISDocument needs an epcisBody object", "epcisBody")
    if "eventList" in body:
        events, where = body["eventList"], "epcisBody.eventList"
    elif "event" in body:
        events, where = [body["event"]], "epcisBody.event"
    elif isinstance(body.get("queryResults"), dict):
        results = body["queryResults"].get("resultsBody") or {}
        if not isinstance(results, dict):  # a list or a string here was a 500 (GS1's OpenAPI through schemathesis)
            raise InvalidEvent("resultsBody must be an object", "epcisBody.queryResults.resultsBody")
        events, where = results.get("eventList"), "epcisBody.queryResults.resultsBody.eventList"
    else:
        raise InvalidEvent("epcisBody has no eventList", "epcisBody")
    if not isinstance(events, list):
        raise InvalidEvent("eventList must be a list", where)
    return events, where


def parse_document(doc: dict) -> list[NormalizedEvent]:
    """Normalise every event of an EPCIS 2.0 document (EPCISDocument, query document or a single event).

    Args:
        doc: the JSON/JSON-LD document as decoded by ``json.loads``.

    Returns:
        The events in document order.

    Raises:
        InvalidEvent: the first bad value found, with its location such as ``epcisBody.eventList[3].epcList[0]``.
    """
    events, where = document_events(doc)
    prefixes = context_prefixes(doc.get("@context"))
    if where == "":
        return [normalize_event(doc, "", prefixes)]
    if where == "epcisBody.event":
        return [normalize_event(events[0], where, prefixes)]
    return [normalize_event(ev, f"{where}[{i}]", prefixes) for i, ev in enumerate(events)]
