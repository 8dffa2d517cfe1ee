"""Authenticity and copy detection: the verdict of a scanned code and the rules that flag a copied item (pure; no
database).

graph/scan.py reads an item's scan summary with the page and writes it back with each batch of scans; the rules that
change it, and decide what a scan reveals, live here so they are read and unit-tested in one place.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from graph.values import iso_utc, native

VERDICTS = ("genuine", "unknown_code", "invalid_signature", "suspected_copy")

# An item that left the supply chain this way must not be scanned again as a new sale.
SOLD_DISPOSITIONS = frozenset({"retail_sold"})
SOLD_STEPS = frozenset({"retail_selling"})
GONE_DISPOSITIONS = frozenset({"consumed", "destroyed", "disposed"})
GONE_STEPS = frozenset({"consuming", "destroying", "decommissioning"})

# Copy detection trusts only what the server sees (README "Authenticity and copy detection"). A client is the HMAC of
# its address and User-Agent (`fp`); independent clients are counted by network (`net`: the HMAC of the address's
# /24 or /48), since one phone can present any number of User-Agents. A place sent with the scan (?geo=) is the
# client's claim: it is kept as a hint and counts only when several networks agree on each of two places that no box
# could travel between in the time. Places are coarse (0.1 degree, ~11 km; an IP-derived city is often 30-50 km
# off), so only jumps of 100+ km count, at more than airliner speed. After a retail sale the buyer, family and a
# gift's recipient may scan; more networks than that means the code is printed on more than one box.
MIN_TRAVEL_KM = 100.0
MAX_SPEED_KMH = 900.0
TRAVEL_WINDOW = timedelta(hours=24)
MIN_NETWORKS_PER_PLACE = 2
MAX_CLIENTS_AFTER_SALE = 3
MAX_CLIENTS_AFTER_CONSUMED = 1
# The same client scanning the same code again within this time (a reload, a language switch, a second look) is
# not a new scan; neither are HEAD requests and browser prefetches (the resolver does not record those at all).
REPEAT_WINDOW = timedelta(minutes=30)
GEO_HINTS_MAX = 16


def verdict(serial: str | None, signature: str | None, facts: dict, copy_reason: str | None) -> dict:
    """Decide the authenticity verdict of a scanned code.

    Args:
        serial: the scanned serial, or None for a lot-level code.
        signature: 'valid', 'malformed' (not one of our signed serials) or 'bad_signature', for item codes; only a
            valid one can be genuine.
        facts: the result of graph/scan.py `page`.
        copy_reason: why the item looks copied (from `assess` and the stored flag), or None.

    Returns:
        {"verdict": one of VERDICTS, "level": "item" | "lot", "reason": str | None}.
    """
    if serial is None:
        # A lot code is printed on every pack of the lot: it proves the lot is registered, not that a pack is real.
        return {"verdict": "genuine", "level": "lot", "reason": None}
    if signature == "bad_signature":
        return {"verdict": "invalid_signature", "level": "item", "reason": "signature"}
    if facts["item"] is None or not facts["item_lot_matches"]:
        return {"verdict": "unknown_code", "level": "item", "reason": "not_registered"}
    if signature != "valid":
        # Only the lot's owner issues signed serials (print runs); a serial anyone could have typed into a capture
        # proves nothing about the pack in the shopper's hand, whoever recorded it.
        return {"verdict": "unknown_code", "level": "item", "reason": "unsigned"}
    if copy_reason:
        return {"verdict": "suspected_copy", "level": "item", "reason": copy_reason}
    return {"verdict": "genuine", "level": "item", "reason": None}


def assess(state: dict, scan: dict) -> tuple[dict, str | None]:
    """Apply one scan to an item's scan summary and say whether it reveals a copy (pure; no database).

    Args:
        state: the item's summary: scan_count, first_scan_at, last_scan_at, geo_hints (recent places claimed by
            distinct networks), post_sale_nets, post_gone_nets, suspect_reason, sold_at, gone_at (UTC datetimes).
        scan: {"time": UTC datetime, "fp": client fingerprint, "net": network fingerprint (default: fp),
            "lat", "lon" (the client's claim, or None)}.

    Returns:
        (the new summary, the copy reason this scan or an earlier one found, or None).
    """
    new = dict(state)
    t, net = scan["time"], scan.get("net") or scan["fp"]
    reason = detail = None
    gone_at, sold_at = state.get("gone_at"), state.get("sold_at")
    if gone_at and t > gone_at:
        nets = _add_net(state.get("post_gone_nets"), net, MAX_CLIENTS_AFTER_CONSUMED)
        new["post_gone_nets"] = nets
        if len(nets) > MAX_CLIENTS_AFTER_CONSUMED:
            reason = "scanned_after_consumed"
            detail = f"{len(nets)}+ networks scanned it after it left the supply chain at {iso_utc(gone_at)}"
    if sold_at and t > sold_at:
        nets = _add_net(state.get("post_sale_nets"), net, MAX_CLIENTS_AFTER_SALE)
        new["post_sale_nets"] = nets
        if len(nets) > MAX_CLIENTS_AFTER_SALE and reason is None:
            reason, detail = "many_clients_after_sale", f"{len(nets)}+ different networks scanned it after its sale"
    lat, lon = scan.get("lat"), scan.get("lon")
    if lat is not None and lon is not None:
        hints = [h for h in state.get("geo_hints") or [] if h["t"] > t - TRAVEL_WINDOW and h["net"] != net]
        travel = _impossible_travel(hints, t, net, lat, lon)
        if travel and reason is None:
            reason, detail = "impossible_travel", travel
        new["geo_hints"] = (hints + [{"t": t, "net": net, "lat": lat, "lon": lon}])[-GEO_HINTS_MAX:]
    new["scan_count"] = (state.get("scan_count") or 0) + 1
    new["first_scan_at"] = state.get("first_scan_at") or t
    new["last_scan_at"] = t
    if reason and not state.get("suspect_reason"):
        new.update(suspect_reason=reason, suspect_since=t, suspect_detail=detail)
    return new, new.get("suspect_reason") or reason


def _add_net(nets: list[str] | None, net: str, limit: int) -> list[str]:
    """The distinct networks seen so far plus this one, kept up to one past the limit (enough to decide)."""
    nets = list(nets or [])
    if net not in nets and len(nets) <= limit:
        nets.append(net)
    return nets


def _impossible_travel(hints: list[dict], t: datetime, net: str, lat: float, lon: float) -> str | None:
    """Say why the claimed places of recent scans put one box in two places at once, or None.

    Each place must be claimed by MIN_NETWORKS_PER_PLACE networks (this scan's counts for its own place): a client's
    made-up place, from however many User-Agents, flags nothing.
    """
    here, far, worst = {net}, set(), None
    for h in hints:
        km = _km(h["lat"], h["lon"], lat, lon)
        hours = max(abs((t - h["t"]).total_seconds()) / 3600, 1 / 60)
        if km < MIN_TRAVEL_KM:
            here.add(h["net"])
        elif km / hours > MAX_SPEED_KMH:
            far.add(h["net"])
            if worst is None or km / hours > worst[0] / worst[1]:
                worst = (km, hours)
    if len(here) >= MIN_NETWORKS_PER_PLACE and len(far) >= MIN_NETWORKS_PER_PLACE and worst:
        return (f"{worst[0]:.0f} km in {worst[1] * 60:.0f} min, each place claimed by "
                f"{MIN_NETWORKS_PER_PLACE}+ networks")
    return None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def item_exits(rows: list[dict], key: str | None) -> tuple[datetime | None, datetime | None]:
    """Return (gone_at, sold_at) of the scanned item from its own events in the page rows (None: no such event)."""
    gone = sold = None
    if key is None:
        return None, None
    for r in rows:
        if r["node_key"] != key or r["depth"] != 0:
            continue
        t = native(r["time"])
        if r["disposition"] in GONE_DISPOSITIONS or r["biz_step"] in GONE_STEPS:
            gone = min(gone, t) if gone else t
        if r["disposition"] in SOLD_DISPOSITIONS or r["biz_step"] in SOLD_STEPS:
            sold = min(sold, t) if sold else t
    return gone, sold


_SUMMARY = ("scan_count", "first_scan_at", "last_scan_at", "post_sale_nets", "post_gone_nets", "suspect_reason",
            "suspect_since", "suspect_detail")


def summary_of(item: dict | None) -> dict:
    """Return an item's stored scan summary with Python datetimes (geo hints are kept as JSON on the item)."""
    if not item:
        return {}
    state = {k: native(item[k]) for k in _SUMMARY if item.get(k) is not None}
    try:
        hints = json.loads(item.get("geo_hints") or "[]")
        state["geo_hints"] = [{**h, "t": datetime.fromisoformat(h["t"])} for h in hints]
    except (TypeError, ValueError, KeyError):
        state["geo_hints"] = []
    return state


def stored_summary(state: dict) -> dict:
    """Return an item's scan summary as node properties (the inverse of `summary_of`)."""
    out = {k: v for k, v in state.items() if k not in ("sold_at", "gone_at", "geo_hints")}
    out["geo_hints"] = json.dumps([{**h, "t": h["t"].isoformat()} for h in state.get("geo_hints") or []])
    return out

