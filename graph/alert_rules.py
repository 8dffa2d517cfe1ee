"""The rules of risk warnings (风险预警), pure (no database): an alert's states and who may move it, regions by
administrative division code, and when each warning rule fires. graph/alerts.py and graph/supervision.py read and
write around them.

Regions are GB/T 2260 six-digit administrative division codes (Jilin 220000, Jilin City 220200, Shulan 220283):
a code names its province (first two digits) and city (first four) as well, so one stored county code answers a
filter at any level by prefix, and names (which repeat across provinces: there are many 朝阳区) never decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

STATES = ("open", "acknowledged", "closed")
# open -> acknowledged -> closed; a false alarm may be closed at once; closed is final.
TRANSITIONS = {"open": ("acknowledged", "closed"), "acknowledged": ("closed",), "closed": ()}

KINDS = (
    "inspection_failed",        # a failed inspection: the lot and its downstream lots held
    "hazard_cluster",           # the same hazard failing N times in one county within the window
    "certificate_expiring",     # a certificate's validity ends within the window
    "certificate_expired_use",  # a lot moved or sold under a certificate past its validity
    "scan_burst",               # many counterfeit or impossible scans of one product in a short time
    "recall_holder_silent",     # a recall holder has not acknowledged by its deadline
    "temperature_excursion",    # a cold-chain event read a temperature outside its lots' storage range
)

HAZARD_CLUSTER_N = 3
HAZARD_CLUSTER_DAYS = 30
CERTIFICATE_WARNING_DAYS = 30
SCAN_BURST_N = 5
SCAN_BURST_HOURS = 24
# Scan verdicts the burst rule counts (graph/authenticity.py): a copy or a code that cannot be ours.
BURST_VERDICTS = ("suspected_copy", "invalid_signature", "unknown_code")


def transition_error(before: str, after: str) -> str | None:
    """Return why an alert may not move from ``before`` to ``after``, or None when it may.

    Staying in the same state (to change the owner) is allowed while the alert is not closed.
    """
    if after not in STATES:
        return f"unknown state {after!r}"
    if before == after:
        return "a closed alert cannot change" if before == "closed" else None
    if after not in TRANSITIONS.get(before, ()):
        return f"an alert cannot go from {before} to {after}"
    return None


def region_levels(code: str | None) -> dict[str, str | None]:
    """Return the province, city and county codes a division code names (None for levels it does not name).

    Examples: 220283 -> 220000, 220200, 220283; 222400 (Yanbian) -> 220000, 222400, None; 220000 -> 220000.
    """
    if not code or len(code) != 6 or not code.isdigit():
        return {"province": None, "city": None, "county": None}
    province = code[:2] + "0000"
    city = code[:4] + "00" if code[2:4] != "00" else None
    county = code if code[4:6] != "00" else None
    return {"province": province, "city": city, "county": county}


def region_prefix(code: str) -> str:
    """Return the prefix every division code inside ``code`` starts with (220000 -> 22, 220200 -> 2202)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def in_region(code: str | None, region: str) -> bool:
    """Tell whether division code ``code`` lies in ``region`` (a province, city or county code)."""
    return bool(code) and code.startswith(region_prefix(region))


def hazard_cluster_fires(failure_dates: Iterable[date], today: date, n: int = HAZARD_CLUSTER_N,
                         days: int = HAZARD_CLUSTER_DAYS) -> bool:
    """Tell whether at least ``n`` failures of one hazard in one county fall within the ``days`` days ending today.

    The window is inclusive: with days=30 a failure 29 days before today counts, one 30 days before does not
    (30 calendar days: today and the 29 before it).
    """
    start = today - timedelta(days=days - 1)
    return sum(1 for d in failure_dates if start <= d <= today) >= n


def hazard_cluster_key(hazard: str, county: str, today: date, days: int = HAZARD_CLUSTER_DAYS) -> str:
    """The dedupe key of a hazard cluster: one alert per hazard, county and window period (not one per failure)."""
    return f"hazard_cluster:{county}:{hazard}:{today.toordinal() // days}"


def expiring(valid_until: date, today: date, days: int = CERTIFICATE_WARNING_DAYS) -> bool:
    """Tell whether a certificate still valid today ends within ``days`` days (valid_until - today <= days)."""
    return today <= valid_until and (valid_until - today).days <= days


def expired_on(valid_until: date, used: date) -> bool:
    """Tell whether using a certificate on ``used`` is after its validity (valid_until is the last valid day)."""
    return used > valid_until


def scan_burst_fires(scan_times: Iterable[datetime], now: datetime, n: int = SCAN_BURST_N,
                     hours: int = SCAN_BURST_HOURS) -> bool:
    """Tell whether at least ``n`` counted scans of one product fall within the ``hours`` hours before ``now``."""
    start = now - timedelta(hours=hours)
    return sum(1 for t in scan_times if start < t <= now) >= n


def failed_hazards(results: list[dict], hazard: str | None) -> list[str]:
    """Return the hazards a failed inspection counts against: its declared hazard, else its failed test items.

    The declared hazard comes from the sampling plan and is named the same way by every lab ("cadmium"); item names
    are each lab's own text ("镉 Cd", "Cd"), so they are only the fallback (lower case, spaces collapsed).
    """
    if hazard and hazard.strip():
        return [" ".join(hazard.lower().split())]
    return sorted({" ".join(str(r.get("item", "")).lower().split()) for r in results
                   if r.get("pass") is False and str(r.get("item", "")).strip()})


# Lists of business keys in an alert's details that a party may see only where it owns the object.
KEYED_DETAILS = ("held", "already_held", "recalled", "ended", "lots")


def party_view(alert: dict, gln: str) -> dict:
    """Return what a party sees of an alert: subject keys and affected lots it owns, never other parties' lots.

    The alert's ``details.owners`` ({key: owner GLN}) says whose each lot is; keys without a recorded owner (a
    product's class key, a certificate) are kept when the alert names the party at all. ``owners`` itself is
    dropped: who else is involved is for regulators.
    """
    details = dict(alert.get("details") or {})
    owners = details.pop("owners", None) or {}

    def mine(keys: list[str]) -> list[str]:
        return [k for k in keys if owners.get(k, gln) == gln]

    for name in KEYED_DETAILS:
        if isinstance(details.get(name), list):
            details[name] = mine(details[name])
    return {**alert, "details": details, "subject_keys": mine(alert.get("subject_keys") or []),
            "parties": [gln] if gln in (alert.get("parties") or []) else []}
