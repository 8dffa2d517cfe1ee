"""CBV 2.0 event hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``) for events captured without an eventID.

Implemented from the algorithm text of CBV 2.0 "Event hash" (also published in the README of GS1's
epcis-event-hash-generator). The pre-hash string lists the event's fields in the canonical property order as
``key=value`` pairs with no separators; list children are sorted; CBV values, CURIEs, EPC URIs and Digital Link
URIs are rewritten to one canonical form, so the JSON and XML forms of an event give the same hash.

Where this module knowingly differs from the PyPI ``epcis-event-hash-generator`` 1.9.3 (each time following the
text):

* bizTransactionList, sourceList and destinationList sit at positions 20-22 of the canonical order, and within each
  entry the ``type`` pair follows the identifier (rule 13); PyPI appends them after the sensor elements and puts
  ``type`` first.
* ILMD and extension keys written as CURIEs (e.g. ``cbvmda:lotNumber``) are expanded to ``{namespace}localName``
  (rules 15, 19); PyPI leaves prefixes it did not see in the document's own context.
* JSON booleans are written ``true``/``false`` as in XML; PyPI writes Python's ``True``/``False``.
* Numbers are canonicalised exactly (Decimal), so long digit strings keep every digit; PyPI goes through float.
* Digital Link values are percent-encoded as the Digital Link standard requires (``'``, ``;``, ``=`` ... too);
  PyPI keeps EPC URI escapes.

``certificationInfo`` is placed after ``eventTimeZoneOffset`` as PyPI does: the published property table omits it,
but leaving it out would let a changed certificate keep the same hash.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from gs1.epcis import DEFAULT_PREFIXES, context_prefixes, document_events, expand_curie, parse_time
from gs1.errors import GS1Error, InvalidEvent
from gs1.identifiers import GS1_BASE, Ref, parse_identifier

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
HASH_ALGORITHMS: dict[str, tuple[str, Callable[..., Any]]] = {
    "sha-256": ("sha-256", hashlib.sha256),
    "sha-384": ("sha-384", hashlib.sha384),
    "sha-512": ("sha-512", hashlib.sha512),
    "sha3-256": ("sha3-256", hashlib.sha3_256),
}

# CBV 1.x URNs -> CBV 2.0 web URIs (rule 14).
_URN_TO_WEB = (
    ("urn:epcglobal:cbv:bizstep:", CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)

# Where a bare term is allowed in JSON-LD, the namespace the EPCIS context expands it into (rule 16).
_BARE_TERM_BASE = {
    "bizStep": CBV + "BizStep-",
    "disposition": CBV + "Disp-",
    "set": CBV + "Disp-",
    "unset": CBV + "Disp-",
    "bizTransactionType": CBV + "BTT-",
    "sourceDestType": CBV + "SDT-",
    "sensorType": GS1_VOC,
    "exception": GS1_VOC,
    "component": CBV + "Comp-",
}

_SENSOR_METADATA_ORDER = (
    "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules",
)
_SENSOR_REPORT_ORDER = (
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
    "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
    "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
)
_TIME_FIELDS = frozenset({"eventTime", "time", "startTime", "endTime"})
_EXCLUDED = frozenset({"eventID", "recordTime", "errorDeclaration", "type", "@context", "rdfs:comment", "comment"})
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList")
_EVENT_ORDER = (
    # (field, how) in the canonical property order; "how" picks the serialiser.
    ("eventTime", "time"),
    ("eventTimeZoneOffset", "plain"),
    ("certificationInfo", "value"),
    ("epcList", "epcs"),
    ("parentID", "value"),
    ("inputEPCList", "epcs"),
    ("childEPCs", "epcs"),
    ("quantityList", "quantities"),
    ("childQuantityList", "quantities"),
    ("inputQuantityList", "quantities"),
    ("outputEPCList", "epcs"),
    ("outputQuantityList", "quantities"),
    ("action", "plain"),
    ("transformationID", "value"),
    ("bizStep", "bizStep"),
    ("disposition", "disposition"),
    ("persistentDisposition", "persistentDisposition"),
    ("readPoint", "place"),
    ("bizLocation", "place"),
    ("bizTransactionList", "bizTransactions"),
    ("sourceList", "sourceDest"),
    ("destinationList", "sourceDest"),
    ("sensorElementList", "sensors"),
    ("ilmd", "ilmd"),
)
_HANDLED = frozenset(name for name, _ in _EVENT_ORDER) | _EXCLUDED
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


# --- value canonicalisation -----------------------------------------------------------------------------------

def canonical_number(value: Any) -> str | None:
    """Return the canonical text of a number (no trailing zeros, no exponent), or None if not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        text = value
    else:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number == 0:
        return "0"
    text = format(number.normalize(), "f")
    return text[1:] if text.startswith("+") else text


