"""Pure rules of a lab's inspection items (no Flask, no Neo4j), shared by the lab page and the spreadsheet import.

An item has a limit that is a maximum (residues, heavy metals: 最大限量) or a minimum (protein, moisture floors),
and a value, or "not detected" with the method's detection limit (检出限). Messages are catalogue keys with their
format fields, so the page words them in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ITEM_FIELDS = ("item", "value", "limit_kind", "limit", "unit", "lod")
LIMIT_KINDS = ("max", "min")
# How people write "not detected" in a report (or leave the value blank with a detection limit).
NOT_DETECTED = {"nd", "n.d.", "未检出", "not detected", "<lod", "-"}
MAX_ITEMS = 200
MAX_VALUE = 1e9


@dataclass(frozen=True)
class Problem:
    """A message key of the import/lab catalogue, its format fields and the field (column) it is about."""

    key: str
    fields: dict = field(default_factory=dict)
    column: str | None = None


def number(text: object) -> float | None:
    """A finite number as typed (a cell's int or float, or text with a decimal point or comma); None if it is not."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        try:
            value = float(str(text).strip().replace(",", "."))
        except ValueError:
            return None
    return value if abs(value) <= MAX_VALUE and value == value else None


def limit_kind(text: str) -> str | None:
    """'max' or 'min' from what a form or a drop-down gives ('max ≤ 最大值', '≥', '最小'); blank means max."""
    text = text.strip().lower()
    if not text:
        return "max"
    head = text.split()[0]
    if head in ("max", "≤", "<=", "最大", "最大值", "最高"):
        return "max"
    if head in ("min", "≥", ">=", "最小", "最小值", "最低"):
        return "min"
    return None


def item(row: dict) -> tuple[dict | None, Problem | None]:
    """Check one test item; return it as stored ({item, value, limit, limit_kind, unit, lod, pass}) or a problem.

    A blank value, or ND / 未检出, is "not detected": it needs the detection limit; it meets a maximum only when
    the detection limit does not exceed it, and never meets a minimum.
    """
    row = {k: str(row.get(k) if row.get(k) is not None else "").strip() for k in ITEM_FIELDS}
    if not 1 <= len(row["item"]) <= 80:
        return None, Problem("lab_item_name", {}, "item")
    kind = limit_kind(row["limit_kind"])
    if kind is None:
        return None, Problem("lab_err_limit_kind", {}, "limit_kind")
    limit = None
    if row["limit"]:
        limit = number(row["limit"])
        if limit is None or limit < 0:
            return None, Problem("lab_number", {}, "limit")
    if len(row["unit"]) > 20:
        return None, Problem("lab_unit", {}, "unit")
    detected = row["value"].lower() not in NOT_DETECTED and row["value"] != ""
    value = lod = None
    if detected:
        value = number(row["value"])
        if value is None or value < 0:
            return None, Problem("lab_err_value", {}, "value")
    if row["lod"]:
        lod = number(row["lod"])
        if lod is None or lod <= 0:
            return None, Problem("lab_number", {}, "lod")
    elif not detected:
        return None, Problem("lab_lod_needed", {}, "lod")
    if limit is None:
        passed = True
    elif not detected:
        passed = kind == "max" and lod is not None and lod <= limit
    else:
        passed = value <= limit if kind == "max" else value >= limit
    return {"item": row["item"], "value": value, "limit": limit, "limit_kind": kind, "unit": row["unit"] or None,
            "lod": lod, "detected": detected, "pass": passed}, None


def items(rows: list[dict]) -> tuple[list[dict], dict[int, Problem]]:
    """Check the item rows of an inspection; blank rows are left out. Returns (items, {row index: problem})."""
    out: list[dict] = []
    problems: dict[int, Problem] = {}
    for i, row in enumerate(rows):
        if not any(str(row.get(k) or "").strip() for k in ("item", "value", "limit", "lod")):
            continue
        checked, problem = item(row)
        if problem is not None:
            problems[i] = problem
        else:
            out.append(checked)
    return out, problems


def verdict_problem(verdict: str, checked: list[dict]) -> Problem | None:
    """The verdict must be pass or fail, and a failed item makes it fail."""
    if verdict not in ("pass", "fail"):
        return Problem("lab_err_verdict", {}, "verdict")
    failed = [x["item"] for x in checked if not x["pass"]]
    if verdict == "pass" and failed:
        return Problem("lab_verdict_failed", {"item": failed[0]}, "verdict")
    return None
