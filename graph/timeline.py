"""The consumer page's story, shaped from the page query's rows (pure; no database): the timeline of events on the
product's own path with the stage each belongs to, the places of origin, inspections and certificates.

Only public facts leave here: names and regions of places, dates, verdicts; never contacts, quantities, prices or
documents.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from graph.batches import origin_record
from graph.values import iso_date, local_iso, native
from gs1.timezones import CHINA

# Stages of the consumer timeline, from the party's role at the event's place; bizStep decides when roles do not.
STAGES = ("farm", "processing", "distribution", "retail")
_ROLE_STAGE = {"farm": "farm", "processor": "processing", "distributor": "distribution", "retailer": "retail"}
_STEP_STAGE = {
    "harvesting": "farm", "slaughtering": "processing", "commissioning": "processing", "packing": "processing",
    "shipping": "distribution", "receiving": "distribution", "storing": "distribution", "loading": "distribution",
    "unloading": "distribution", "retail_selling": "retail", "stocking": "retail",
}
_ORIGIN_STEPS = frozenset({"commissioning", "harvesting", "slaughtering"})
# Products made from slaughtered animals: the page reads their slaughter events' documents (ear tags, certificates).
ANIMAL_CATEGORIES = frozenset({"beef", "cattle", "pork", "pig", "poultry", "broiler", "mutton", "sheep"})


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
        "slaughter": is_slaughter(r),
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


def slaughter(rows: list[dict]) -> dict | None:
    """Return the ear tags and quarantine certificates of the slaughter events on the way (a carcass lot and the
    cuts made from it), as the national quarantine rules show them on a beef label, or None when there is none."""
    tags: dict[str, None] = {}
    certificates: dict[str, None] = {}
    for r in rows:
        doc = r.get("origin_doc")
        if not doc:
            continue
        found = _slaughter_facts(doc)
        if found is None:
            continue
        tags.update(dict.fromkeys(found[0]))
        certificates.update(dict.fromkeys(found[1]))
    if not tags and not certificates:
        return None
    return {"ear_tags": list(tags)[:SLAUGHTER_SHOWN_MAX], "ear_tags_more": max(0, len(tags) - SLAUGHTER_SHOWN_MAX),
            "quarantine_certificates": list(certificates)[:SLAUGHTER_SHOWN_MAX]}


SLAUGHTER_SHOWN_MAX = 12


def shelf_life_days(production, expiry) -> int | None:
    """Return the lot's shelf life in days (expiry less production date), or None when a date is missing."""
    start, end = iso_date(production), iso_date(expiry)
    if not start or not end:
        return None
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    return days if days >= 0 else None


def local_day(value) -> str | None:
    """Return a UTC instant as its day in China (UTC+8), ISO text, or None."""
    if value is None:
        return None
    moment = native(value)
    if isinstance(moment, datetime):
        return moment.astimezone(CHINA).date().isoformat()
    return iso_date(moment)


def recall_case(r: dict) -> dict:
    """Return a recall case as the scan page's banner shows it: id (for the public notice), reason, level, the day
    it opened (China time), the refund contact, and whether it is still open."""
    return {"recall_id": r.get("recall_id"), "reason": r.get("reason"), "level": r.get("level"),
            "opened_on": local_day(r.get("opened_at")), "refund_contact": r.get("refund_contact"),
            "open": (r.get("status") or "open") == "open"}


def shopper_events(rows: list[dict], item_level: bool) -> list[dict]:
    """Keep the events a shopper may see: a shop's events only when they are this pack's own (an item code's
    events and its case's, depth 0 or below); a lot's other shops are trade partners' business, not the shopper's."""
    return [r for r in rows if _stage(r) != "retail" or (item_level and r["depth"] <= 0)]


_SUMMARY_PLACE = ("name_zh", "name_en", "region_zh", "region_en")


def summary(events: list[dict]) -> list[dict]:
    """Return the chain in a few steps a shopper reads at a glance (origin -> processing -> packing -> shop), each
    step with its places once, from the timeline's public events (time order kept)."""
    out: list[dict] = []
    for e in events:
        stage, step = e["stage"], e.get("biz_step")
        if step == "inspecting":  # a lab's sampling is not a step of the product's way (inspections have a card)
            continue
        if stage == "farm":
            key = "origin"
        elif e.get("slaughter"):
            key = "slaughter"
        elif stage == "processing":
            key = "packing" if step == "packing" or (step == "commissioning" and e.get("type") == "ObjectEvent") \
                else "processing"
        elif stage == "retail":
            key = "shop"
        else:
            continue
        place = {k: (e.get("place") or {}).get(k) for k in _SUMMARY_PLACE}
        entry = next((x for x in out if x["key"] == key), None)
        if entry is None:
            entry = {"key": key, "places": []}
            out.append(entry)
        if place["name_zh"] or place["name_en"]:
            if place not in entry["places"]:
                entry["places"].append(place)
    order = ("origin", "slaughter", "processing", "packing", "shop")
    return sorted(out, key=lambda x: order.index(x["key"]))


