"""What FSMA 204 records need beyond the key data rows: location descriptions (name, address, phone) of the parties
named, the field or growing area a harvest's ILMD names, and how many events a period holds (its export's bound)."""

from __future__ import annotations

import json
from typing import LiteralString

from graph.driver import Graph

_PLACES: LiteralString = """
UNWIND $glns AS g
MATCH (p:Party {gln: g})
RETURN p.gln AS gln, p.name_zh AS name_zh, p.name_en AS name_en, p.address_zh AS address,
       p.contact_phone AS phone, p.region_zh AS region
"""

_ILMD: LiteralString = """
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
WHERE e.doc CONTAINS '"ilmd"'
RETURN e.event_id AS event_id, e.doc AS doc
"""

# The events recorded as happening in a period, counted no further than $cap: a range read of the event_time index
# (V0001) that stops after $cap entries, whatever the period and the store hold.
# ILMD fields that name where a harvest was grown (local names; any prefix).
FIELD_NAMES = ("plot", "field", "growingArea", "harvestArea", "trip")


def location_descriptions(graph: Graph, glns: list[str], lang: str = "zh") -> dict[str, dict]:
    """Return GLN -> {gln, name, address, phone} for the parties with these GLNs (one round trip).

    Args:
        graph: the database.
        glns: party GLNs.
        lang: ``zh`` or ``en``: which name comes first.
    """
    if not glns:
        return {}
    out = {}
    for r in graph.query(_PLACES, read=True, glns=sorted(set(glns))):
        names = [r["name_zh"], r["name_en"]] if lang == "zh" else [r["name_en"], r["name_zh"]]
        address = r["address"] or None
        out[r["gln"]] = {"gln": r["gln"], "name": next((n for n in names if n), None), "address": address,
                         "phone": r["phone"] or None}
    return out


def harvest_fields(graph: Graph, event_ids: list[str]) -> dict[str, str]:
    """Return eventID -> the field or growing area its ILMD names (FIELD_NAMES), for events that name one.

    Args:
        graph: the database.
        event_ids: the events (harvests, landings) to read.
    """
    if not event_ids:
        return {}
    out = {}
    for r in graph.query(_ILMD, read=True, ids=sorted(set(event_ids))):
        ilmd = json.loads(r["doc"]).get("ilmd")
        if not isinstance(ilmd, dict):
            continue
        for name, value in ilmd.items():
            if name.rsplit(":", 1)[-1].rsplit("/", 1)[-1].rsplit("#", 1)[-1] in FIELD_NAMES and value not in (None, ""):
                out[r["event_id"]] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                break
    return out
