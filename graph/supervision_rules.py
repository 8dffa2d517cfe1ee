"""Supervision's pure rules (no database): inspection programmes and the plan's targets, how an inspection is
classified when it is recorded, and pass rates per slice. graph/supervision.py reads around them.
"""

from __future__ import annotations

from graph.alert_rules import region_levels
from graph.regions import name_of

# code: (zh, en). The first four are the programmes a regulator is judged by; 专项整治 campaigns are in DOMAIN.md;
# 委托检验 is a test a producer commissions from a lab itself (the basis of a 合格证): it is not a regulator's
# sample, so it has no target and is what an inspection recorded without a programme is.
PROGRAMMES: dict[str, tuple[str, str]] = {
    "routine_monitoring": ("例行监测", "Routine monitoring"),
    "supervisory_sampling": ("监督抽查", "Supervisory sampling"),
    "risk_monitoring": ("风险监测", "Risk monitoring"),
    "food_safety_sampling": ("食品安全抽检", "Food-safety sampling"),
    "special_campaign": ("专项整治", "Special campaign"),
    "commissioned_test": ("委托检验", "Commissioned test"),
}
DEFAULT_PROGRAMME = "commissioned_test"
# Jilin's 2022 targets (DOMAIN.md): routine monitoring of main farm products >= 97%, food-safety sampling >= 95%.
# The plan sets none for the others (risk monitoring looks for problems on purpose); SUPERVISION_TARGETS adds them.
DEFAULT_TARGETS: dict[str, float] = {"routine_monitoring": 0.97, "food_safety_sampling": 0.95}

BY = ("programme", "category", "province", "city", "county", "month")
SORTS = ("date", "-date", "report_no", "-report_no", "verdict", "-verdict", "programme", "-programme",
         "category", "-category", "region", "-region")


def classify(inspection: dict, facts: dict) -> dict:
    """Return the classification stored on an inspection from what was sent and what the record knows.

    Args:
        inspection: the request (programme, sampling_body, region_code, hazard, category, all optional).
        facts: the lot's product category, its owner's GLN and region code, read in the writing transaction.

    The product's category wins over a sent one (a lot is what its product is); the region defaults to where the
    lot's owner is (the sample came from its lot); names are looked up from the code.
    """
    code = inspection.get("region_code") or facts.get("owner_region") or None
    levels = region_levels(code)
    hazard = (inspection.get("hazard") or "").strip().lower() or None
    return {
        "programme": inspection.get("programme") or DEFAULT_PROGRAMME,
        "sampling_body": (inspection.get("sampling_body") or "").strip() or None,
        "hazard": hazard,
        "category": facts.get("category") or inspection.get("category") or "other",
        "region_code": code,
        "province_code": levels["province"], "city_code": levels["city"], "county_code": levels["county"],
        "region_zh": name_of(code, "zh"), "region_en": name_of(code, "en"),
        "owner_gln": facts.get("owner_gln"),
    }


def target_for(by: str, key: str | None, programme: str | None, targets: dict[str, float]) -> float | None:
    """The target a slice is held to: its programme's, when the slice is one programme; None otherwise.

    A slice by programme is held to that programme's target; any other slice only when a programme filter fixes
    the programme (a county's rate mixed across programmes has no target in the plan).
    """
    if by == "programme":
        return targets.get(key or "")
    return targets.get(programme or "")


def slices(rows: list[dict], by: str, programme: str | None, targets: dict[str, float]) -> list[dict]:
    """Turn grouped counts into pass-rate slices: count, passed, failed, rate, target, below_target, names.

    Args:
        rows: [{"key", "count", "passed"}] from the grouping query.
        by: the dimension (one of BY).
        programme: the programme filter, if any.
        targets: programme -> target rate (0..1).

    A slice with no target has below_target None, not False: "not judged" differs from "meets the target".
    """
    out = []
    for row in rows:
        count, passed = int(row["count"]), int(row["passed"])
        rate = passed / count if count else None
        target = target_for(by, row["key"], programme, targets)
        out.append({
            "key": row["key"], "name_zh": _name(by, row["key"], "zh"), "name_en": _name(by, row["key"], "en"),
            "count": count, "passed": passed, "failed": count - passed, "rate": rate, "target": target,
            "below_target": None if target is None or rate is None else rate < target,
        })
    return out


def _name(by: str, key: str | None, lang: str) -> str | None:
    if key is None:
        return None
    if by == "programme":
        names = PROGRAMMES.get(key)
        return names[0 if lang == "zh" else 1] if names else key
    if by in ("province", "city", "county"):
        return name_of(key, lang) or key
    return key


def targets_from(config: dict | None) -> dict[str, float]:
    """The targets in force: the plan's, with configured ones (programme -> rate in 0..1) over them."""
    merged = dict(DEFAULT_TARGETS)
    for k, v in (config or {}).items():
        if k in PROGRAMMES and v is not None and 0 <= float(v) <= 1:
            merged[k] = float(v)
    return merged
