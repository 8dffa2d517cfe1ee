"""A recall case as the API answers it, from the row the case query reads (graph/recalls.py `CASE`).

Pure but for `plain` (Neo4j's values to Python's): holders with what each held at opening, the objects it holds and
the case's shipments that reached it, its acknowledgements; the affected set, counted; deadlines and effectiveness.
"""

from __future__ import annotations

from operator import itemgetter

from graph.documents import documents_in, documents_of
from graph.driver import plain
from graph.recall_rules import effectiveness
from graph.trace import PARTY_FIELDS


def shape(row: dict) -> dict:
    """Turn the case row into the answer (pure; used by get and the exports)."""
    recall = plain(row["recall"])
    acks = plain(row["acks"])
    by_party: dict[str, dict] = {}
    held_by: dict[str, dict[str, dict]] = {}  # gln -> key -> the holder's entry for that object
    for fields, units, quantities in row["notified"]:
        party = dict(zip(PARTY_FIELDS, plain(fields), strict=True))
        by_party[party["gln"]] = {
            "party": party,
            "held_at_opening": [{"unit": u, "quantity": q} for u, q in zip(units, quantities, strict=False)],
            "objects": None,  # filled in below; the key keeps its place in the answer
            "acknowledgements": [],
        }
        held_by[party["gln"]] = {}
    for gln, held in row["holdings"]:
        objects = held_by.get(gln)
        if objects is not None:
            for key, quantity, pending, unit in held:
                objects[key] = {"key": key, "quantity": quantity or 0, "pending": pending or 0, "unit": unit,
                                "shipments": []}
    for glns, event_id, when, doc, named in row["shipments"]:
        targets = [held_by[gln] for gln in dict.fromkeys(glns) if gln in held_by]
        if not targets:
            continue
        date = plain(when)
        documents = documents_in(doc) if isinstance(doc, str) else documents_of(doc)
        for objects in targets:
            for key, quantity, uom in named:
                o = objects.get(key)
                if o is None:
                    o = objects[key] = {"key": key, "quantity": 0.0, "pending": 0.0, "unit": None, "shipments": []}
                o["shipments"].append({"quantity": quantity, "uom": uom, "date": date, "event_id": event_id,
                                       "documents": documents})
    for a in acks:
        if a.get("party_gln") in by_party:
            by_party[a["party_gln"]]["acknowledgements"].append(a)
    holders = []
    for gln in sorted(by_party):
        h = by_party[gln]
        objects = held_by[gln]
        h["objects"] = [objects[k] for k in sorted(objects)]
        for o in h["objects"]:
            if len(o["shipments"]) > 1:
                o["shipments"].sort(key=_shipment_date)
        h["acknowledged"] = bool(h["acknowledgements"])
        holders.append(h)
    affected = [{"key": key, "kind": kind, "gtin": gtin, "lot": lot, "serial": serial, "sscc": sscc, "status": status,
                 "quantity": quantity, "unit": unit, "product_zh": name_zh, "product_en": name_en}
                for name_zh, name_en, objects in row["affected"]
                for key, kind, gtin, lot, serial, sscc, status, quantity, unit in objects]
    affected.sort(key=_key_of)
    return {
        "recall_id": recall["recall_id"],
        "level": recall["level"],
        "reason": recall["reason"],
        "status": recall["status"],
        "opened_at": recall["opened_at"],
        "closed_at": recall.get("closed_at"),
        "closing_note": recall.get("closing_note"),
        "window": ({"from": recall["window_from"], "to": recall["window_to"]} if recall.get("window_from")
                   else None),
        "deadlines": {"start_by": recall["start_by"], "complete_by": recall["complete_by"]},
        "implicated": sorted(row["implicated"]),
        "affected": affected,
        "affected_count": _counted(affected),
        "holders": holders,
        "effectiveness": effectiveness(holders, acks),
        "drill": bool(recall.get("drill")),
        "initiated_by": recall.get("initiated_by") or "regulator",
        "opened_by_party": recall.get("opened_by_party"),
        "refund_contact": recall.get("refund_contact"),
        "trace_ms": recall.get("trace_ms"),
    }


def _counted(affected: list[dict]) -> dict[str, int]:
    """How many lots, serialized items and logistic units the case covers (the list itself is `affected`)."""
    kinds = {"lot": 0, "item": 0, "sscc": 0}
    for a in affected:
        kinds[a["kind"]] += 1
    return {"lots": kinds["lot"], "items": kinds["item"], "logistic_units": kinds["sscc"]}


def _shipment_date(shipment: dict) -> str:
    return shipment["date"] or ""


_key_of = itemgetter("key")
