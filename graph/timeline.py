"""The consumer page's story, shaped from the page query's rows (pure; no database): the timeline of events on the
product's own path with the stage each belongs to, the places of origin, inspections and certificates.

Only public facts leave here: names and regions of places, dates, verdicts; never contacts, quantities, prices or
documents.
"""

from __future__ import annotations

import json
from datetime import date

from graph.values import iso_date, local_iso

# Stages of the consumer timeline, from the party's role at the event's place; bizStep decides when roles do not.
STAGES = ("farm", "processing", "distribution", "retail")
_ROLE_STAGE = {"farm": "farm", "processor": "processing", "distributor": "distribution", "retailer": "retail"}
_STEP_STAGE = {
    "harvesting": "farm", "slaughtering": "processing", "commissioning": "processing", "packing": "processing",
    "shipping": "distribution", "receiving": "distribution", "storing": "distribution", "loading": "distribution",
    "unloading": "distribution", "retail_selling": "retail", "stocking": "retail",
}
_ORIGIN_STEPS = frozenset({"commissioning", "harvesting", "slaughtering"})


def path_events(rows: list[dict]) -> list[dict]:
    """Return the page rows' events once each, only those on the product's own path, in time order."""
    rows = [r for r in rows if r["event_id"]]
    # Upstream lots may also have gone elsewhere (a farm lot feeding two mills): keep their events only at places
    # on this product's path: where lineage events happened, where the lots began, and the product's own places.
    path_places = {r["place"]["gln"] for r in rows if r["place"] and (
        r["depth"] <= 0 or r["biz_step"] in _ORIGIN_STEPS or r["type"] == "TransformationEvent")}
    best: dict[str, dict] = {}
    for r in rows:
        if r["depth"] > 0 and r["place"] and r["place"]["gln"] not in path_places:
            continue
        seen = best.get(r["event_id"])
        if seen is None or r["depth"] < seen["depth"]:
            best[r["event_id"]] = r
    return sorted(best.values(), key=lambda r: (r["time"], r["event_id"]))


def _stage(r: dict) -> str:
    roles = (r["place"] or {}).get("roles") or []
    for role in roles:
        if role in _ROLE_STAGE:
            return _ROLE_STAGE[role]
    return _STEP_STAGE.get(r["biz_step"] or "", "processing")


def public_event(r: dict) -> dict:
    """Return an event as the timeline shows it: local time, stage, step, disposition, type and place."""
    place = r["place"] or {}
    return {
        "time": local_iso(r["time"], r["offset"]),
        "stage": _stage(r),
        "biz_step": r["biz_step"],
        "disposition": r["disposition"],
        "type": r["type"],
        "place": {k: place.get(k) for k in ("name_zh", "name_en", "region_zh", "region_en")} if place else None,
    }


def origin(events: list[dict]) -> list[dict]:
    """Return the farm places among the timeline's events, each once, in time order."""
    out, seen = [], set()
    for r in events:
        place = r["place"]
        if place and _stage(r) == "farm" and place["gln"] not in seen:
            seen.add(place["gln"])
            out.append({k: place.get(k) for k in ("name_zh", "name_en", "region_zh", "region_en")})
    return out


# A test item as a shopper reads it; limit_kind (max/min), lod and detected come from the lab page and import,
# and are passed on only where an item has them.
RESULT_FIELDS = ("item", "value", "limit", "unit", "pass")
RESULT_EXTRAS = ("limit_kind", "lod", "detected")


def inspections(rows: list[dict]) -> list[dict]:
    """Return the inspections on the way, each once, newest first, with the results a shopper may read."""
    out = {}
    for r in rows:
        results = r["results"]
        if isinstance(results, str):
            try:
                results = json.loads(results)
            except ValueError:
                results = []
        out[r["key"]] = {
            "report_no": r["report_no"], "date": iso_date(r["date"]), "standard": r["standard"],
            "verdict": r["verdict"], "lab": {"name_zh": r["lab_zh"], "name_en": r["lab_en"]},
            "report_sha256": r.get("report_sha256"),
            "subject": {"name_zh": r["product_zh"], "name_en": r["product_en"], "lot": r["lot"],
                        "this_lot": r["depth"] <= 1},
            "results": [{**{k: x.get(k) for k in RESULT_FIELDS}, **{k: x[k] for k in RESULT_EXTRAS if k in x}}
                        for x in results or [] if isinstance(x, dict)],
        }
    return sorted(out.values(), key=lambda x: (x["date"] or "", x["report_no"] or ""), reverse=True)


def certificates(rows: list[dict], today: date) -> list[dict]:
    """Return the certificates on the way, each once, valid ones first, saying which had expired by `today`."""
    out = {}
    for r in rows:
        until = iso_date(r["valid_until"])
        out.setdefault(r["key"], {
            "type": r["type"], "number": r["number"], "name_zh": r["name_zh"], "valid_from": iso_date(r["valid_from"]),
            "valid_until": until, "expired": bool(until and until < today.isoformat()),
            "issuer": {"name_zh": r["issuer_zh"], "name_en": r["issuer_en"]},
            "subject": {"name_zh": r["subject_zh"], "name_en": r["subject_en"]},
        })
    return sorted(out.values(), key=lambda c: (c["expired"], c["type"] or "", c["number"] or ""))


def lot_ref(u: dict) -> dict:
    """Return an upstream lot as a recall or hold banner names it."""
    return {"lot": u["lot"], "name_zh": u["product_zh"], "name_en": u["product_en"]}
