"""The structure of an EPCIS 2.0 JSON document, checked by our own rules (GS1's schema file is not ours to ship).

The rules are those of the EPCIS 2.0 JSON schema as the service applies it (draft-07, formats not asserted): which
fields each event type requires, the JSON type of every standard field, the action enum, the patterns of
eventTimeZoneOffset, uom and schemaVersion, the shapes of quantity elements, sources, destinations, business
transactions, persistent dispositions, error declarations and sensor elements. Capture refuses a document that
breaks one of them with 400 before anything is stored; when GS1's schema file is present (gs1.schema) it checks
the same document again. tests/gs1/test_structure.py holds the two to the same verdicts.

What the schema leaves open stays open here: extension fields (any name), CBV values given as other URIs, an
`action` on a TransformationEvent. gs1.epcis decides those, per event, in the capture job.
"""

from __future__ import annotations

import json
import re
from typing import Any

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
ACTIONS = ("OBSERVE", "ADD", "DELETE")
_OFFSET = re.compile(r"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$")
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_HEX = re.compile(r"^[A-Fa-f0-9]+$")
# CBV values may be any URI except the CBV 1.x forms (those must be written as the bare CBV 2.0 words).
_LEGACY_CBV = re.compile(r"^(urn:epcglobal:cbv|https?://ns\.gs1\.org/cbv/)")
# Sensor measurement types and alert types may be any URI outside GS1's web vocabulary.
_GS1_VOC = re.compile(r"^(https?://gs1\.org/voc/|https?://www\.gs1\.org/voc/)")

# event type -> fields it must have (besides type, eventTime, eventTimeZoneOffset)
REQUIRED = {
    "ObjectEvent": ("action",),
    "AggregationEvent": ("action",),
    "TransactionEvent": ("bizTransactionList", "action"),
    "TransformationEvent": (),
    "AssociationEvent": ("action", "parentID"),
}
# event type -> its own fields beyond those all five share; a field an event type does not declare is an extension
# there, of any value (an epcList on an AggregationEvent is not checked: the schema does not either).
_OWN_FIELDS = {
    "ObjectEvent": ("epcList", "quantityList", "persistentDisposition", "ilmd"),
    "AggregationEvent": ("parentID", "childEPCs", "childQuantityList"),
    "TransactionEvent": ("parentID", "epcList", "quantityList"),
    "TransformationEvent": ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                            "transformationID", "persistentDisposition", "ilmd"),
    "AssociationEvent": ("parentID", "childEPCs", "childQuantityList"),
}
_UNIQUE_EPCS = {"ObjectEvent": ("epcList",), "TransformationEvent": ("inputEPCList", "outputEPCList")}
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_SENSOR_REPORT_URIS = ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "microorganism",
                       "chemicalSubstance", "coordinateReferenceSystem", "uriValue")
_SENSOR_REPORT_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")
_SENSOR_METADATA_STRINGS = ("time", "deviceID", "deviceMetadata", "rawData", "startTime", "endTime",
                            "dataProcessingMethod", "bizRules")


class _Problems(list):
    """Messages `location: what is wrong`, in the order found."""

    def add(self, where: str, message: str) -> None:
        self.append(f"{where or '(document)'}: {message}")


