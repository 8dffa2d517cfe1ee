"""EPCIS master data sent in a document's header (epcisHeader.epcisMasterData.vocabularyList, EPCIS 2.0 §7.5):
parsing, and who may describe which element. Pure: no Flask, no Neo4j."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gs1.errors import GS1Error, InvalidEvent
from gs1.identifiers import key_kind, parse_identifier

PLACE_TYPES = ("urn:epcglobal:epcis:vtype:BusinessLocation", "urn:epcglobal:epcis:vtype:ReadPoint")
CLASS_TYPES = ("urn:epcglobal:epcis:vtype:EPCClass",)
MAX_ELEMENTS = 10_000


@dataclass(frozen=True)
class Element:
    """One vocabulary element: its type, id as sent, business key, attributes and children as sent."""

    vtype: str
    id: str
    key: str
    attributes: tuple[tuple[str, Any], ...]
    children: tuple[str, ...]
    child_keys: tuple[str, ...] = ()  # the children's business keys (WD_ query parameters walk them)

    def as_vocabulary_element(self) -> dict:
        """The element as EPCIS writes it."""
        out: dict = {"id": self.id}
        if self.attributes:
            out["attributes"] = [{"id": a, "attribute": v} for a, v in self.attributes]
        if self.children:
            out["children"] = list(self.children)
        return out


def _key(vtype: str, uri: str, where: str) -> str:
    try:
        ref = parse_identifier(uri)
    except GS1Error as exc:
        raise InvalidEvent(f"{uri!r} is not an identifier: {exc}", where) from None
    if vtype in PLACE_TYPES and ref.kind not in ("location", "party", "other"):
        raise InvalidEvent(f"{uri!r} is a {ref.kind}, not a place", where)
    return ref.key


def parse_master_data(doc: Any) -> list[Element]:
    """The vocabulary elements of a document's header (none when it has no epcisMasterData).

    Raises:
        InvalidEvent: a vocabulary, element or attribute of the wrong shape, or an id that is not an identifier.
    """
    header = doc.get("epcisHeader") if isinstance(doc, dict) else None
    master = header.get("epcisMasterData") if isinstance(header, dict) else None
    if master is None:
        return []
    where = "epcisHeader.epcisMasterData"
    vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
    if not isinstance(vocabularies, list):
        raise InvalidEvent("vocabularyList must be a list", where)
    out: list[Element] = []
    for i, vocabulary in enumerate(vocabularies):
        here = f"{where}.vocabularyList[{i}]"
        if not isinstance(vocabulary, dict) or not isinstance(vocabulary.get("type"), str):
            raise InvalidEvent("a vocabulary needs a type", here)
        elements = vocabulary.get("vocabularyElementList") or []
        if not isinstance(elements, list):
            raise InvalidEvent("vocabularyElementList must be a list", here)
        for j, element in enumerate(elements):
            at = f"{here}.vocabularyElementList[{j}]"
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                raise InvalidEvent("an element needs an id", at)
            attributes = element.get("attributes") or []
            children = element.get("children") or []
            if not isinstance(attributes, list) or not all(
                    isinstance(a, dict) and isinstance(a.get("id"), str) for a in attributes):
                raise InvalidEvent("attributes must be a list of {id, attribute}", at)
            if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
                raise InvalidEvent("children must be a list of identifiers", at)
            child_keys = tuple(_key(vocabulary["type"], child, f"{at}.children[{k}]")
                               for k, child in enumerate(children))
            out.append(Element(vocabulary["type"], element["id"], _key(vocabulary["type"], element["id"], at),
                               tuple((a["id"], a.get("attribute")) for a in attributes), tuple(children),
                               child_keys))
            if len(out) > MAX_ELEMENTS:
                raise InvalidEvent(f"more than {MAX_ELEMENTS} master data elements", where)
    return out


def refused_elements(elements: list[Element], party: str | None, owners: dict[str, str | None]) -> list[str]:
    """The ids a party may not describe: only its own places (its GLN, with or without an extension) and classes
    of its own products (``owners``: GTIN -> brand owner GLN). An admin (party None) may describe anything."""
    if party is None:
        return []
    refused = []
    for element in elements:
        kind = key_kind(element.key)
        gln = element.key.split(":")[1] if kind in ("location", "party") else None
        gtin = element.key.split(":")[1] if kind in ("lot", "class", "item") else None
        if not (gln == party or (gtin is not None and owners.get(gtin) == party)):
            refused.append(element.id)
    return refused