def producer(events: list[dict]) -> dict | None:
    """Return the place that made the product: the last processing place before the shop, else the farm."""
    made = [e["place"] for e in events if e["stage"] == "processing" and e.get("place")]
    if made:
        return made[-1]
    farms = [e["place"] for e in events if e["stage"] == "farm" and e.get("place")]
    return farms[0] if farms else None


def _slaughter_facts(doc: str) -> tuple[list[str], list[str]] | None:
    """(ear tags, quarantine certificates) of a slaughter event's document, or None when it is not one: animals
    consumed (urn:tracegraph:animal:...), its certificationInfo, or ILMD lists named earTags and
    quarantineCertificates under any prefix."""
    try:
        parsed = json.loads(doc)
        record = origin_record(parsed)
    except (TypeError, ValueError, AttributeError):
        return None
    tags, certificates = list(record["animals"]), [record["certificate"]] if record["certificate"] else []
    for key, value in (parsed.get("ilmd") or {}).items():
        name = key.rpartition(":")[2]
        if name in ("earTags", "quarantineCertificates") and isinstance(value, list):
            (tags if name == "earTags" else certificates).extend(str(v) for v in value if v)
    if not tags and not certificates:
        return None
    return tags, certificates


# ILMD names (under any prefix) of a harvested root's age in years: ours (gs1.event_builders.ROOT_AGE) and the demo's.
_AGE_NAMES = frozenset({"rootAgeYears", "ageYears"})


def root_ages(rows: list[dict]) -> list[int]:
    """Return the distinct ages in years (ginseng 年限) the origin events on the way record in their ILMD, smallest
    first; [] when none does."""
    ages: set[int] = set()
    for r in rows:
        doc = r.get("origin_doc")
        if not doc:
            continue
        try:
            ilmd = json.loads(doc).get("ilmd") or {}
        except (TypeError, ValueError, AttributeError):
            continue
        for key, value in ilmd.items() if isinstance(ilmd, dict) else ():
            name = key.rpartition(":")[2].rpartition("#")[2]
            if name in _AGE_NAMES and isinstance(value, int | float) and not isinstance(value, bool) \
                    and 0 < value <= 100 and value == int(value):
                ages.add(int(value))
    return sorted(ages)


def storage(product: dict) -> dict | None:
    """Return a product's storage conditions as the page shows them ({min_c, max_c, note}; temperatures as text
    without a needless .0), or None when none is recorded."""
    def text(v):
        return None if v is None else f"{v:g}"
    out = {"min_c": text(product.get("storage_min_c")), "max_c": text(product.get("storage_max_c")),
           "note": product.get("storage_note")}
    return out if any(out.values()) else None


def is_slaughter(r: dict) -> bool:
    """Whether an event is a slaughter: bizStep slaughtering, or a transformation of ear-tagged animals."""
    if r.get("biz_step") == "slaughtering":
        return True
    return bool(r.get("origin_doc")) and _slaughter_facts(r["origin_doc"]) is not None


_MADE_STEPS = frozenset({"commissioning", "harvesting", "slaughtering", "packing"})


def production_day(rows: list[dict], lot_key: str) -> str | None:
    """Return the local day the scanned lot was made by its record (its first origin event: commissioning,
    harvest, slaughter, packing, or the transformation that output it), for a lot registered without a
    production date; None when the record has no such event."""
    made = [r for r in rows if r.get("node_key") == lot_key and r.get("event_id")
            and (r.get("type") == "TransformationEvent" or r.get("biz_step") in _MADE_STEPS)]
    if not made:
        return None
    first = min(made, key=lambda r: r["time"])
    return (local_iso(first["time"], first["offset"]) or "")[:10] or None


def milling_day(events: list[dict]) -> str | None:
    """Return the local day of the first processing transformation that is not a packing run (for rice: the day
    it was milled), from the timeline's public events, or None."""
    for e in events:
        if e.get("type") == "TransformationEvent" and e.get("biz_step") != "packing" and e["stage"] == "processing" \
                and not e.get("slaughter"):
            return (e.get("time") or "")[:10] or None
    return None