def _at(where: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string(p: _Problems, value: Any, where: str) -> bool:
    if isinstance(value, str):
        return True
    p.add(where, f"{json.dumps(value)[:80]} is not of type 'string'")
    return False


def _object(p: _Problems, value: Any, where: str) -> bool:
    if isinstance(value, dict):
        return True
    p.add(where, f"{json.dumps(value)[:80]} is not of type 'object'")
    return False


def _array(p: _Problems, value: Any, where: str, min_items: int = 0, unique: bool = False) -> bool:
    if not isinstance(value, list):
        p.add(where, f"{json.dumps(value)[:80]} is not of type 'array'")
        return False
    if len(value) < min_items:
        p.add(where, "should be non-empty")
    if unique and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
        p.add(where, "has non-unique elements")
    return True


def _required(p: _Problems, obj: dict, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if name not in obj:
            p.add(where, f"'{name}' is a required property")


def _only(p: _Problems, obj: dict, names: tuple[str, ...], where: str) -> None:
    extra = sorted(set(obj) - set(names))
    if extra:
        p.add(where, f"additional properties are not allowed ({', '.join(map(repr, extra))})")


def _vocab(p: _Problems, value: Any, where: str, legacy: re.Pattern = _LEGACY_CBV) -> None:
    if _string(p, value, where) and legacy.match(value):
        p.add(where, f"{value!r} is a CBV 1.x URI; write the CBV 2.0 value")


def _strings(p: _Problems, value: Any, where: str, unique: bool = False, min_items: int = 0) -> None:
    if _array(p, value, where, min_items, unique):
        for i, v in enumerate(value):
            _string(p, v, _at(where, i))


def _context(p: _Problems, value: Any, where: str) -> None:
    if isinstance(value, str | dict):
        return
    if not isinstance(value, list):
        p.add(where, "must be a URI, an object or a list of them")
        return
    _array(p, value, where, unique=True)
    for i, v in enumerate(value):
        if not isinstance(v, str | dict):
            p.add(_at(where, i), "must be a URI or an object")


def _quantity(p: _Problems, q: Any, where: str) -> None:
    if not _object(p, q, where):
        return
    _required(p, q, ("epcClass",), where)
    _only(p, q, ("epcClass", "quantity", "uom"), where)
    if "epcClass" in q:
        _string(p, q["epcClass"], _at(where, "epcClass"))
    if "quantity" in q and not _is_number(q["quantity"]):
        p.add(_at(where, "quantity"), f"{json.dumps(q['quantity'])[:80]} is not of type 'number'")
    if "uom" in q and _string(p, q["uom"], _at(where, "uom")) and not _UOM.match(q["uom"]):
        p.add(_at(where, "uom"), f"{q['uom']!r} does not match '^[A-Z0-9]{{2,3}}$'")


def _typed_list(p: _Problems, ev: dict, name: str, where: str, fields: tuple[str, str], min_items: int = 0) -> None:
    """bizTransactionList / sourceList / destinationList: objects of exactly a type and an identifier."""
    here = _at(where, name)
    if not _array(p, ev[name], here, min_items):
        return
    type_field, id_field = fields
    for i, entry in enumerate(ev[name]):
        at = _at(here, i)
        if not _object(p, entry, at):
            continue
        _required(p, entry, (id_field,) if name == "bizTransactionList" else (type_field, id_field), at)
        _only(p, entry, fields, at)
        if type_field in entry:
            _vocab(p, entry[type_field], _at(at, type_field))
        if id_field in entry:
            _string(p, entry[id_field], _at(at, id_field))


def _place(p: _Problems, value: Any, where: str) -> None:
    if _object(p, value, where):
        _required(p, value, ("id",), where)
        if "id" in value:
            _string(p, value["id"], _at(where, "id"))


def _persistent_disposition(p: _Problems, value: Any, where: str) -> None:
    if not _object(p, value, where):
        return
    _only(p, value, ("set", "unset"), where)
    if "set" not in value and "unset" not in value:
        p.add(where, "needs 'set' or 'unset'")
    for op in ("set", "unset"):
        if op in value and _array(p, value[op], _at(where, op), min_items=1, unique=True):
            for i, v in enumerate(value[op]):
                _vocab(p, v, _at(_at(where, op), i))


def _error_declaration(p: _Problems, value: Any, where: str) -> None:
    if not _object(p, value, where):
        return
    _required(p, value, ("declarationTime",), where)
    if "declarationTime" in value:
        _string(p, value["declarationTime"], _at(where, "declarationTime"))
    if "reason" in value:
        _vocab(p, value["reason"], _at(where, "reason"))
    if "correctiveEventIDs" in value:
        _strings(p, value["correctiveEventIDs"], _at(where, "correctiveEventIDs"))


def _sensor_element(p: _Problems, element: Any, where: str) -> None:
    if not _object(p, element, where):
        return
    _required(p, element, ("sensorReport",), where)
    meta = element.get("sensorMetadata")
    if "sensorMetadata" in element and _object(p, meta, _at(where, "sensorMetadata")):
        for name in _SENSOR_METADATA_STRINGS:
            if name in meta:
                _string(p, meta[name], _at(_at(where, "sensorMetadata"), name))
    if "sensorReport" not in element:
        return
    here = _at(where, "sensorReport")
    if not _array(p, element["sensorReport"], here, min_items=1):
        return
    for i, report in enumerate(element["sensorReport"]):
        at = _at(here, i)
        if not _object(p, report, at):
            continue
        _required(p, report, ("type",), at)
        if "type" in report:
            _vocab(p, report["type"], _at(at, "type"), _GS1_VOC)
        if "exception" in report:
            _vocab(p, report["exception"], _at(at, "exception"), _GS1_VOC)
        if "component" in report:
            _vocab(p, report["component"], _at(at, "component"))
        for name in (*_SENSOR_REPORT_URIS, "time", "stringValue", "uom"):
            if name in report:
                _string(p, report[name], _at(at, name))
        for name in _SENSOR_REPORT_NUMBERS:
            if name in report and not _is_number(report[name]):
                p.add(_at(at, name), f"{json.dumps(report[name])[:80]} is not of type 'number'")
        if "booleanValue" in report and not isinstance(report["booleanValue"], bool):
            p.add(_at(at, "booleanValue"), "is not of type 'boolean'")
        value = report.get("hexBinaryValue")
        if "hexBinaryValue" in report and _string(p, value, _at(at, "hexBinaryValue")) and not _HEX.match(value):
            p.add(_at(at, "hexBinaryValue"), f"{value!r} does not match '^[A-Fa-f0-9]+$'")


def _event(p: _Problems, ev: Any, where: str, bare: bool = False) -> None:
    """One event of an eventList (or a bare event: it then needs its own @context)."""
    if not _object(p, ev, where):
        return
    _required(p, ev, ("type",), where)
    ev_type = ev.get("type")
    if "type" in ev and not _string(p, ev_type, _at(where, "type")):
        return
    if bare:
        _required(p, ev, ("@context",), where)
    if ev_type not in EVENT_TYPES:
        # an extended event type (any URI): only the common event rules hold
        _common(p, ev, where)
        return
    _common(p, ev, where)
    _required(p, ev, REQUIRED[ev_type], where)
    if "action" in ev and ev_type != "TransformationEvent" and ev["action"] not in ACTIONS:
        p.add(_at(where, "action"), f"{json.dumps(ev['action'])[:80]} is not one of {list(ACTIONS)}")
    own = _OWN_FIELDS[ev_type]
    for name in _EPC_LISTS:
        if name in ev and name in own:
            _strings(p, ev[name], _at(where, name), unique=name in _UNIQUE_EPCS.get(ev_type, ()))
    for name in _QUANTITY_LISTS:
        if name in ev and name in own and _array(p, ev[name], _at(where, name)):
            for i, q in enumerate(ev[name]):
                _quantity(p, q, _at(_at(where, name), i))
    for name in ("parentID", "transformationID"):
        if name in ev and name in own:
            _string(p, ev[name], _at(where, name))
    for name in ("bizStep", "disposition"):
        if name in ev:
            _vocab(p, ev[name], _at(where, name))
    if "persistentDisposition" in ev and "persistentDisposition" in own:
        _persistent_disposition(p, ev["persistentDisposition"], _at(where, "persistentDisposition"))
    for name in ("readPoint", "bizLocation"):
        if name in ev:
            _place(p, ev[name], _at(where, name))
    if "bizTransactionList" in ev:
        _typed_list(p, ev, "bizTransactionList", where, ("type", "bizTransaction"),
                    min_items=1 if ev_type == "TransactionEvent" else 0)
    if "sourceList" in ev:
        _typed_list(p, ev, "sourceList", where, ("type", "source"))
    if "destinationList" in ev:
        _typed_list(p, ev, "destinationList", where, ("type", "destination"))
    if "sensorElementList" in ev and _array(p, ev["sensorElementList"], _at(where, "sensorElementList")):
        for i, element in enumerate(ev["sensorElementList"]):
            _sensor_element(p, element, _at(_at(where, "sensorElementList"), i))
    if "ilmd" in ev and "ilmd" in own:
        _object(p, ev["ilmd"], _at(where, "ilmd"))
    _what(p, ev, ev_type, where)


def _listed(ev: dict, name: str, min_items: int = 1) -> bool:
    return isinstance(ev.get(name), list) and len(ev[name]) >= min_items


def _what(p: _Problems, ev: dict, ev_type: str, where: str) -> None:
    """Each event type names what it is about (the schema's anyOf rules), and ILMD comes only with ADD."""
    action = ev.get("action")
    if ev_type == "ObjectEvent":
        if not (_listed(ev, "epcList", 0) or _listed(ev, "quantityList")
                or (_listed(ev, "sensorElementList") and "readPoint" in ev)):
            p.add(where, "an ObjectEvent needs an epcList, a non-empty quantityList, or sensor data with a readPoint")
        if "ilmd" in ev and action in ("OBSERVE", "DELETE"):
            p.add(_at(where, "ilmd"), "ilmd is only allowed with action ADD")
    elif ev_type in ("AggregationEvent", "AssociationEvent"):
        if not (_listed(ev, "childEPCs") or _listed(ev, "childQuantityList") or action in ("DELETE", None)):
            p.add(where, f"an {ev_type} with action {action} needs childEPCs or a childQuantityList")
    elif ev_type == "TransactionEvent":
        if not (_listed(ev, "epcList", 0) or _listed(ev, "quantityList") or action in ("DELETE", None)):
            p.add(where, f"a TransactionEvent with action {action} needs an epcList or a quantityList")
    elif ev_type == "TransformationEvent":
        inputs = _listed(ev, "inputEPCList") or _listed(ev, "inputQuantityList")
        outputs = _listed(ev, "outputEPCList") or _listed(ev, "outputQuantityList")
        if not ((inputs and outputs) or ((inputs or outputs) and "transformationID" in ev)):
            p.add(where, "a TransformationEvent needs inputs and outputs, or either with a transformationID")


def _common(p: _Problems, ev: dict, where: str) -> None:
    """The fields every event type shares: times, offset, eventID, certificationInfo, errorDeclaration."""
    _required(p, ev, ("eventTime", "eventTimeZoneOffset"), where)
    if "@context" in ev:
        _context(p, ev["@context"], _at(where, "@context"))
    for name in ("eventTime", "recordTime", "eventID"):
        if name in ev:
            _string(p, ev[name], _at(where, name))
    offset = ev.get("eventTimeZoneOffset")
    if "eventTimeZoneOffset" in ev and _string(p, offset, _at(where, "eventTimeZoneOffset")) \
            and not _OFFSET.match(offset):
        p.add(_at(where, "eventTimeZoneOffset"), f"{offset!r} is not a time zone offset such as '+08:00'")
    if "certificationInfo" in ev:
        info = ev["certificationInfo"]
        if isinstance(info, list):
            _strings(p, info, _at(where, "certificationInfo"))
        elif not isinstance(info, str):
            p.add(_at(where, "certificationInfo"), "must be a URI or a list of URIs")
    if "errorDeclaration" in ev:
        _error_declaration(p, ev["errorDeclaration"], _at(where, "errorDeclaration"))


def _event_list(p: _Problems, events: Any, where: str) -> None:
    if _array(p, events, where):
        for i, ev in enumerate(events):
            _event(p, ev, _at(where, i))


def structure_problems(doc: Any) -> list[str]:
    """Check an EPCIS 2.0 JSON document (EPCISDocument, EPCISQueryDocument or a bare event) against the structure
    of the EPCIS 2.0 JSON schema.

    Args:
        doc: the document as decoded from JSON.

    Returns:
        One message per violation, ``location: problem`` (e.g. ``epcisBody.eventList[0].action: "MOVE" is not one
        of ['OBSERVE', 'ADD', 'DELETE']``), in document order; empty when the structure holds.
    """
    p = _Problems()
    if not _object(p, doc, ""):
        return p
    _required(p, doc, ("type",), "")
    kind = doc.get("type")
    if "type" in doc and not _string(p, kind, "type"):
        return p
    if kind in ("EPCISDocument", "EPCISQueryDocument"):
        _required(p, doc, ("@context", "type", "schemaVersion", "creationDate", "epcisBody")
                  if kind == "EPCISDocument" else ("@context", "type", "epcisBody"), "")
        if "@context" in doc:
            _context(p, doc["@context"], "@context")
        if "schemaVersion" in doc and _string(p, doc["schemaVersion"], "schemaVersion") \
                and not _VERSION.match(doc["schemaVersion"]):
            p.add("schemaVersion", f"{doc['schemaVersion']!r} is not a version such as '2.0'")
        for name in ("id", "creationDate", "instanceIdentifier", "sender", "receiver"):
            if name in doc:
                _string(p, doc[name], name)
        if "epcisHeader" in doc:
            _object(p, doc["epcisHeader"], "epcisHeader")
        body = doc.get("epcisBody")
        if "epcisBody" not in doc or not _object(p, body, "epcisBody"):
            return p
        if kind == "EPCISDocument":
            _required(p, body, ("eventList",), "epcisBody")
            if "eventList" in body:
                _event_list(p, body["eventList"], "epcisBody.eventList")
            return p
        _required(p, body, ("queryResults",), "epcisBody")
        results = body.get("queryResults")
        if "queryResults" in body and _object(p, results, "epcisBody.queryResults"):
            where = "epcisBody.queryResults"
            _required(p, results, ("queryName", "resultsBody"), where)
            if "queryName" in results:
                _string(p, results["queryName"], _at(where, "queryName"))
            if "resultsBody" in results and _object(p, results["resultsBody"], _at(where, "resultsBody")):
                _required(p, results["resultsBody"], ("eventList",), _at(where, "resultsBody"))
                if "eventList" in results["resultsBody"]:
                    _event_list(p, results["resultsBody"]["eventList"], _at(where, "resultsBody.eventList"))
        return p
    _event(p, doc, "", bare=True)
    return p
