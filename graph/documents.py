"""An event's business documents (bizTransactionList: purchase orders, despatch advices, ...) from its stored JSON
(pure; no database)."""

from __future__ import annotations

import json
import re
from typing import Any


def documents_of(doc: Any) -> list[dict]:
    """Return an event's business transactions (reference documents) from its stored JSON."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return []
    if not isinstance(doc, dict):
        return []
    out = []
    for bt in doc.get("bizTransactionList") or []:
        if isinstance(bt, dict) and bt.get("bizTransaction"):
            kind = bt.get("type")
            if isinstance(kind, str):
                kind = kind.rsplit("BTT-", 1)[-1].rsplit(":", 1)[-1]
            out.append({"type": kind, "id": bt["bizTransaction"]})
    return out


_BT_KEY = '"bizTransactionList"'
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DECODER = json.JSONDecoder()


def documents_in(doc: str) -> list[dict]:
    """documents_of(doc) without decoding the whole JSON: a shipment lists hundreds of objects, one business
    transaction. When the key occurs once and at the top level (outside every string, one brace deep, in no
    array), only its value is decoded; anything else takes the full decode.

    Args:
        doc: an event's stored JSON text.
    """
    at = doc.find(_BT_KEY)
    if at < 0:
        return []
    if doc.find(_BT_KEY, at + 1) < 0:
        before = _JSON_STRING.sub("", doc[:at])
        if '"' not in before and before.count("{") - before.count("}") == 1 and before.count("[") == before.count("]"):
            rest = doc[at + len(_BT_KEY):].lstrip()
            if rest.startswith(":"):
                try:
                    value, _ = _DECODER.raw_decode(rest[1:].lstrip())
                except ValueError:
                    return documents_of(doc)
                return documents_of({"bizTransactionList": value})
    return documents_of(doc)
