"""Pure rules of the batch pages (no Flask, no Neo4j): farm input rows, safety intervals, shelf life, yield, SSCC.

Messages are keys of the batch catalogue (i18n_batches.json) with their format fields, so the page words them in
the user's language.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from gs1.keys import check_digit

FARM_INPUT_KINDS = ("pesticide", "fertiliser", "veterinary_drug")
INPUT_FIELDS = ("kind", "name", "dose", "applied", "safety_days")
MAX_INPUT_ROWS = 30
MAX_SAFETY_DAYS = 3650
MAX_SHELF_DAYS = 3650
MAX_EAR_TAGS = 1000


@dataclass(frozen=True)
class Problem:
    """A message key of the batch catalogue and its format fields."""

    key: str
    fields: dict


def farm_inputs(rows: list[dict], day: date | None) -> tuple[list[dict], dict[int, Problem]]:
    """Check the farm input rows of a batch form; blank rows are left out.

    Args:
        rows: {kind, name, dose, applied (ISO date), safety_days} as typed.
        day: the harvest or slaughter date (an input applied after it is refused).

    Returns:
        (the inputs as stored: kind, name, dose, applied ISO date, safety_days int; {row index: problem}).
    """
    out: list[dict] = []
    problems: dict[int, Problem] = {}
    for i, row in enumerate(rows):
        row = {k: (row.get(k) or "").strip() for k in INPUT_FIELDS}
        if not (row["name"] or row["dose"] or row["applied"] or row["safety_days"]):
            continue
        if row["kind"] not in FARM_INPUT_KINDS:
            problems[i] = Problem("input_kind_needed", {})
            continue
        if not row["name"] or len(row["name"]) > 80 or len(row["dose"]) > 80:
            problems[i] = Problem("input_name_needed", {})
            continue
        try:
            applied = date.fromisoformat(row["applied"])
        except ValueError:
            problems[i] = Problem("input_date_needed", {})
            continue
        if day is not None and applied > day:
            problems[i] = Problem("input_after_harvest", {"name": row["name"]})
            continue
        try:
            safety = int(row["safety_days"] or "0")
        except ValueError:
            safety = -1
        if not 0 <= safety <= MAX_SAFETY_DAYS:
            problems[i] = Problem("input_safety_days", {"max": MAX_SAFETY_DAYS})
            continue
        out.append({"kind": row["kind"], "name": row["name"], "dose": row["dose"], "applied": applied.isoformat(),
                    "safety_days": safety})
    return out, problems


def safe_from(farm_input: dict) -> date:
    """The first day the produce may be harvested or the animal slaughtered after this input (its safety interval)."""
    return date.fromisoformat(farm_input["applied"]) + timedelta(days=int(farm_input["safety_days"]))


def inside_safety_interval(inputs: list[dict], day: date) -> list[dict]:
    """The inputs whose safety interval (安全间隔期 / 休药期) has not ended on the harvest or slaughter day."""
    return [{**x, "safe_from": safe_from(x).isoformat()} for x in inputs if day < safe_from(x)]


def expiry(produced: date, shelf_days: str, expiry_date: str) -> tuple[date | None, Problem | None]:
    """The expiry date from a shelf life in days or a date as typed (one of them, or neither)."""
    shelf_days, expiry_date = shelf_days.strip(), expiry_date.strip()
    if shelf_days and expiry_date:
        return None, Problem("shelf_or_expiry", {})
    if shelf_days:
        try:
            days = int(shelf_days)
        except ValueError:
            days = 0
        if not 1 <= days <= MAX_SHELF_DAYS:
            return None, Problem("shelf_days_range", {"max": MAX_SHELF_DAYS})
        return produced + timedelta(days=days), None
    if expiry_date:
        try:
            return date.fromisoformat(expiry_date), None
        except ValueError:
            return None, Problem("date_needed", {})
    return None, None


def ear_tags(text: str) -> list[str]:
    """Ear-tag IDs as typed: one per line, or separated by commas or spaces (Chinese commas too); no repeats."""
    for sep in ("，", ",", "、", ";", "；", "\n", "\r", "\t"):
        text = text.replace(sep, " ")
    seen: dict[str, None] = {}
    for tag in text.split(" "):
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def yields(inputs: list[dict], outputs: list[dict]) -> list[dict]:
    """Output against input per unit (the capture rule compares like units): [{unit, input, output, ratio}]."""
    by_in: dict[str, float] = defaultdict(float)
    by_out: dict[str, float] = defaultdict(float)
    for x in inputs:
        by_in[x["unit"]] += x["quantity"]
    for x in outputs:
        by_out[x["unit"]] += x["quantity"]
    return [{"unit": u, "input": by_in.get(u, 0.0), "output": by_out[u],
             "ratio": by_out[u] / by_in[u] if by_in.get(u) else None} for u in by_out]


def over_tolerance(rows: list[dict], max_yield: float) -> list[dict]:
    """The units whose outputs exceed the inputs times the tolerance (what capture would refuse)."""
    return [r for r in rows if r["ratio"] is not None and r["output"] > r["input"] * max_yield + 1e-9]


def propose_sscc(gln: str, extension: int | None = None, serial: int | None = None) -> str:
    """An SSCC for a new case or pallet under the party's GS1 company prefix (the first 9 digits of its GLN).

    Extension digit and serial reference are drawn at random unless given (tests); the page shows it to edit.
    """
    ext = secrets.randbelow(10) if extension is None else extension
    ref = secrets.randbelow(10**7) if serial is None else serial
    body = f"{ext}{gln[:9]}{ref:07d}"
    return body + check_digit(body)


def suggested_lot(day: date, prefix: str) -> str:
    """A lot number for a new batch: a letter for its kind, the date and four random characters (AI 10: 20)."""
    return f"{prefix}{day:%Y%m%d}-{secrets.token_hex(2).upper()}"