def canonical_time(value: str) -> str:
    """Return a timestamp in UTC with exactly three fraction digits (half-up rounding) and a ``Z``."""
    dt = parse_time(value, "")
    fraction = re.search(r"\.(\d+)", value)
    millis = Decimal(0)
    if fraction:
        millis = (Decimal("0." + fraction.group(1)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    dt = dt.replace(microsecond=0) + timedelta(milliseconds=int(millis))
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _constrained_dl(ref: Ref) -> str | None:
    # Rule 18: id.gs1.org, no query string, only the most fine-grained key level.
    if ref.kind == "item":
        return Ref("item", gtin=ref.gtin, serial=ref.serial).digital_link(GS1_BASE)
    if ref.kind == "lot":
        return Ref("lot", gtin=ref.gtin, lot=ref.lot).digital_link(GS1_BASE)
    if ref.kind in ("class", "sscc", "location", "party"):
        return ref.digital_link(GS1_BASE)
    return ref.canonical


def canonical_value(value: Any, prefixes: dict[str, str], vocabulary: str | None = None) -> str:
    """Return the canonical pre-hash text of one value (rules 5-7 and 14-18)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    number = canonical_number(value)
    if number is not None:
        return number
    if not isinstance(value, str):
        return str(value)
    text = value.strip()
    if vocabulary and ":" not in text and text:
        return _BARE_TERM_BASE[vocabulary] + text
    for urn, web in _URN_TO_WEB:
        if text.startswith(urn):
            return web + text[len(urn):]
    if text.startswith(("urn:epc:", "http://", "https://", "HTTP://", "HTTPS://")):
        try:
            dl = _constrained_dl(parse_identifier(text))
        except GS1Error:
            dl = None
        return dl or text
    return expand_curie(text, prefixes)


def _expand_key(key: str, prefixes: dict[str, str]) -> str:
    prefix, sep, local = key.partition(":")
    if sep and prefix in prefixes:
        return "{" + prefixes[prefix] + "}" + local
    return key


# --- structure ------------------------------------------------------------------------------------------------

def _generic(key: str, value: Any, prefixes: dict[str, str]) -> list[str]:
    """Serialise an extension element (rule 20): one string per value, arrays repeat the key like XML does."""
    name = _expand_key(key, prefixes)
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_generic(key, item, prefixes))
        return out
    if isinstance(value, dict):
        children = _extensions(value, prefixes, skip=frozenset())
        return [name + "".join(children)]
    if value is None:
        return [name]
    text = canonical_value(value, prefixes)
    return [name + ("=" + text if text != "" else "")]


def _extensions(obj: dict, prefixes: dict[str, str], skip: frozenset[str]) -> list[str]:
    out: list[str] = []
    for key, value in obj.items():
        if key in skip or key.startswith("@") or key in ("rdfs:comment", "comment", "#text"):
            continue
        out.extend(_generic(key, value, prefixes))
    out.sort()
    return out


def _pair(key: str, value: Any, prefixes: dict[str, str], vocabulary: str | None = None) -> str:
    if value is None:
        return ""
    if key in _TIME_FIELDS and isinstance(value, str):
        try:
            return f"{key}={canonical_time(value)}"
        except InvalidEvent:
            pass
    text = canonical_value(value, prefixes, vocabulary)
    return f"{key}={text}" if text != "" else ""


def _ordered(obj: dict, order: tuple[str, ...], prefixes: dict[str, str], vocab: dict[str, str]) -> str:
    parts = [_pair(name, obj.get(name), prefixes, vocab.get(name)) for name in order]
    parts.extend(_extensions(obj, prefixes, skip=frozenset(order)))
    return "".join(parts)


def _sensor_element(element: dict, prefixes: dict[str, str]) -> str:
    out = ["sensorElement"]
    metadata = element.get("sensorMetadata")
    if isinstance(metadata, dict):
        body = _ordered(metadata, _SENSOR_METADATA_ORDER, prefixes, {})
        if body:
            out.append("sensorMetadata" + body)
    reports = element.get("sensorReport") or []
    vocab = {"type": "sensorType", "exception": "exception", "component": "component"}
    texts = sorted(
        "sensorReport" + _ordered(r, _SENSOR_REPORT_ORDER, prefixes, vocab) for r in reports if isinstance(r, dict)
    )
    out.extend(texts)
    out.extend(_extensions(element, prefixes, skip=frozenset({"sensorMetadata", "sensorReport"})))
    return "".join(out)


def _section(name: str, how: str, value: Any, prefixes: dict[str, str]) -> str:
    if value is None:
        return ""
    if how == "time":
        return _pair(name, value, prefixes)
    if how == "plain":
        text = str(value).strip()
        return f"{name}={text}" if text else ""
    if how in ("value", "bizStep", "disposition"):
        if isinstance(value, list):
            return "".join(sorted(_pair(name, v, prefixes) for v in value))
        return _pair(name, value, prefixes, how if how != "value" else None)
    if how == "epcs":
        items = sorted(_pair("epc", v, prefixes) for v in value)
        return name + "".join(items) if any(items) else ""
    if how == "quantities":
        items = sorted(
            "quantityElement" + _ordered(q, ("epcClass", "quantity", "uom"), prefixes, {})
            for q in value if isinstance(q, dict)
        )
        return name + "".join(items) if items else ""
    if how == "persistentDisposition":
        parts = []
        for op in ("set", "unset"):
            parts.extend(sorted(_pair(op, v, prefixes, op) for v in value.get(op) or []))
        return name + "".join(parts) if parts else ""
    if how == "place":
        body = _ordered(value, ("id",), prefixes, {})
        return name + body if body else ""
    if how == "bizTransactions":
        items = sorted(
            _pair("bizTransaction", bt.get("bizTransaction"), prefixes)
            + _pair("type", bt.get("type"), prefixes, "bizTransactionType")
            for bt in value if isinstance(bt, dict)
        )
        return name + "".join(items) if items else ""
    if how == "sourceDest":
        key = "source" if name == "sourceList" else "destination"
        items = sorted(
            _pair(key, sd.get(key), prefixes) + _pair("type", sd.get("type"), prefixes, "sourceDestType")
            for sd in value if isinstance(sd, dict)
        )
        return name + "".join(items) if items else ""
    if how == "sensors":
        items = sorted(_sensor_element(se, prefixes) for se in value if isinstance(se, dict))
        return name + "".join(items) if items else ""
    if how == "ilmd":
        items = _extensions(value, prefixes, skip=frozenset())
        return name + "".join(items) if items else ""
    raise AssertionError(how)


def prehash_string(ev: dict, prefixes: dict[str, str] | None = None) -> str:
    """Return the canonical pre-hash string of one EPCIS 2.0 JSON event.

    Args:
        ev: the event as decoded from JSON.
        prefixes: CURIE prefixes from the document ``@context`` (``gs1.epcis.context_prefixes``).

    Raises:
        InvalidEvent: the event has no type or no usable eventTime.
    """
    prefixes = context_prefixes(prefixes or DEFAULT_PREFIXES, ev.get("@context"))
    ev_type = ev.get("type")
    if not isinstance(ev_type, str):
        raise InvalidEvent("an event needs a type to be hashed", "type")
    if not isinstance(ev.get("eventTime"), str):
        raise InvalidEvent("an event needs an eventTime to be hashed", "eventTime")
    parts = ["eventType=" + ev_type]
    for name, how in _EVENT_ORDER:
        parts.append(_section(name, how, ev.get(name), prefixes))
    parts.extend(_extensions(ev, prefixes, skip=_HANDLED))
    return "".join(parts)


def event_hash(ev: dict, prefixes: dict[str, str] | None = None, algorithm: str = "sha-256") -> str:
    """Return the CBV 2.0 event hash ID of an EPCIS 2.0 JSON event, e.g. ``ni:///sha-256;...?ver=CBV2.0``.

    Args:
        ev: the event as decoded from JSON.
        prefixes: CURIE prefixes from the document ``@context`` (``gs1.epcis.context_prefixes``).
        algorithm: a Named Information hash name: sha-256 (default), sha-384, sha-512 or sha3-256.

    Raises:
        InvalidEvent: the event has no type or no usable eventTime.
        ValueError: unknown algorithm.
    """
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}; use one of {', '.join(HASH_ALGORITHMS)}")
    name, fn = HASH_ALGORITHMS[algorithm]
    digest = fn(prehash_string(ev, prefixes).encode("utf-8")).hexdigest()
    return f"ni:///{name};{digest}?ver=CBV2.0"


def document_hashes(doc: dict) -> list[str]:
    """Return the event hash of every event of an EPCIS document, in document order."""
    events, _ = document_events(doc)
    prefixes = context_prefixes(doc.get("@context"))
    return [event_hash(ev, prefixes) for ev in events]


__all__ = ["canonical_number", "canonical_time", "canonical_value", "document_hashes", "event_hash",
           "prehash_string"]
