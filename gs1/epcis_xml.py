"""EPCIS XML bindings: EPCIS 2.0 and 1.2 XML documents -> the EPCIS 2.0 JSON-LD document capture takes, and
EPCIS 2.0 JSON query documents -> EPCIS 2.0 XML (EPCISQueryDocument). Pure: no Flask, no Neo4j.

Reading is hostile-input safe: defusedxml refuses entity declarations (billion laughs) and external entities or
DTDs that fetch anything; the document's depth, element count and every text or attribute value are bounded.

The mapping (docs/epcis-xml.md):
- standard elements (unqualified, or in the EPCIS namespace) become the JSON fields of the same name; the
  ``extension`` and ``baseExtension`` wrappers of EPCIS 1.2 (and 2.0) are unwrapped, so a 1.2 ``TransformationEvent``
  inside ``EventList/extension`` and a ``quantityList`` inside ``ObjectEvent/extension`` land where 2.0 has them;
- CBV values in any notation (``urn:epcglobal:cbv:bizstep:shipping``, ``https://ref.gs1.org/cbv/BizStep-shipping``)
  become the bare CBV 2.0 term (``shipping``), as the JSON binding writes them; other URIs stay as they are;
- an element in another namespace is a user extension: key ``prefix:local`` (the document's own prefix for that
  namespace, declared in ``@context``); text -> string, children -> object, repeated names -> list, attributes ->
  ``@prefix:name`` keys, text beside children or attributes -> ``#text``;
- unqualified elements the standard does not define are refused directly in an event, and kept as plain keys when
  they sit in an ``extension`` wrapper (the slot reserved for later versions of the standard, as GS1's 1.2 -> 2.0
  XSL keeps them); writing XML puts such keys back in ``<extension>``.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from gs1.epcis import CBV_BASE, OWN_BIZ_STEPS, VOCABULARIES, context_prefixes, normalize_vocab, vocab_uri
from gs1.errors import InvalidEvent

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_2 = "urn:epcglobal:epcis:xsd:2"
EPCIS_1 = "urn:epcglobal:epcis:xsd:1"
QUERY_2 = "urn:epcglobal:epcis-query:xsd:2"
QUERY_1 = "urn:epcglobal:epcis-query:xsd:1"
MASTERDATA = ("urn:epcglobal:epcis-masterdata:xsd:2", "urn:epcglobal:epcis-masterdata:xsd:1")
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
CBVMDA_XML = "urn:epcglobal:cbv:mda"
XML_MEDIA_TYPES = ("application/xml", "text/xml")

# Namespaces of the standard itself: their elements are standard fields, never user extensions.
_STANDARD_NS = frozenset({EPCIS_2, EPCIS_1, QUERY_2, QUERY_1, *MASTERDATA})
_NOT_EXTENSIONS = frozenset({*_STANDARD_NS, XSI, XSD, SBDH})
# XML namespaces the EPCIS 2.0 JSON-LD context already names: their JSON prefix, not declared again.
_KNOWN_PREFIX = {CBVMDA_XML: "cbvmda", CBVMDA_XML + ":": "cbvmda", "https://gs1.org/voc/": "gs1",
                 "https://ref.gs1.org/cbv/": "cbv"}
_RESERVED_PREFIXES = frozenset({"cbvmda", "gs1", "cbv", "epcis", "epcisq", "xsi", "xsd", "sbdh", "xml", "xmlns"})

MAX_DEPTH = 64
MAX_TEXT = 1024 * 1024  # one text or attribute value (a GS1 key is < 100 characters)
MAX_ELEMENTS = 2_000_000

_EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_TEXTS = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "action", "parentID", "transformationID")
_WRAPPERS = ("extension", "baseExtension")
_REPORT_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# XSD order of each event type's own fields, after the common ones (EPCglobal-epcis-2_0.xsd).
_COMMON_ORDER = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo")
_ORDER = {
    "ObjectEvent": ("epcList", "action", "bizStep", "disposition", "readPoint", "bizLocation", "bizTransactionList",
                    "quantityList", "sourceList", "destinationList", "sensorElementList", "persistentDisposition",
                    "ilmd"),
    "AggregationEvent": ("parentID", "childEPCs", "action", "bizStep", "disposition", "readPoint", "bizLocation",
                         "bizTransactionList", "childQuantityList", "sourceList", "destinationList",
                         "sensorElementList", "persistentDisposition"),
    "TransactionEvent": ("bizTransactionList", "parentID", "epcList", "action", "bizStep", "disposition",
                         "readPoint", "bizLocation", "quantityList", "sourceList", "destinationList",
                         "sensorElementList", "persistentDisposition"),
    "TransformationEvent": ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                            "transformationID", "bizStep", "disposition", "readPoint", "bizLocation",
                            "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
                            "persistentDisposition", "ilmd"),
    "AssociationEvent": ("parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition",
                         "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
                         "sensorElementList", "persistentDisposition"),
}


class InvalidXML(InvalidEvent):
    """An XML body that is not an acceptable EPCIS XML document; ``location`` names the element path."""


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return None, tag


def _standard(tag: str) -> str | None:
    """The local name of a standard element (unqualified or in an EPCIS namespace), else None."""
    uri, local = _split(tag)
    return local if uri is None or uri in _STANDARD_NS else None


def _number(text: str, where: str) -> int | float:
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
    raise InvalidXML(f"{text[:40]!r} is not a number", where)


def _boolean(text: str, where: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise InvalidXML(f"{text[:40]!r} is not a boolean (true or false)", where)


# --- reading ------------------------------------------------------------------------------------------------------

def _parse(data: bytes, max_elements: int) -> tuple[Element, list[tuple[str, str]]]:
    """Parse safely; return the root and the namespace declarations in document order."""
    declarations: list[tuple[str, str]] = []
    depth = count = 0
    root = None
    try:
        for event, item in SafeET.iterparse(io.BytesIO(data), events=("start-ns", "start", "end")):
            if event == "start-ns":
                declarations.append(item)
            elif event == "start":
                depth += 1
                count += 1
                if depth > MAX_DEPTH:
                    raise InvalidXML(f"the XML nests deeper than {MAX_DEPTH} elements")
                if count > max_elements:
                    raise InvalidXML(f"the XML holds more than {max_elements} elements")
            else:
                depth -= 1
                for text in (item.text, item.tail, *item.attrib.values()):
                    if text is not None and len(text) > MAX_TEXT:
                        raise InvalidXML(f"a text or attribute value of <{_split(item.tag)[1]}> is longer than "
                                         f"{MAX_TEXT} characters")
                root = item
    except DefusedXmlException as exc:
        raise InvalidXML("the XML declares entities or refers to external resources (DTD entities are refused: "
                         f"{type(exc).__name__})") from None
    except ParseError as exc:
        raise InvalidXML(f"the body is not well-formed XML: {exc}") from None
    if root is None:  # pragma: no cover - expat refuses an empty document first
        raise InvalidXML("the body holds no XML element")
    return root, declarations


class _Reader:
    """Turns one parsed EPCIS XML document into EPCIS 2.0 JSON, naming extension namespaces as the document did."""

    def __init__(self, declarations: list[tuple[str, str]]) -> None:
        self.prefix_of: dict[str, str] = {}
        self.context: dict[str, str] = {}
        for prefix, uri in declarations:
            self._prefix(uri, prefix)

    def _prefix(self, uri: str, wanted: str = "") -> str:
        if uri in self.prefix_of:
            return self.prefix_of[uri]
        if uri in _KNOWN_PREFIX:
            self.prefix_of[uri] = _KNOWN_PREFIX[uri]
            return self.prefix_of[uri]
        base = wanted if wanted and _NAME.fullmatch(wanted) and ":" not in wanted else "ns"
        name, n = base, 1
        while name in self.context or name in _RESERVED_PREFIXES:
            n += 1
            name = f"{base}{n}"
        if uri not in _NOT_EXTENSIONS:
            self.context[name] = uri
        self.prefix_of[uri] = name
        return name

    def key(self, tag: str) -> str:
        uri, local = _split(tag)
        return local if uri is None else f"{self._prefix(uri)}:{local}"

    # -- values --

    @staticmethod
    def text(el: Element, where: str, required: bool = True) -> str:
        if len(el):
            raise InvalidXML(f"<{_split(el.tag)[1]}> must hold text, not elements", where)
        value = (el.text or "").strip()
        if required and not value:
            raise InvalidXML(f"<{_split(el.tag)[1]}> is empty", where)
        return value

    def extension_value(self, el: Element) -> Any:
        attrs = {f"@{self.key(k)}": v for k, v in el.attrib.items() if _split(k)[0] != XSI}
        children = list(el)
        text = (el.text or "").strip()
        if el.get(f"{{{XSI}}}nil") in ("true", "1") and not children and not attrs and not text:
            return None
        if not children and not attrs:
            return text
        obj: dict[str, Any] = dict(attrs)
        for child in children:
            _add(obj, self.key(child.tag), self.extension_value(child))
        if text:
            obj["#text"] = text
        return obj

    def extensions_into(self, obj: dict, el: Element, where: str) -> None:
        """Add the children of a container holding only extensions (ilmd, extension wrappers) to ``obj``."""
        for child in el:
            local = _standard(child.tag)
            if local == "extension":
                self.extensions_into(obj, child, f"{where}.extension")
            else:
                _add(obj, self.key(child.tag) if local is None else local, self.extension_value(child))

    def vocab(self, text: str, vocabulary: str) -> str:
        return normalize_vocab(text, vocabulary)

    # -- standard fields --

    def epcs(self, el: Element, where: str) -> list[str]:
        return [self.text(child, here) for here, child in _items(el, "epc", where)]

    def quantities(self, el: Element, where: str) -> list[dict]:
        out = []
        for here, child in _items(el, "quantityElement", where):
            q: dict[str, Any] = {}
            for part in child:
                name = _standard(part.tag)
                if name == "epcClass":
                    q["epcClass"] = self.text(part, f"{here}.epcClass")
                elif name == "quantity":
                    if part.get(f"{{{XSI}}}nil") not in ("true", "1"):
                        q["quantity"] = _number(self.text(part, f"{here}.quantity"), f"{here}.quantity")
                elif name == "uom":
                    q["uom"] = self.text(part, f"{here}.uom")
                else:
                    raise InvalidXML(f"<{_split(part.tag)[1]}> is not part of a quantityElement", here)
            if "epcClass" not in q:
                raise InvalidXML("a quantityElement needs an <epcClass>", here)
            out.append(q)
        return out

    def place(self, el: Element, where: str) -> dict:
        out: dict[str, Any] = {}
        for child in el:
            local = _standard(child.tag)
            if local == "id":
                out["id"] = self.text(child, f"{where}.id")
            elif local == "extension":
                self.extensions_into(out, child, f"{where}.extension")
            elif local is not None:
                raise InvalidXML(f"<{local}> is not part of a {_split(el.tag)[1]}", where)
            else:
                _add(out, self.key(child.tag), self.extension_value(child))
        if "id" not in out:
            raise InvalidXML(f"<{_split(el.tag)[1]}> needs an <id>", where)
        return out

    def typed_list(self, el: Element, where: str, item: str, vocabulary: str, type_required: bool) -> list[dict]:
        out = []
        for here, child in _items(el, item, where):
            entry: dict[str, str] = {}
            kind = child.get("type")
            if kind is not None:
                entry["type"] = self.vocab(kind.strip(), vocabulary)
            elif type_required:
                raise InvalidXML(f"a <{item}> needs a type attribute", here)
            entry[item] = self.text(child, here)
            out.append(entry)
        return out

    def attributes(self, el: Element, where: str) -> dict:
        """sensorMetadata / sensorReport: every attribute a field (numbers and booleans typed as JSON has them)."""
        out: dict[str, Any] = {}
        for name, value in el.attrib.items():
            uri, local = _split(name)
            if uri == XSI:
                continue
            if uri is None and local in _REPORT_NUMBERS:
                out[local] = _number(value.strip(), f"{where}@{local}")
            elif uri is None and local == "booleanValue":
                out[local] = _boolean(value.strip(), f"{where}@{local}")
            else:
                out[self.key(name)] = value
        return out

    def sensor_elements(self, el: Element, where: str) -> list[dict]:
        out = []
        # SensorElementListExtensionType (an <extension> after the elements) is reserved and holds nothing today
        for here, child in _items(el, "sensorElement", where, skip="extension"):
            element: dict[str, Any] = {}
            for part in child:
                name = _standard(part.tag)
                if name == "sensorMetadata":
                    element["sensorMetadata"] = self.attributes(part, f"{here}.sensorMetadata")
                elif name == "sensorReport":
                    element.setdefault("sensorReport", []).append(self.attributes(part, f"{here}.sensorReport"))
                elif name == "extension":
                    self.extensions_into(element, part, f"{here}.extension")
                elif name is not None:
                    raise InvalidXML(f"<{name}> is not part of a sensorElement", here)
                else:
                    _add(element, self.key(part.tag), self.extension_value(part))
            out.append(element)
        return out

    def persistent_disposition(self, el: Element, where: str) -> dict:
        out: dict[str, list[str]] = {}
        for child in el:
            local = _standard(child.tag)
            if local not in ("set", "unset"):
                raise InvalidXML(f"<{_split(child.tag)[1]}>: a persistentDisposition holds <set> and <unset>",
                                 where)
            out.setdefault(local, []).append(self.vocab(self.text(child, f"{where}.{local}"), "disposition"))
        return out

    def error_declaration(self, el: Element, where: str) -> dict:
        out: dict[str, Any] = {}
        for child in el:
            local = _standard(child.tag)
            here = f"{where}.{local}"
            if local == "declarationTime":
                out[local] = self.text(child, here)
            elif local == "reason":
                out[local] = self.vocab(self.text(child, here), "errorReason")
            elif local == "correctiveEventIDs":
                out[local] = [self.text(item, at) for at, item in _items(child, "correctiveEventID", here)]
            elif local == "extension":
                self.extensions_into(out, child, here)
            elif local is not None:
                raise InvalidXML(f"<{local}> is not part of an errorDeclaration", where)
            else:
                _add(out, self.key(child.tag), self.extension_value(child))
        return out

    def ilmd(self, el: Element, where: str) -> dict:
        out: dict[str, Any] = {}
        self.extensions_into(out, el, where)
        return out

    def field(self, name: str, el: Element, where: str) -> Any:
        """The JSON value of the standard event field ``name``, or raise when ``name`` is not one."""
        if name in _TEXTS:
            return self.text(el, where)
        if name in ("bizStep", "disposition"):
            return self.vocab(self.text(el, where), name)
        if name in _EPC_LISTS:
            return self.epcs(el, where)
        if name in _QUANTITY_LISTS:
            return self.quantities(el, where)
        if name in ("readPoint", "bizLocation"):
            return self.place(el, where)
        if name == "bizTransactionList":
            return self.typed_list(el, where, "bizTransaction", "bizTransactionType", False)
        if name == "sourceList":
            return self.typed_list(el, where, "source", "sourceDestType", True)
        if name == "destinationList":
            return self.typed_list(el, where, "destination", "sourceDestType", True)
        if name == "sensorElementList":
            return self.sensor_elements(el, where)
        if name == "persistentDisposition":
            return self.persistent_disposition(el, where)
        if name == "errorDeclaration":
            return self.error_declaration(el, where)
        if name == "ilmd":
            return self.ilmd(el, where)
        raise KeyError(name)

    def event_fields(self, el: Element, ev: dict, where: str, wrapped: bool) -> None:
        for child in el:
            local = _standard(child.tag)
            if local is None:
                _add(ev, self.key(child.tag), self.extension_value(child))
                continue
            here = f"{where}.{local}"
            if local in _WRAPPERS:
                self.event_fields(child, ev, here, wrapped=True)
                continue
            if local == "certificationInfo":
                _add(ev, local, self.text(child, here))
                continue
            try:
                value = self.field(local, child, here)
            except KeyError:
                if not wrapped:
                    raise InvalidXML(f"<{local}> is not a field of an EPCIS event; an extension needs a namespace",
                                     here) from None
                _add(ev, local, self.extension_value(child))
                continue
            if local in ev:
                raise InvalidXML(f"<{local}> is given twice", here)
            ev[local] = value

    def event(self, el: Element, kind: str, where: str) -> dict:
        ev: dict[str, Any] = {"type": kind}
        self.event_fields(el, ev, where, wrapped=False)
        return ev

    def event_list(self, el: Element, where: str, out: list) -> None:
        for child in el:
            local = _standard(child.tag)
            here = f"{where}[{len(out)}]"
            if local in _EVENT_TYPES:
                out.append(self.event(child, local, here))
            elif local == "extension":
                self.event_list(child, where, out)  # EPCIS 1.x: TransformationEvent (and later types) live here
            elif local == "QuantityEvent":
                raise InvalidXML("QuantityEvent (EPCIS 1.0/1.1) is not part of EPCIS 2.0: send an ObjectEvent with "
                                 "a quantityList", here)
            else:
                raise InvalidXML(f"<{_split(child.tag)[1]}> is not an EPCIS event type this service captures "
                                 "(ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, "
                                 "AssociationEvent)", here)

    def master_data(self, header: Element) -> list[dict]:
        """EPCISHeader/extension/EPCISMasterData/VocabularyList as the JSON vocabularyList."""
        vocabularies: list[dict] = []
        for ext in _children(header, "extension"):
            for master in _children(ext, "EPCISMasterData"):
                for vlist in _children(master, "VocabularyList"):
                    for vocab in _children(vlist, "Vocabulary"):
                        vocabularies.append(self.vocabulary(vocab))
        return vocabularies

    def vocabulary(self, vocab: Element) -> dict:
        where = "EPCISHeader.EPCISMasterData.Vocabulary"
        kind = vocab.get("type")
        if not kind:
            raise InvalidXML("a Vocabulary needs a type attribute", where)
        elements = []
        for elist in _children(vocab, "VocabularyElementList"):
            for item in _children(elist, "VocabularyElement"):
                if not item.get("id"):
                    raise InvalidXML("a VocabularyElement needs an id attribute", where)
                element: dict[str, Any] = {"id": item.get("id")}
                attributes = [{"id": a.get("id"), "attribute": self.extension_value(a) if len(a) else
                               (a.text or "").strip()} for a in _children(item, "attribute")]
                if any(not a["id"] for a in attributes):
                    raise InvalidXML("an attribute needs an id", where)
                if attributes:
                    element["attributes"] = attributes
                children = [self.text(c, where) for ch in _children(item, "children") for c in _children(ch, "id")]
                if children:
                    element["children"] = children
                elements.append(element)
        return {"type": kind, "vocabularyElementList": elements}


def _items(el: Element, item: str, where: str, skip: str | None = None) -> Iterator[tuple[str, Element]]:
    """The children of a list element as (location, element); a child other than <item> is refused."""
    for i, child in enumerate(el):
        local = _standard(child.tag)
        if local == skip and skip is not None:
            continue
        if local != item:
            raise InvalidXML(f"<{_split(child.tag)[1]}> in <{_split(el.tag)[1]}>: only <{item}> elements belong "
                             "here", f"{where}[{i}]")
        yield f"{where}[{i}]", child


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _standard(c.tag) == name]


def _add(obj: dict, key: str, value: Any) -> None:
    """Set ``obj[key]``; a name given again makes the value a list (the XML way of repeating)."""
    if key not in obj:
        obj[key] = value
    elif isinstance(obj[key], list):
        obj[key].append(value)
    else:
        obj[key] = [obj[key], value]


def parse_xml_document(data: bytes, max_elements: int = MAX_ELEMENTS) -> tuple[dict, str]:
    """Read an EPCIS 2.0 or 1.x XML document (EPCISDocument or EPCISQueryDocument) as EPCIS 2.0 JSON-LD.

    Returns:
        The JSON document (what POST /epcis/capture takes as JSON) and the XML's own schemaVersion ("2.0", "1.2").

    Raises:
        InvalidXML: not well-formed, hostile (entities, too deep, too large a value), or not an EPCIS document.
    """
    root, declarations = _parse(data, max_elements)
    uri, local = _split(root.tag)
    if uri not in _STANDARD_NS or local not in ("EPCISDocument", "EPCISQueryDocument"):
        raise InvalidXML(f"the root element is <{local}> in {uri or 'no namespace'}: an EPCIS XML document is an "
                         f"EPCISDocument in {EPCIS_2} (EPCIS 2.0) or {EPCIS_1} (EPCIS 1.x)")
    major = "1" if uri in (EPCIS_1, QUERY_1, MASTERDATA[1]) else "2"
    version = (root.get("schemaVersion") or "").strip()
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise InvalidXML("the document needs a schemaVersion attribute such as 2.0 or 1.2", "schemaVersion")
    if version.split(".")[0] != major:
        raise InvalidXML(f"schemaVersion {version} does not match the namespace {uri}", "schemaVersion")
    creation = (root.get("creationDate") or "").strip()
    if not creation:
        raise InvalidXML("the document needs a creationDate attribute", "creationDate")
    reader = _Reader(declarations)
    body = _children(root, "EPCISBody")
    if len(body) != 1:
        raise InvalidXML("the document needs exactly one <EPCISBody>", "EPCISBody")
    events: list[dict] = []
    doc: dict[str, Any] = {"type": local}
    if local == "EPCISDocument":
        doc.update(schemaVersion="2.0", creationDate=creation)
        for event_list in _children(body[0], "EventList"):
            reader.event_list(event_list, "EPCISBody.EventList", events)
        doc["epcisBody"] = {"eventList": events}
    else:
        results = _children(body[0], "QueryResults")
        if len(results) != 1:
            raise InvalidXML("an EPCISQueryDocument's body needs one <QueryResults>", "EPCISBody")
        name = "".join(reader.text(n, "QueryResults.queryName") for n in _children(results[0], "queryName"))
        for results_body in _children(results[0], "resultsBody"):
            for event_list in _children(results_body, "EventList"):
                reader.event_list(event_list, "EPCISBody.QueryResults.resultsBody.EventList", events)
        doc.update(schemaVersion="2.0", creationDate=creation)
        doc["epcisBody"] = {"queryResults": {"queryName": name or "SimpleEventQuery",
                                             "resultsBody": {"eventList": events}}}
    for header in _children(root, "EPCISHeader"):
        vocabularies = reader.master_data(header)
        if vocabularies:
            doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}
    doc["@context"] = [EPCIS_CONTEXT, dict(reader.context)] if reader.context else [EPCIS_CONTEXT]
    return doc, version


# --- writing ------------------------------------------------------------------------------------------------------

CBV_FORMATS = ("No_Preference", "Always_Web_URI", "Always_URN", "Never_Translates")


class _Node:
    __slots__ = ("name", "attrs", "children", "text")

    def __init__(self, name: str, text: str | None = None) -> None:
        self.name = name
        self.attrs: list[tuple[str, str]] = []
        self.children: list[_Node] = []
        self.text = text

    def add(self, name: str, text: str | None = None) -> _Node:
        node = _Node(name, text)
        self.children.append(node)
        return node


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters: they become U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def _escape(text: str, quote: bool = False) -> str:
    text = _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    else:
        text = text.replace("\r", "&#13;")
    return text


def _format_number(value: int | float) -> str:
    """A JSON number as xsd:decimal text: no exponent (1e-05 -> 0.00001)."""
    return str(value) if isinstance(value, int) else f"{Decimal(repr(value)):f}"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _format_number(value)
    return str(value)


class _Writer:
    """EPCIS 2.0 JSON events -> XML nodes, declaring each extension namespace once on the root."""

    def __init__(self, context: dict[str, str], cbv_format: str) -> None:
        self.context = context
        self.web = cbv_format == "Always_Web_URI"
        self.namespaces: dict[str, str] = {}  # prefix -> uri, as written on the root
        self.prefix_of: dict[str, str] = {}

    def _declare(self, prefix: str, uri: str) -> str:
        if uri in self.prefix_of:
            return self.prefix_of[uri]
        name = prefix if _NAME.fullmatch(prefix) and prefix.lower()[:3] != "xml" else "ns"
        base, n = name, 1
        while name in self.namespaces:
            n += 1
            name = f"{base}{n}"
        self.namespaces[name] = uri
        self.prefix_of[uri] = name
        return name

    def name(self, key: str) -> str:
        """The XML name of a JSON key: ``prefix:local`` with the prefix's namespace declared, or a plain name."""
        prefix, sep, local = key.partition(":")
        if not sep:
            return _xml_name(key)
        if local.startswith("//") or prefix == "urn":
            cut = max(key.rfind("#"), key.rfind("/"), key.rfind(":"))
            uri, local, prefix = key[:cut + 1], key[cut + 1:], "ext"
        else:
            uri = self.context.get(prefix) or f"urn:tracegraph:undeclared:{prefix}"
            if uri == CBVMDA_XML + ":":  # JSON-LD's prefix IRI; the XML namespace has no trailing colon
                uri = CBVMDA_XML
        return f"{self._declare(prefix, uri)}:{_xml_name(local)}"

    def vocab(self, value: Any, vocabulary: str) -> str:
        if not isinstance(value, str):
            return _scalar(value)
        bare = normalize_vocab(value, vocabulary)
        if ":" in bare:
            return bare
        if vocabulary == "bizStep" and bare in OWN_BIZ_STEPS:
            return vocab_uri(bare)  # our own bizSteps are never CBV's, in either format
        web_prefix, urn_prefix = VOCABULARIES[vocabulary]
        return f"{CBV_BASE}{web_prefix}{bare}" if self.web else f"{urn_prefix}{bare}"

    def extension(self, parent: _Node, key: str, value: Any) -> None:
        """Write one extension field (a list repeats the element)."""
        name = self.name(key)
        for item in value if isinstance(value, list) else [value]:
            node = parent.add(name)
            self.extension_content(node, item)

    def extension_content(self, node: _Node, value: Any) -> None:
        if value is None:
            node.attrs.append((f"{self._declare('xsi', XSI)}:nil", "true"))
        elif isinstance(value, dict):
            for key, item in value.items():
                if key == "#text":
                    node.text = _scalar(item)
                elif key.startswith("@") and not isinstance(item, dict | list):
                    node.attrs.append((self.name(key[1:]), _scalar(item)))
                else:
                    self.extension(node, key, item)
        else:
            node.text = _scalar(value)

    def extensions(self, parent: _Node, obj: dict, known: tuple[str, ...]) -> None:
        """Namespaced keys of ``obj`` beyond ``known`` as extension elements; plain ones inside <extension>."""
        plain = [k for k in obj if k not in known and ":" not in k and k != "type"]
        for key, value in obj.items():
            if key not in known and ":" in key:
                self.extension(parent, key, value)
        if plain:
            wrapper = parent.add("extension")
            for key in plain:
                self.extension(wrapper, key, obj[key])

    def event(self, parent: _Node, ev: dict) -> None:
        kind = ev.get("type")
        if kind not in _ORDER:
            raise InvalidEvent(f"an event of type {kind!r} has no EPCIS 2.0 XML form")
        node = parent.add(kind)
        order = (*_COMMON_ORDER, *_ORDER[kind])
        for name in order:
            if name in ev:
                self.field(node, name, ev[name])
        self.extensions(node, ev, (*order, "@context"))

    def field(self, node: _Node, name: str, value: Any) -> None:
        if name in ("bizStep", "disposition"):
            node.add(name, self.vocab(value, name))
        elif name in _EPC_LISTS:
            lst = node.add(name)
            for epc in value or []:
                lst.add("epc", _scalar(epc))
        elif name in _QUANTITY_LISTS:
            lst = node.add(name)
            for q in value or []:
                element = lst.add("quantityElement")
                element.add("epcClass", _scalar(q.get("epcClass")))
                if "quantity" in q:
                    element.add("quantity", _scalar(q["quantity"]))
                if "uom" in q:
                    element.add("uom", _scalar(q["uom"]))
        elif name in ("readPoint", "bizLocation"):
            place = node.add(name)
            place.add("id", _scalar(value.get("id")))
            self.extensions(place, value, ("id",))
        elif name == "bizTransactionList":
            self.typed_list(node.add(name), value, "bizTransaction", "bizTransactionType")
        elif name in ("sourceList", "destinationList"):
            item = name[:-4]
            self.typed_list(node.add(name), value, item, "sourceDestType")
        elif name == "sensorElementList":
            self.sensor_elements(node.add(name), value)
        elif name == "persistentDisposition":
            pd = node.add(name)
            for op in ("unset", "set"):
                for term in value.get(op) or []:
                    pd.add(op, self.vocab(term, "disposition"))
        elif name == "errorDeclaration":
            decl = node.add(name)
            if "declarationTime" in value:
                decl.add("declarationTime", _scalar(value["declarationTime"]))
            if "reason" in value:
                decl.add("reason", self.vocab(value["reason"], "errorReason"))
            if "correctiveEventIDs" in value:
                ids = decl.add("correctiveEventIDs")
                for eid in value["correctiveEventIDs"] or []:
                    ids.add("correctiveEventID", _scalar(eid))
            self.extensions(decl, value, ("declarationTime", "reason", "correctiveEventIDs"))
        elif name == "ilmd":
            ilmd = node.add(name)
            for key, item in value.items():
                self.extension(ilmd, key, item)
        elif name == "certificationInfo":
            for item in value if isinstance(value, list) else [value]:
                node.add(name, _scalar(item))
        else:
            node.add(name, _scalar(value))

    def typed_list(self, lst: _Node, entries: list, item: str, vocabulary: str) -> None:
        for entry in entries or []:
            node = lst.add(item, _scalar(entry.get(item)))
            if "type" in entry:
                node.attrs.append(("type", self.vocab(entry["type"], vocabulary)))

    def sensor_elements(self, lst: _Node, elements: list) -> None:
        for element in elements or []:
            node = lst.add("sensorElement")
            if isinstance(element.get("sensorMetadata"), dict):
                self.attributes(node.add("sensorMetadata"), element["sensorMetadata"])
            for report in element.get("sensorReport") or []:
                self.attributes(node.add("sensorReport"), report)
            self.extensions(node, element, ("sensorMetadata", "sensorReport"))

    def attributes(self, node: _Node, obj: dict) -> None:
        for key, value in obj.items():
            node.attrs.append((self.name(key), _scalar(value)))


