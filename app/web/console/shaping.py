"""The console's pure rules (no Flask, no database): pass rates per slice against the plan's targets, the trace drawn
as parties beside lots, recall deadlines and effectiveness over time, list parameters. Unit-tested in
tests/app/test_console_shaping.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from graph.alert_rules import region_levels
from graph.recall_rules import ack_capacity
from graph.regions import name_of
from graph.supervision_rules import DEFAULT_TARGETS
from graph.supervision_rules import PROGRAMMES as SUPERVISION_PROGRAMMES
from gs1.timezones import CHINA

# Programmes, their names and the plan's targets have one home: graph/supervision_rules.py (the view passes the
# targets in force, SUPERVISION_TARGETS over the plan's 97% / 95%).
PROGRAMMES = tuple(SUPERVISION_PROGRAMMES)
REGION_LEVELS = ("province", "city", "county")
PAGE_SIZE = 50
EXPORT_MAX = 10_000


def region_prefix(code: str | None, level: str) -> str:
    """A division code at a level: 220621 -> 220000 (province), 220600 (city), 220621 (county); '-' for none."""
    return region_levels(code)[level] or "-"


def rate_slice(key: str, count: int, passed: int, target: float | None) -> dict:
    """One slice's pass rate: count, passed, rate (None for no inspections), target and whether it is below it."""
    rate = passed / count if count else None
    return {"key": key, "count": count, "passed": passed, "failed": count - passed, "rate": rate, "target": target,
            "below": rate is not None and target is not None and rate < target}


def pass_rates(groups: list, programme: str, targets: dict[str, float] | None = None) -> dict:
    """Turn the overview's inspection groups into pass-rate slices.

    Args:
        groups: [[programme, category, region_code, month, count, passed]] (graph/console.overview).
        programme: the programme the category, region and period slices are taken within (its target applies).
        targets: programme -> target rate (0..1); the plan's when None.

    Returns:
        {programme, target, programmes: [slice], categories, periods, regions: {level: [slice]}, region_names,
        total: slice}; each slice as rate_slice, with `key` the programme, category, month or region code.
    """
    targets = DEFAULT_TARGETS if targets is None else targets
    target = targets.get(programme)
    by_programme: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    dims: dict[str, dict[str, list[int]]] = {d: defaultdict(lambda: [0, 0]) for d in
                                             ("category", "period", *REGION_LEVELS)}
    for prog, category, region, month, count, passed in groups:
        # an inspection recorded before classification may lack a field: counted, under "-" / "other"
        prog, category, month = prog or "-", category or "other", month or "-"
        by_programme[prog][0] += count
        by_programme[prog][1] += passed
        if prog != programme:
            continue
        for dim, key in (("category", category), ("period", month)):
            dims[dim][key][0] += count
            dims[dim][key][1] += passed
        for level in REGION_LEVELS:
            key = region_prefix(region, level)
            dims[level][key][0] += count
            dims[level][key][1] += passed
    total = [sum(v[0] for v in dims["category"].values()), sum(v[1] for v in dims["category"].values())]
    codes = {k for level in REGION_LEVELS for k in dims[level]}
    return {
        "programme": programme,
        "target": target,
        "programmes": [rate_slice(p, n, ok, targets.get(p)) for p, (n, ok) in sorted(by_programme.items())],
        "categories": [rate_slice(k, n, ok, target) for k, (n, ok) in sorted(dims["category"].items())],
        "periods": [rate_slice(k, n, ok, target) for k, (n, ok) in sorted(dims["period"].items())],
        "regions": {level: [rate_slice(k, n, ok, target) for k, (n, ok) in sorted(dims[level].items())]
                    for level in REGION_LEVELS},
        "region_names": {k: [name_of(k, "zh") or k, name_of(k, "en") or k] for k in codes},
        "total": rate_slice("total", total[0], total[1], target),
    }


def default_period(today: date) -> tuple[date, date]:
    """The overview's default period: the last twelve months up to today (China date)."""
    return date(today.year - 1, today.month, 1) if today.month != 12 else date(today.year, 1, 1), today


def recovered_ratio(held: list, recovered: list) -> dict:
    """A case's effectiveness as the overview and lists show it: recovered / held at opening, in the main unit.

    Args:
        held: [[units, quantities]] per notified holder (the NOTIFIES edges).
        recovered: [[unit, quantity_recovered]] per acknowledgement.
    """
    per_unit: dict[str, float] = defaultdict(float)
    for units, quantities in held:
        for unit, quantity in zip(units or [], quantities or [], strict=False):
            per_unit[unit or "EA"] += quantity or 0
    got: dict[str, float] = defaultdict(float)
    for unit, quantity in recovered:
        if quantity is not None:
            got[unit or "EA"] += quantity
    if not per_unit:
        return {"unit": None, "held": 0.0, "recovered": 0.0, "ratio": None}
    unit = max(per_unit, key=lambda u: (per_unit[u], u))
    held_q = per_unit[unit]
    return {"unit": unit, "held": held_q, "recovered": got.get(unit, 0.0),
            "ratio": min(got.get(unit, 0.0) / held_q, 1.0) if held_q else None}


