"""The consumer scan page in one round trip, scan recording in batches, and copy detection.

The page query walks the lineage edges back from the scanned item or lot (docs/graph-model.md) and gathers, in one
statement, the events on the way with their places, inspections, certificates and statuses. Only public facts leave
this module: names and regions of places, dates, verdicts; never contacts, quantities, prices or documents.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, LiteralString

from neo4j import READ_ACCESS, ManagedTransaction, Query

from graph.driver import Graph, translate, tx_rows
from graph.errors import NotFound
from graph.lots import lot_key
from graph.serials import item_key

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

# Seconds Neo4j may spend on one public page read before it ends the transaction (the client gets a 503 and its
# retry is a cache hit or the same bounded walk); a page takes tens of milliseconds.
PAGE_TIMEOUT = 3.0

# Stages of the consumer timeline, from the party's role at the event's place; bizStep decides when roles do not.
STAGES = ("farm", "processing", "distribution", "retail")
_ROLE_STAGE = {"farm": "farm", "processor": "processing", "distributor": "distribution", "retailer": "retail"}
_STEP_STAGE = {
    "harvesting": "farm", "slaughtering": "processing", "commissioning": "processing", "packing": "processing",
    "shipping": "distribution", "receiving": "distribution", "storing": "distribution", "loading": "distribution",
    "unloading": "distribution", "retail_selling": "retail", "stocking": "retail",
}
_ORIGIN_STEPS = frozenset({"commissioning", "harvesting", "slaughtering"})

# The lineage is one pruning breadth-first search: `min(length(path))` grouped by the node lets Neo4j expand each
# upstream node once, at its least depth (VarLengthExpand(Pruning,BFS)), where listing paths would visit every path of
# a lattice (5 wide and 9 deep: 5^9 paths, seconds of work, for 50 lots). A node's edges towards the scanned code are
# then its edges to other nodes of that closure. `$lot_known` (the lot's facts are cached and the serial may be
# made up) starts no search at all unless the serial is a registered item of this lot: an unknown serial costs index
# lookups and the cached lot's statuses (`$lots`/`$items`), never a lineage walk.
_PAGE: LiteralString = """
OPTIONAL MATCH (p:Product {gtin: $gtin})
OPTIONAL MATCH (l:Lot {key: $lot_key})
OPTIONAL MATCH (i:Item {key: $item_key})
WITH p, l, i, CASE WHEN i IS NOT NULL AND i.lot = $lot THEN i WHEN $lot_known THEN null ELSE l END AS start
CALL (start) {
    OPTIONAL MATCH path = (start)<-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..16]-(u)
    WITH u, min(length(path)) AS depth
    WHERE u IS NOT NULL
    WITH collect({node: u, depth: depth}) AS found
    RETURN found, [f IN found | f.node] AS nodes
}
CALL (found, nodes) {
    UNWIND found AS f
    WITH f.node AS u, f.depth AS depth
    OPTIONAL MATCH (u)-[r:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN]->(x)
    WHERE depth > 0 AND x IN nodes
    WITH u, depth, collect(r) AS outs
    RETURN collect({
        node: u, depth: depth,
        cutoff: CASE WHEN depth = 0 OR any(r IN outs WHERE r.time IS NULL) THEN null
                ELSE reduce(m = outs[0].time, r IN outs | CASE WHEN r.time > m THEN r.time ELSE m END) END,
        via: [r IN outs WHERE r.event_id IS NOT NULL | r.event_id],
        product: [(u)-[:OF_PRODUCT]->(x:Product) | x][0]
    }) AS ups
}
CALL () {
    UNWIND $lots AS k
    MATCH (u:Lot {key: k}) WHERE u.status IN ['recalled', 'on_hold']
    RETURN collect([k, u.status]) AS lot_flags
}
CALL () {
    UNWIND $items AS k
    MATCH (u:Item {key: k}) WHERE u.status IN ['recalled', 'on_hold']
    RETURN collect([k, u.status]) AS item_flags
}
CALL (start) {
    OPTIONAL MATCH (start)-[pks:PACKED_IN*1..3]->(c)
    WITH c, pks WHERE c IS NOT NULL
    RETURN collect({node: c, depth: -1, cutoff: null, via: [], product: null,
                    since: reduce(m = pks[0].time, r IN pks | CASE WHEN r.time > m THEN r.time ELSE m END)})
           AS containers
}
CALL (ups, containers) {
    UNWIND ups + containers AS up
    WITH up, up.node AS n
    MATCH (e:Event)-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
    WHERE NOT coalesce(e.erroneous, false)
      AND (up.cutoff IS NULL OR e.event_time <= up.cutoff)
      AND (up.since IS NULL OR e.event_time >= up.since)
    OPTIONAL MATCH (e)-[:BIZ_LOCATION]->(:Location)-[:OF_PARTY]->(bp:Party)
    OPTIONAL MATCH (e)-[:READ_POINT]->(:Location)-[:OF_PARTY]->(rp:Party)
    WITH up, n, e, coalesce(bp, rp) AS place
    RETURN collect({
        event_id: e.event_id, type: e.type, action: e.action, time: e.event_time, offset: e.event_time_zone_offset,
        biz_step: e.biz_step, disposition: e.disposition, depth: up.depth, node_key: n.key,
        place: CASE WHEN place IS NULL THEN null ELSE place {.gln, .name_zh, .name_en, .region_zh, .region_en,
                                                           .roles} END
    }) AS events
}
CALL (ups) {
    UNWIND ups AS up
    WITH up, up.node AS n
    MATCH (ins:Inspection)-[:OF_LOT]->(n)
    OPTIONAL MATCH (lab:Party)-[:PERFORMED]->(ins)
    RETURN collect({
        key: ins.key, report_no: ins.report_no, date: ins.date, standard: ins.standard, verdict: ins.verdict,
        results: ins.results, lab_zh: lab.name_zh, lab_en: lab.name_en, depth: up.depth, lot: n.lot,
        product_zh: up.product.name_zh, product_en: up.product.name_en
    }) AS inspections
}
CALL (ups, p, events) {
    WITH [up IN ups | up.node] + [up IN ups WHERE up.product IS NOT NULL | up.product] + [p] AS nodes,
         [ev IN events WHERE ev.place IS NOT NULL | ev.place.gln] AS glns
    CALL (glns) {
        MATCH (party:Party) WHERE party.gln IN glns
        RETURN collect(party) AS parties
    }
    UNWIND nodes + parties AS subject
    MATCH (c:Certificate)-[:CERTIFIES]->(subject)
    OPTIONAL MATCH (issuer:Party {gln: c.issuer})
    RETURN collect({
        key: c.key, type: c.type, number: c.number, name_zh: c.name_zh, valid_from: c.valid_from,
        valid_until: c.valid_until, issuer_zh: issuer.name_zh, issuer_en: issuer.name_en,
        subject_zh: coalesce(subject.name_zh, subject.lot), subject_en: coalesce(subject.name_en, subject.lot)
    }) AS certificates
}
RETURN p {.gtin, .name_zh, .name_en, .category, .standard} AS product,
       [(p)-[:OWNED_BY]->(o:Party) | o {.name_zh, .name_en}][0] AS brand,
       l {.lot, .production_date, .expiry_date, .status} AS lot,
       i {.*} AS item,
       [up IN ups | {key: up.node.key, depth: up.depth, status: up.node.status, lot: up.node.lot,
                     via: up.via, product_zh: up.product.name_zh, product_en: up.product.name_en}] AS upstream,
       events, inspections, certificates, lot_flags + item_flags AS flags