def _xml_name(local: str) -> str:
    if _NAME.fullmatch(local):
        return local
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", local)
    return cleaned if _NAME.fullmatch(cleaned) else f"_{cleaned}"


def _serialise(node: _Node, out: list[str]) -> None:
    attrs = "".join(f' {k}="{_escape(v, quote=True)}"' for k, v in node.attrs)
    if not node.children and not node.text:
        out.append(f"<{node.name}{attrs}/>")
        return
    out.append(f"<{node.name}{attrs}>")
    if node.text:
        out.append(_escape(node.text))
    for child in node.children:
        _serialise(child, out)
    out.append(f"</{node.name}>")


def render_query_document(doc: dict, cbv_format: str = "No_Preference") -> bytes:
    """Write an EPCIS 2.0 JSON EPCISQueryDocument (or EPCISDocument) as EPCIS 2.0 XML.

    CBV values come as URNs (``urn:epcglobal:cbv:bizstep:shipping``), or as Web URIs with ``Always_Web_URI``
    (GS1-CBV-XML-Format); values outside the CBV stay as stored.
    """
    writer = _Writer(context_prefixes(doc.get("@context")), cbv_format)
    query = doc.get("type") == "EPCISQueryDocument"
    root_prefix, root_uri = ("epcisq", QUERY_2) if query else ("epcis", EPCIS_2)
    writer.namespaces[root_prefix], writer.prefix_of[root_uri] = root_uri, root_prefix
    root = _Node(f"{root_prefix}:EPCISQueryDocument" if query else f"{root_prefix}:EPCISDocument")
    root.attrs += [("schemaVersion", _scalar(doc.get("schemaVersion", "2.0"))),
                   ("creationDate", _scalar(doc.get("creationDate", "")))]
    vocabularies = ((doc.get("epcisHeader") or {}).get("epcisMasterData") or {}).get("vocabularyList")
    if vocabularies:
        vlist = root.add("EPCISHeader").add("extension").add("EPCISMasterData").add("VocabularyList")
        for vocab in vocabularies:
            vnode = vlist.add("Vocabulary")
            vnode.attrs.append(("type", _scalar(vocab.get("type"))))
            elist = vnode.add("VocabularyElementList")
            for element in vocab.get("vocabularyElementList") or []:
                enode = elist.add("VocabularyElement")
                enode.attrs.append(("id", _scalar(element.get("id"))))
                for attribute in element.get("attributes") or []:
                    anode = enode.add("attribute")
                    anode.attrs.append(("id", _scalar(attribute.get("id"))))
                    writer.extension_content(anode, attribute.get("attribute"))
                if element.get("children"):
                    children = enode.add("children")
                    for child in element["children"]:
                        children.add("id", _scalar(child))
    body = root.add("EPCISBody")
    if query:
        results = doc["epcisBody"]["queryResults"]
        qnode = body.add(f"{root_prefix}:QueryResults")
        qnode.add("queryName", _scalar(results.get("queryName", "SimpleEventQuery")))
        if "subscriptionID" in results:
            qnode.add("subscriptionID", _scalar(results["subscriptionID"]))
        events = results["resultsBody"]["eventList"]
        event_list = qnode.add("resultsBody").add("EventList")
    else:
        events = doc["epcisBody"]["eventList"]
        event_list = body.add("EventList")
    for ev in events:
        writer.event(event_list, ev)
    root.attrs[:0] = [(f"xmlns:{p}", uri) for p, uri in writer.namespaces.items()]
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _serialise(root, out)
    return "".join(out).encode("utf-8")
