"""The rules of a recall case (pure; no database): its deadlines, who is notified with what they held, how
effective it has been, and how much a holder may acknowledge. graph/recalls.py reads and writes around them."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from gs1.identifiers import key_kind
from gs1.timezones import CHINA

LEVELS = (1, 2, 3)
START_HOURS = {1: 24, 2: 48, 3: 72}
COMPLETE_WORKING_DAYS = {1: 10, 2: 20, 3: 30}


def add_working_days(start: datetime, days: int) -> datetime:
    """Return the same local time `days` working days (Monday-Friday, China time) after `start`.

    Chinese public holidays and the weekend make-up working days (调休) are not modelled: a deadline that crosses
    Spring Festival or National Day comes out earlier than the official calendar would put it.
    """
    local = start.astimezone(CHINA)
    d: date = local.date()
    left = days
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            left -= 1
    return datetime.combine(d, local.timetz()).astimezone(UTC)


def deadlines(opened_at: datetime, level: int) -> dict[str, datetime]:
    """Return when a recall of this level must start (24/48/72 h) and complete (10/20/30 working days)."""
    return {"start_by": opened_at + timedelta(hours=START_HOURS[level]),
            "complete_by": add_working_days(opened_at, COMPLETE_WORKING_DAYS[level])}


def notify_list(holdings: list, shipments: list) -> list[dict]:
    """Return who to notify and what each held (quantity plus in transit, per unit; EA when a holding names none): every
    holder, and every party an event sent any of it to, whether it holds some now or not."""
    held: dict[str, dict[str, float]] = {}
    for gln, objects in holdings:
        per_unit = held.setdefault(gln, {})
        for _, quantity, pending, unit in objects:
            unit = unit or "EA"
            per_unit[unit] = per_unit.get(unit, 0.0) + (quantity or 0) + (pending or 0)
    for glns, *_ in shipments:
        for gln in glns:
            held.setdefault(gln, {})
    return [{"gln": gln, "units": sorted(per_unit), "quantities": [float(per_unit[u]) for u in sorted(per_unit)]}
            for gln, per_unit in held.items()]


def effectiveness(holders: list[dict], acks: list[dict]) -> dict:
    """Compare what holders report recovered/removed with what they held when the case opened, per unit."""
    held: dict[str, float] = defaultdict(float)
    for h in holders:
        for q in h["held_at_opening"]:
            held[q["unit"]] += q["quantity"] or 0
    recovered: dict[str, float] = defaultdict(float)
    removed: dict[str, float] = defaultdict(float)
    for a in acks:
        recovered[a.get("unit") or "EA"] += a.get("quantity_recovered") or 0
        removed[a.get("unit") or "EA"] += a.get("quantity_removed") or 0
    units = sorted(set(held) | set(recovered) | set(removed))
    outstanding = [h["party"]["gln"] for h in holders if not h["acknowledged"]]
    return {
        "by_unit": [{"unit": u, "affected": held.get(u, 0.0), "removed": removed.get(u, 0.0),
                     "recovered": recovered.get(u, 0.0),
                     "recovered_ratio": round(recovered[u] / held[u], 4) if held.get(u) else None} for u in units],
        "holders_total": len(holders),
        "holders_acknowledged": len(holders) - len(outstanding),
        "holders_outstanding": outstanding,
    }


def ack_capacity(holder: dict, affected: list[dict]) -> dict[str, float]:
    """What a holder of a case can have removed or recovered, per unit: what it held when the case opened plus
    what the case's shipments sent it (a retailer that sold part of it still recovers from its customers).

    A logistic unit (a pallet) is held as 1 EA whatever it carries; a party holding or sent one of the case's may
    account for as much as the case's affected objects come to in each unit (its contents are not summed here).

    Args:
        holder: one entry of a case's ``holders`` (see shape).
        affected: the case's ``affected`` objects.
    """
    cap: dict[str, float] = defaultdict(float)
    if any(key_kind(o["key"]) == "sscc" for o in holder["objects"]):
        for a in affected:
            if a["kind"] != "sscc":
                cap[a["unit"] or "EA"] += a["quantity"] if a["quantity"] is not None else 1
    for q in holder["held_at_opening"]:
        cap[q["unit"] or "EA"] += q["quantity"] or 0
    for o in holder["objects"]:
        for s in o["shipments"]:
            cap[s["uom"] or o["unit"] or "EA"] += s["quantity"] if s["quantity"] is not None else 1
    return dict(cap)


def ack_limit_error(capacity: dict[str, float], earlier: list[dict], ack: dict) -> tuple[str, str] | None:
    """Tell which quantity of an acknowledgement takes its party beyond what it had of the case (field, message).

    Args:
        capacity: ack_capacity of the party.
        earlier: the party's earlier acknowledgements in the case.
        ack: the new one (quantity_removed, quantity_recovered, unit).

    Returns:
        None when the party's acknowledgements in the ack's unit, this one included, stay within its capacity.
    """
    unit = ack.get("unit") or "EA"
    held = capacity.get(unit, 0.0)
    for field in ("quantity_removed", "quantity_recovered"):
        before = sum(a.get(field) or 0 for a in earlier if (a.get("unit") or "EA") == unit)
        total = before + (ack.get(field) or 0)
        if total > held * (1 + 1e-9) + 1e-9:  # tolerance for float sums of many partial acknowledgements
            return field, (f"{field} would total {total:g} {unit}, more than the {held:g} {unit} of the case the "
                           f"party held when it opened or was sent (already acknowledged: {before:g} {unit})")
    return None


def export_keys(case: dict) -> list[str]:
    """Return the affected keys of a case (the objects its spreadsheet lists)."""
    return [a["key"] for a in case["affected"]]