"""
_PAGE_PROFILE: LiteralString = "PROFILE " + _PAGE  # the page query, profiled (tests prove it is bounded)



_LIVE: LiteralString = """
OPTIONAL MATCH (l:Lot {key: $lot_key})
OPTIONAL MATCH (i:Item {key: $item_key})
CALL (i) {
    OPTIONAL MATCH (e:Event)-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(i)
    WHERE NOT coalesce(e.erroneous, false)
    RETURN min(CASE WHEN e.disposition IN $sold_disp OR e.biz_step IN $sold_steps THEN e.event_time END) AS sold_at,
           min(CASE WHEN e.disposition IN $gone_disp OR e.biz_step IN $gone_steps THEN e.event_time END) AS gone_at
}
CALL () {
    UNWIND $lots AS k
    MATCH (u:Lot {key: k}) WHERE u.status IN ['recalled', 'on_hold']
    RETURN collect([k, u.status]) AS lot_flags
}
CALL () {
    UNWIND $items AS k
    MATCH (u:Item {key: k}) WHERE u.status IN ['recalled', 'on_hold']
    RETURN collect([k, u.status]) AS item_flags
}
RETURN l {.lot, .production_date, .expiry_date, .status} AS lot, i {.*} AS item, sold_at, gone_at,
       lot_flags + item_flags AS flags