def countdown(deadline: str | None, now: datetime) -> dict | None:
    """How long until a deadline (ISO text): {at (aware), seconds, overdue}; None without a deadline."""
    if not deadline:
        return None
    at = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    seconds = int((at - now).total_seconds())
    return {"at": at, "seconds": seconds, "overdue": seconds < 0}


def duration_text(seconds: int, lang: str) -> str:
    """A countdown as people read it: 1天 3小时 / 1 d 3 h (minutes below a day)."""
    s = abs(seconds)
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if lang == "en":
        return f"{days} d {hours} h" if days else f"{hours} h {minutes} min"
    return f"{days}天{hours}小时" if days else f"{hours}小时{minutes}分"


def holder_rows(case: dict) -> list[dict]:
    """Each holder of a case with what it may account for (ack_capacity), what it reported, capped at that.

    Returns:
        [{party, held_at_opening, capacity: {unit: q}, removed: {unit: q}, recovered: {unit: q}, acknowledged,
        last_ack}] in the case's holder order; reported quantities are capped at the capacity of their unit.
    """
    rows = []
    for h in case["holders"]:
        capacity = ack_capacity(h, case["affected"])
        removed: dict[str, float] = defaultdict(float)
        recovered: dict[str, float] = defaultdict(float)
        for a in h["acknowledgements"]:
            unit = a.get("unit") or "EA"
            removed[unit] += a.get("quantity_removed") or 0
            recovered[unit] += a.get("quantity_recovered") or 0
        rows.append({
            "party": h["party"], "held_at_opening": h["held_at_opening"], "capacity": capacity,
            "removed": {u: min(q, capacity.get(u, 0.0)) for u, q in removed.items()},
            "recovered": {u: min(q, capacity.get(u, 0.0)) for u, q in recovered.items()},
            "acknowledged": h["acknowledged"],
            "last_ack": max((a.get("at") or "" for a in h["acknowledgements"]), default=None),
        })
    return rows


def effectiveness_series(case: dict) -> dict:
    """Recovered share of what holders held at opening, after each acknowledgement, per unit (a step chart).

    Returns:
        {units: {unit: [[iso time, percent], ...]}}: each series starts at the opening with 0 and steps at each
        acknowledgement in that unit (cumulative, capped at 100).
    """
    held: dict[str, float] = defaultdict(float)
    for h in case["holders"]:
        for q in h["held_at_opening"]:
            held[q["unit"] or "EA"] += q["quantity"] or 0
    acks = sorted((a for h in case["holders"] for a in h["acknowledgements"]), key=lambda a: a.get("at") or "")
    series: dict[str, list] = {u: [[case["opened_at"], 0.0]] for u in sorted(held) if held[u]}
    done: dict[str, float] = defaultdict(float)
    for a in acks:
        unit = a.get("unit") or "EA"
        if unit not in series:
            continue
        done[unit] += a.get("quantity_recovered") or 0
        series[unit].append([a.get("at"), round(min(done[unit] / held[unit], 1.0) * 100, 1)])
    return {"units": series}


def list_args(args: dict, sorts: tuple, default_desc: bool = True) -> dict:
    """A list page's sort, direction and page from the query string (unknown values fall back to the defaults)."""
    sort = args.get("sort") if args.get("sort") in sorts else sorts[0]
    desc = args.get("dir", "desc" if default_desc else "asc") != "asc"
    try:
        page = max(1, min(int(args.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        page = 1
    return {"sort": sort, "desc": desc, "page": page, "skip": (page - 1) * PAGE_SIZE, "limit": PAGE_SIZE}


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD day from a filter, or None when empty or not a date."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def failed_items(results) -> list[str]:
    """The names of an inspection's failed test items (results as stored: a JSON list of dicts, already parsed)."""
    return [r.get("item") or r.get("name") or "" for r in results or [] if isinstance(r, dict) and
            r.get("passed", r.get("pass")) is False]


def window_of(start: str | None, end: str | None) -> tuple[datetime, datetime] | None:
    """A contamination window from two China dates (inclusive whole days), or None unless both are valid."""
    first, last = parse_day(start), parse_day(end)
    if first is None or last is None or last < first:
        return None
    return (datetime(first.year, first.month, first.day, tzinfo=CHINA),
            datetime(last.year, last.month, last.day, tzinfo=CHINA) + timedelta(days=1) - timedelta(microseconds=1))


def form_messages(messages: dict) -> str:
    """marshmallow's messages as one line a person can read (field: message; ...)."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path if str(k).isdigit() else k)
        elif isinstance(node, list):
            for v in node:
                if isinstance(v, str):
                    out.append(f"{path}: {v}")
                else:
                    walk(v, path)

    walk(messages, "form")
    return "; ".join(dict.fromkeys(out))
