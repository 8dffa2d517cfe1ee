"""GS1's XML examples for the XML binding tests, and comparisons written without the code under test.

The comparisons read XML with the standard library's ElementTree (the test files are trusted) and compare what the
standard says is the same: instants rather than their spelling, and no eventID where the document had none.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

EXAMPLES = Path(__file__).parent / "xml_examples"
EVENT_TAGS = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
_EVENT_START = re.compile(r"(?=<(?:" + "|".join(EVENT_TAGS) + r")[\s>])")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
WRAPPERS = ("extension", "baseExtension")


def example(name: str) -> bytes:
    """The bytes of one kept GS1 example."""
    return (EXAMPLES / name).read_bytes()


def twin(name: str) -> dict:
    """GS1's JSON twin of an XML example."""
    return json.loads((EXAMPLES / "json" / name).read_text(encoding="utf-8"))


def xml_names(version: str = "2.0") -> list[str]:
    """The kept XML examples of one EPCIS version (2.0 at the top and in sub-folders; 1.2 under 1.2/)."""
    names = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.xml"))
    return [n for n in names if n.startswith("1.2/") == (version == "1.2")]


def with_fresh_ids(text: str) -> tuple[str, list[str]]:
    """Give every event of an XML document a fresh eventID (replacing its own, and the corrective IDs pointing at
    them); return the text and the IDs in document order. GS1 reuses IDs across its examples."""
    suffix = uuid.uuid4().hex[:12]
    head, *chunks = _EVENT_START.split(text)
    ids: list[str] = []
    out = [head]
    for chunk in chunks:
        if "<eventID>" in chunk:
            chunk = re.sub(r"<eventID>\s*([^<\s]+)\s*</eventID>", lambda m: f"<eventID>{m[1]}#{suffix}</eventID>",
                           chunk, count=1)
            ids.append(re.search(r"<eventID>([^<]+)</eventID>", chunk)[1])
        else:
            new = f"urn:uuid:{uuid.uuid4()}"
            chunk = chunk.replace("</eventTimeZoneOffset>", f"</eventTimeZoneOffset><eventID>{new}</eventID>", 1)
            ids.append(new)
        chunk = re.sub(r"<correctiveEventID>\s*([^<\s]+)\s*</correctiveEventID>",
                       lambda m: f"<correctiveEventID>{m[1]}#{suffix}</correctiveEventID>", chunk)
        out.append(chunk)
    return "".join(out), ids


def instant(value: str) -> datetime:
    """The UTC instant of an xsd:dateTime (any number of fraction digits)."""
    text = re.sub(r"(\.\d{1,6})\d*", r"\1", value).replace("Z", "+00:00")
    return datetime.fromisoformat(text).astimezone(UTC)


def normal(value, drop=("eventID", "recordTime", "id")):
    """A JSON value as the standard lets it differ: times as instants, numbers as floats, no eventID/recordTime."""
    if isinstance(value, dict):
        return {k: normal(v, ()) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [normal(v, drop) for v in value]
    if isinstance(value, str) and _DATETIME.fullmatch(value):
        return instant(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def events_of(doc: dict) -> list[dict]:
    """The event list of an EPCISDocument or EPCISQueryDocument (JSON)."""
    body = doc["epcisBody"]
    return body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]


def _cbv_bare(text: str) -> str:
    """A CBV value in URN or Web URI form as its bare term (the leaves below compare CBV values that way)."""
    m = re.fullmatch(r"urn:epcglobal:cbv:(bizstep|disp|btt|sdt|er):(.+)", text)
    if m:
        return m[2]
    m = re.fullmatch(r"https?://ref\.gs1\.org/cbv/(BizStep|Disp|BTT|SDT|ER)-(.+)", text)
    return m[2] if m else text


def leaves(event: ET.Element) -> list[tuple]:
    """Every text and attribute of an XML event as (path, value), the extension wrappers left out of the paths,
    CBV values bare, whitespace trimmed, sorted: what an XML round trip must keep."""
    out: list[tuple] = []

    def walk(el: ET.Element, path: tuple) -> None:
        tag = el.tag
        here = path if tag.split("}")[-1] in WRAPPERS and path else (*path, tag)
        for name, value in el.attrib.items():
            if name.startswith("{http://www.w3.org/2001/XMLSchema-instance}"):
                continue
            out.append((*here, "@" + name, _cbv_bare(value.strip())))
        text = (el.text or "").strip()
        if text:
            out.append((*here, _cbv_bare(text)))
        for child in el:
            walk(child, here)

    walk(event, ())
    return sorted(out)


def xml_events(data: bytes) -> list[ET.Element]:
    """The event elements of an XML document, in order (1.2 extension wrappers looked into)."""
    root = ET.fromstring(data)
    return [el for el in root.iter() if el.tag in EVENT_TAGS]