"""


class PageCache:
    """A short per-process cache of what a scan page shows that only new events change (lineage, timeline,
    inspections, certificates), keyed by the scanned code.

    Statuses (recall, hold), the item's scan summary and its sale/consumption are never cached: a cache hit
    still reads them live in its one round trip, so a recall banner shows from the moment the case opens.
    """

    def __init__(self, seconds: float = 5.0, max_entries: int = 20000):
        """Keep entries ``seconds`` (0 turns the cache off), at most ``max_entries`` of them."""
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[tuple, tuple[float, dict]] = {}
        self.hits = self.misses = 0

    def get(self, key: tuple, count: bool = True) -> dict | None:
        """Return the fresh entry under ``key`` or None (``count``: add to the hit/miss figures)."""
        if self.seconds <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            self.misses += count
            return None
        self.hits += count
        return entry[1]

    def put(self, key: tuple, value: dict) -> None:
        """Store ``value`` under ``key`` for the cache's lifetime."""
        if self.seconds <= 0:
            return
        if len(self._entries) >= self.max_entries:
            now = time.monotonic()
            # Expired entries go first; if every entry is fresh the oldest half goes (dicts keep insertion order).
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries = dict(list(self._entries.items())[self.max_entries // 2:])
        self._entries[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()


def page(graph: Graph, gtin: str, lot: str, serial: str | None = None, today: date | None = None,
         cache: PageCache | None = None, timeout: float | None = None) -> dict:
    """Gather everything the consumer page shows for a scanned lot or item, in one round trip.

    A serial that is not a registered item of the lot gets the lot's facts (and the verdict `unknown_code`): they are
    cached under the lot, never under the serial, so made-up serials neither fill the cache nor walk the lineage
    again while the lot's facts are fresh.

    Args:
        graph: the database.
        gtin: GTIN-14 from the code.
        lot: lot number (AI 10) from the code.
        serial: serial (AI 21) from the code, for item-level codes.
        today: the date certificates and expiry are judged against (default: today, UTC+8).
        cache: where the lineage facts of recently scanned codes are kept; with a fresh entry the round trip
            reads only statuses and the item's scan summary.
        timeout: seconds Neo4j may spend on the read before it gives up (None: the server's own limit).

    Returns:
        Public facts: product, brand, lot, item (or None), item_lot_matches, recall, on_hold, origin, timeline,
        inspections, certificates; and `copy_state`, the item's scan summary for copy detection (not public).

    Raises:
        NotFound: the lot is not registered (the product may be, which the message says).
        Unavailable: the database does not answer, or not within `timeout`.
    """
    today = today or datetime.now(timezone(timedelta(hours=8))).date()
    key = (gtin, lot, serial)
    lot_entry = (gtin, lot, None)
    ikey = item_key(gtin, serial) if serial else None
    static = cache.get(key) if cache is not None else None
    if static is not None:
        live = _live(graph, lot_key(gtin, lot), ikey, static["upstream"], timeout)
        if live["lot"] is not None:
            return _facts(static, live, lot, today)
        cache.clear()  # the lot went away under the cache: answer from the database
    lot_static = cache.get(lot_entry, count=False) if cache is not None and serial else None
    keys = [u["key"] for u in lot_static["upstream"]] if lot_static else []
    row = _read_once(
        graph,
        _PAGE,
        timeout,
        gtin=gtin,
        lot=lot,
        lot_key=lot_key(gtin, lot),
        item_key=ikey,
        lot_known=lot_static is not None,
        lots=[k for k in keys if k.startswith("lot:")],
        items=[k for k in keys if k.startswith("item:")],
    )[0]
    if row["lot"] is None:
        if row["product"] is None:
            raise NotFound(f"no product with GTIN {gtin}", field="gtin")
        raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
    item = row["item"]
    if serial and (item is None or item.get("lot") != lot):
        if lot_static is not None:
            live = {"lot": row["lot"], "item": item, "sold_at": None, "gone_at": None, "flags": row["flags"]}
            return _facts(lot_static, live, lot, today)
        key = lot_entry  # the lot's facts, walked from the lot: kept for the lot, not for a made-up serial
    events = _timeline(row["events"])
    gone, sold = _item_exits(row["events"], ikey if item else None)
    upstream = row["upstream"]
    static = {
        "product": {**row["product"], "brand": row["brand"]},
        "lot_row": row["lot"],
        "upstream": [{k: u[k] for k in ("key", "lot", "product_zh", "product_en")} for u in upstream],
        "origin": _origin(events),
        "timeline": [_public_event(e) for e in events],
        "inspections": _inspections(row["inspections"]),
        "certificates": row["certificates"],
    }
    if cache is not None:
        cache.put(key, static)
    flags = [[u["key"], u["status"]] for u in upstream if u["status"] in ("recalled", "on_hold")]
    live = {"lot": row["lot"], "item": item, "sold_at": sold, "gone_at": gone, "flags": flags}
    return _facts(static, live, lot, today)


def page_profile(graph: Graph, gtin: str, lot: str, serial: str | None = None, lot_known: bool = False) -> dict:
    """Run the page's read under PROFILE and say how much work Neo4j did (for tests and benchmarks).

    Args:
        graph: the database.
        gtin: GTIN-14 from the code.
        lot: lot number from the code.
        serial: serial from the code, if any.
        lot_known: as when the lot's facts are cached (an unknown serial then walks nothing).

    Returns:
        {"db_hits": total over the plan's operators, "rows": the most rows one operator produced,
         "operators": the operator names of the plan}.

    Raises:
        Unavailable: the database does not answer.
    """
    params = {"gtin": gtin, "lot": lot, "lot_key": lot_key(gtin, lot),
              "item_key": item_key(gtin, serial) if serial else None, "lot_known": lot_known, "lots": [],
              "items": []}
    try:
        with graph.driver.session(database=graph.database, default_access_mode=READ_ACCESS) as session:
            summary = session.run(_PAGE_PROFILE, params).consume()
    except Exception as exc:  # noqa: BLE001 - translated below, re-raised otherwise
        raise translate(exc) from exc
    hits, rows, names = 0, 0, []
    stack = [summary.profile or {}]
    while stack:
        op = stack.pop()
        hits += op.get("dbHits") or 0
        rows = max(rows, op.get("rows") or 0)
        names.append(op.get("operatorType", ""))
        stack.extend(op.get("children") or [])
    return {"db_hits": hits, "rows": rows, "operators": names}


def _read_once(graph: Graph, cypher: LiteralString, timeout: float | None = None, **params: Any) -> list[dict]:
    """Run one read statement as an auto-commit transaction: one network round trip where a managed transaction
    takes two (BEGIN+RUN+PULL, then COMMIT) and about twice the client CPU; a page read needs no retry loop.
    With `timeout`, Neo4j ends the transaction after that many seconds (a public page must not keep it busy)."""
    try:
        with graph.driver.session(database=graph.database, default_access_mode=READ_ACCESS) as session:
            return [r.data() for r in session.run(Query(cypher, timeout=timeout), params)]
    except Exception as exc:  # noqa: BLE001 - translated below, re-raised otherwise
        raise translate(exc) from exc


def _live(graph: Graph, lkey: str, ikey: str | None, upstream: list[dict], timeout: float | None = None) -> dict:
    """What a cached page must read fresh: statuses on the way, the lot, the item's summary, sale, consumption."""
    keys = [u["key"] for u in upstream]
    row = _read_once(
        graph, _LIVE, timeout, lot_key=lkey, item_key=ikey,
        lots=[k for k in keys if k.startswith("lot:")], items=[k for k in keys if k.startswith("item:")],
        sold_disp=sorted(SOLD_DISPOSITIONS), sold_steps=sorted(SOLD_STEPS),
        gone_disp=sorted(GONE_DISPOSITIONS), gone_steps=sorted(GONE_STEPS),
    )[0]
    return {"lot": row["lot"], "item": row["item"], "sold_at": _native(row["sold_at"]),
            "gone_at": _native(row["gone_at"]), "flags": row["flags"]}


def _facts(static: dict, live: dict, lot: str, today: date) -> dict:
    """Join the (possibly cached) lineage facts with the live statuses and item summary into the page's facts."""
    item = live["item"]
    status = dict(live["flags"])
    recalled = [_lot_ref(u) for u in static["upstream"] if status.get(u["key"]) == "recalled"]
    held = [_lot_ref(u) for u in static["upstream"] if status.get(u["key"]) == "on_hold"]
    lot_row = live["lot"]
    expiry = _iso(lot_row.get("expiry_date"))
    return {
        "product": static["product"],
        "lot": {"lot": lot_row["lot"], "production_date": _iso(lot_row.get("production_date")),
                "expiry_date": expiry, "expired": bool(expiry and expiry < today.isoformat()),
                "status": lot_row.get("status") or "active"},
        "item": {"serial": item["serial"], "status": item.get("status") or "active",
                 "scan_count": item.get("scan_count") or 0,
                 "first_scan_at": _iso_time(item.get("first_scan_at"))} if item else None,
        "item_lot_matches": bool(item and item.get("lot") == lot),
        "recall": {"recalled": bool(recalled) or bool(item and item.get("status") == "recalled"), "lots": recalled},
        "on_hold": {"on_hold": bool(held), "lots": held},
        "origin": static["origin"],
        "timeline": static["timeline"],
        "inspections": static["inspections"],
        "certificates": _certificates(static["certificates"], today),
        "copy_state": {**_state(item), "sold_at": live["sold_at"], "gone_at": live["gone_at"]} if item else None,
    }


def verdict(serial: str | None, signature: str | None, facts: dict, copy_reason: str | None) -> dict:
    """Decide the authenticity verdict of a scanned code.

    Args:
        serial: the scanned serial, or None for a lot-level code.
        signature: 'valid', 'malformed' (not one of our signed serials) or 'bad_signature', for item codes; only a
            valid one can be genuine.
        facts: the result of `page`.
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
            detail = f"{len(nets)}+ networks scanned it after it left the supply chain at {_iso_time(gone_at)}"
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


def record_scans(graph: Graph, scans: list[dict]) -> int:
    """Store a batch of scans and update the scanned items' summaries and copy flags, in one transaction.

    A scan of a code by the client that scanned it less than REPEAT_WINDOW before (a reload, a language switch) is
    not stored and changes nothing; its dict gets `repeat: True`.

    Args:
        graph: the database.
        scans: rows with scan_id, time (UTC datetime), gtin, lot, serial, verdict, fp, net (default: fp), lat,
            lon, region.

    Returns:
        How many scans were new (a retried batch does not count twice, a repeat does not count).

    Raises:
        Unavailable: the database does not answer.
    """
    if not scans:
        return 0
    return graph.write(_record_scans, scans)


_LAST_BY_CLIENT: LiteralString = """
UNWIND $probes AS p
MATCH (s:Scan {fp: p.fp})
WHERE s.time >= p.since AND s.gtin = p.gtin AND s.lot = p.lot AND coalesce(s.serial, '') = p.serial
RETURN p.fp AS fp, p.gtin AS gtin, p.lot AS lot, p.serial AS serial, max(s.time) AS last
"""


def _record_scans(tx: ManagedTransaction, scans: list[dict]) -> int:
    ids = [s["scan_id"] for s in scans]
    seen = set(tx_rows(tx, "UNWIND $ids AS id MATCH (s:Scan {scan_id: id}) RETURN collect(id) AS ids",
                       ids=ids)[0]["ids"])
    fresh = sorted((s for s in scans if s["scan_id"] not in seen), key=lambda s: s["time"])
    if not fresh:
        return 0
    # The last counted scan of each client and code, from the store (the fp index) and then from this batch.
    codes = {(s["fp"], s["gtin"], s["lot"], s.get("serial") or ""): s["time"] for s in reversed(fresh)}
    last = {(r["fp"], r["gtin"], r["lot"], r["serial"]): _native(r["last"]) for r in tx_rows(
        tx, _LAST_BY_CLIENT,
        probes=[{"fp": k[0], "gtin": k[1], "lot": k[2], "serial": k[3], "since": t - REPEAT_WINDOW}
                for k, t in codes.items()])}
    counted = []
    for s in fresh:
        code = (s["fp"], s["gtin"], s["lot"], s.get("serial") or "")
        s["repeat"] = code in last and s["time"] - last[code] < REPEAT_WINDOW
        if not s["repeat"]:
            last[code] = s["time"]
            counted.append(s)
    fresh = counted
    if not fresh:
        return 0
    for s in fresh:
        s["lot_key"] = lot_key(s["gtin"], s["lot"])
        s["item_key"] = item_key(s["gtin"], s["serial"]) if s.get("serial") else None
        s["net"] = s.get("net") or s["fp"]
    keys = sorted({s["item_key"] for s in fresh if s["item_key"]})
    states = {}
    for row in tx_rows(
        tx,
        """
        UNWIND $keys AS k
        MATCH (i:Item {key: k})
        OPTIONAL MATCH (e:Event)-[:OBJECT]->(i)
        WHERE NOT coalesce(e.erroneous, false)
        WITH k, i, e,
             (e.disposition IN $sold_disp OR e.biz_step IN $sold_steps) AS sold,
             (e.disposition IN $gone_disp OR e.biz_step IN $gone_steps) AS gone
        RETURN k, i {.*} AS state,
               min(CASE WHEN sold THEN e.event_time END) AS sold_at,
               min(CASE WHEN gone THEN e.event_time END) AS gone_at
        """,
        keys=keys,
        sold_disp=sorted(SOLD_DISPOSITIONS), sold_steps=sorted(SOLD_STEPS),
        gone_disp=sorted(GONE_DISPOSITIONS), gone_steps=sorted(GONE_STEPS),
    ):
        states[row["k"]] = {**_state(row["state"]), "sold_at": _native(row["sold_at"]),
                            "gone_at": _native(row["gone_at"])}
    for s in fresh:
        state = states.get(s["item_key"]) if s["item_key"] else None
        if state is None:
            s["item_key"] = None  # an unregistered serial is kept on the Scan, linked to its lot only
            continue
        states[s["item_key"]], reason = assess(state, s)
        if reason and s["verdict"] == "genuine":
            s["verdict"] = "suspected_copy"
    items = [{"key": k, "props": _stored(st)} for k, st in states.items()]
    tx_rows(
        tx,
        """
        UNWIND $scans AS s
        CREATE (x:Scan {scan_id: s.scan_id, time: s.time, gtin: s.gtin, lot: s.lot, serial: s.serial,
                        verdict: s.verdict, fp: s.fp, net: s.net, lat: s.lat, lon: s.lon, region: s.region})
        WITH x, s
        OPTIONAL MATCH (l:Lot {key: s.lot_key})
        OPTIONAL MATCH (i:Item {key: s.item_key})
        FOREACH (_ IN CASE WHEN l IS NULL THEN [] ELSE [1] END | CREATE (x)-[:OF_LOT]->(l))
        FOREACH (_ IN CASE WHEN i IS NULL THEN [] ELSE [1] END | CREATE (x)-[:OF_ITEM]->(i))
        """,
        scans=[{k: s.get(k) for k in ("scan_id", "time", "gtin", "lot", "serial", "verdict", "fp", "net", "lat",
                                      "lon", "region", "lot_key", "item_key")} for s in fresh],
    )
    tx_rows(tx, "UNWIND $items AS u MATCH (i:Item {key: u.key}) SET i += u.props", items=items)
    return len(fresh)


def suspected_copies(graph: Graph, gtin: str, limit: int = 200) -> dict:
    """Report a product's items flagged as copied and the scans of serials with a forged signature.

    Args:
        graph: the database.
        gtin: GTIN-14 of the product.
        limit: most rows per list.

    Raises:
        NotFound: no product with this GTIN.
    """
    rows = graph.query(
        """
        MATCH (p:Product {gtin: $gtin})
        CALL (p) {
            MATCH (i:Item) WHERE i.gtin = p.gtin AND i.suspect_reason IS NOT NULL
            WITH i ORDER BY i.suspect_since DESC LIMIT $limit
            RETURN collect(i {.serial, .lot, .suspect_reason, .suspect_since, .suspect_detail, .scan_count,
                              .first_scan_at, .last_scan_at,
                              places: [(i)<-[:OF_ITEM]-(s:Scan) WHERE s.lat IS NOT NULL |
                                       {time: s.time, lat: s.lat, lon: s.lon, region: s.region}][..20],
                              clients: size(coalesce(i.post_sale_nets, []))}) AS items
        }
        CALL (p) {
            MATCH (s:Scan {gtin: p.gtin, verdict: 'invalid_signature'})
            WITH s.lot AS lot, s.serial AS serial, count(*) AS scans, min(s.time) AS first, max(s.time) AS last,
                 collect(DISTINCT s.region)[..10] AS regions
            ORDER BY last DESC LIMIT $limit
            RETURN collect({lot: lot, serial: serial, scans: scans, first_scan_at: first, last_scan_at: last,
                            regions: regions}) AS forged
        }
        RETURN items, forged
        """,
        read=True,
        gtin=gtin,
        limit=limit,
    )
    if not rows:
        raise NotFound(f"no product with GTIN {gtin}", field="gtin")
    items = [{**i, "suspect_since": _iso_time(i["suspect_since"]), "first_scan_at": _iso_time(i["first_scan_at"]),
              "last_scan_at": _iso_time(i["last_scan_at"]),
              "places": [{**pl, "time": _iso_time(pl["time"])} for pl in i["places"]]} for i in rows[0]["items"]]
    forged = [{**f, "first_scan_at": _iso_time(f["first_scan_at"]), "last_scan_at": _iso_time(f["last_scan_at"])}
              for f in rows[0]["forged"]]
    return {"gtin": gtin, "suspected_items": items, "forged_serials": forged}


# ---------------------------------------------------------------- shaping the page


def _timeline(rows: list[dict]) -> list[dict]:
    """Deduplicate the events, keep those on the product's own path, order them by time."""
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


def _public_event(r: dict) -> dict:
    place = r["place"] or {}
    return {
        "time": _local_iso(r["time"], r["offset"]),
        "stage": _stage(r),
        "biz_step": r["biz_step"],
        "disposition": r["disposition"],
        "type": r["type"],
        "place": {k: place.get(k) for k in ("name_zh", "name_en", "region_zh", "region_en")} if place else None,
    }


def _origin(events: list[dict]) -> list[dict]:
    out, seen = [], set()
    for r in events:
        place = r["place"]
        if place and _stage(r) == "farm" and place["gln"] not in seen:
            seen.add(place["gln"])
            out.append({k: place.get(k) for k in ("name_zh", "name_en", "region_zh", "region_en")})
    return out


def _item_exits(rows: list[dict], key: str | None) -> tuple[datetime | None, datetime | None]:
    """(gone_at, sold_at) of the scanned item, from its own events."""
    gone = sold = None
    if key is None:
        return None, None
    for r in rows:
        if r["node_key"] != key or r["depth"] != 0:
            continue
        t = _native(r["time"])
        if r["disposition"] in GONE_DISPOSITIONS or r["biz_step"] in GONE_STEPS:
            gone = min(gone, t) if gone else t
        if r["disposition"] in SOLD_DISPOSITIONS or r["biz_step"] in SOLD_STEPS:
            sold = min(sold, t) if sold else t
    return gone, sold


def _inspections(rows: list[dict]) -> list[dict]:
    out = {}
    for r in rows:
        results = r["results"]
        if isinstance(results, str):
            try:
                results = json.loads(results)
            except ValueError:
                results = []
        out[r["key"]] = {
            "report_no": r["report_no"], "date": _iso(r["date"]), "standard": r["standard"],
            "verdict": r["verdict"], "lab": {"name_zh": r["lab_zh"], "name_en": r["lab_en"]},
            "subject": {"name_zh": r["product_zh"], "name_en": r["product_en"], "lot": r["lot"],
                        "this_lot": r["depth"] <= 1},
            "results": [{k: x.get(k) for k in ("item", "value", "limit", "unit", "pass")}
                        for x in results or [] if isinstance(x, dict)],
        }
    return sorted(out.values(), key=lambda x: (x["date"] or "", x["report_no"] or ""), reverse=True)


def _certificates(rows: list[dict], today: date) -> list[dict]:
    out = {}
    for r in rows:
        until = _iso(r["valid_until"])
        out.setdefault(r["key"], {
            "type": r["type"], "number": r["number"], "name_zh": r["name_zh"], "valid_from": _iso(r["valid_from"]),
            "valid_until": until, "expired": bool(until and until < today.isoformat()),
            "issuer": {"name_zh": r["issuer_zh"], "name_en": r["issuer_en"]},
            "subject": {"name_zh": r["subject_zh"], "name_en": r["subject_en"]},
        })
    return sorted(out.values(), key=lambda c: (c["expired"], c["type"] or "", c["number"] or ""))


def _lot_ref(u: dict) -> dict:
    return {"lot": u["lot"], "name_zh": u["product_zh"], "name_en": u["product_en"]}


_SUMMARY = ("scan_count", "first_scan_at", "last_scan_at", "post_sale_nets", "post_gone_nets", "suspect_reason",
            "suspect_since", "suspect_detail")


def _state(item: dict | None) -> dict:
    """An item's stored scan summary with Python datetimes (geo hints are kept as JSON on the item)."""
    if not item:
        return {}
    state = {k: _native(item[k]) for k in _SUMMARY if item.get(k) is not None}
    try:
        hints = json.loads(item.get("geo_hints") or "[]")
        state["geo_hints"] = [{**h, "t": datetime.fromisoformat(h["t"])} for h in hints]
    except (TypeError, ValueError, KeyError):
        state["geo_hints"] = []
    return state


def _stored(state: dict) -> dict:
    """An item's scan summary as Neo4j properties (the inverse of `_state`)."""
    out = {k: v for k, v in state.items() if k not in ("sold_at", "gone_at", "geo_hints")}
    out["geo_hints"] = json.dumps([{**h, "t": h["t"].isoformat()} for h in state.get("geo_hints") or []])
    return out


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10]
    value = _native(value)
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _iso_time(value: Any) -> str | None:
    if value is None:
        return None
    value = _native(value)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else str(value)


def _local_iso(value: Any, offset: str | None) -> str | None:
    """An event time in the time zone it was recorded in (what people at that place saw on the clock)."""
    value = _native(value)
    if value is None:
        return None
    tz = UTC
    if offset and len(offset) == 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        except ValueError:
            tz = UTC
    return value.astimezone(tz).isoformat()


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def sample_codes(graph: Graph, limit: int = 200) -> list[dict]:
    """Return scannable codes from the database (lots, and items where there are any), for load generators.

    Args:
        graph: the database.
        limit: most codes of each kind.

    Raises:
        Unavailable: the database does not answer.
    """
    return graph.query(
        """
        CALL () {
            MATCH (l:Lot) WHERE l.gtin IS NOT NULL AND l.lot IS NOT NULL
            RETURN l.gtin AS gtin, l.lot AS lot, null AS serial LIMIT $limit
            UNION ALL
            MATCH (l:Lot)-[:HAS_ITEM]->(i:Item)
            RETURN i.gtin AS gtin, l.lot AS lot, i.serial AS serial LIMIT $limit
        }
        RETURN gtin, lot, serial
        """,
        read=True,
        limit=limit,
    )
