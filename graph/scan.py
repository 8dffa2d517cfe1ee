"""The consumer scan page in one round trip, with a short cache of its lineage facts.

The page query walks the lineage edges back from the scanned item or lot (docs/graph-model.md) and gathers, in one
statement, the events on the way with their places, inspections, certificates and statuses. Only public facts leave
this module: names and regions of places, dates, verdicts; never contacts, quantities, prices or documents. The page's
story is shaped in graph/timeline.py; the verdict and the copy-detection rules are in graph/authenticity.py; scans
are recorded by graph/scan_log.py.
"""

from __future__ import annotations

import random
import time
from datetime import date, datetime
from typing import Any, LiteralString

from neo4j import READ_ACCESS, Query

from graph import timeline
from graph.authenticity import (
    GONE_DISPOSITIONS,
    GONE_STEPS,
    SOLD_DISPOSITIONS,
    SOLD_STEPS,
    item_exits,
    summary_of,
)
from graph.driver import Graph, translate
from graph.errors import NotFound
from graph.values import iso_date, iso_utc, utc_micros
from gs1.identifiers import item_key, key_kind, lot_key
from gs1.timezones import CHINA

# Seconds Neo4j may spend on one public page read before it ends the transaction (the client gets a 503 and its
# retry is a cache hit or the same bounded walk); a page takes tens of milliseconds.
PAGE_TIMEOUT = 3.0

# The brand owner's and the lot's maker's credit standing (graph/credit.py keeps Party.credit_status): the page warns
# when either is on the watch list or the blacklist. Read live, like statuses: two indexed look-ups.
_CREDIT: LiteralString = """
CALL (l) {
    OPTIONAL MATCH (:Product {gtin: $gtin})-[:OWNED_BY]->(brand:Party)
    OPTIONAL MATCH (maker:Party {gln: l.owner_gln})
    UNWIND [x IN [brand, maker] WHERE x IS NOT NULL AND x.credit_status IN ['watch', 'blacklist']] AS x
    WITH DISTINCT x ORDER BY CASE x.credit_status WHEN 'blacklist' THEN 0 ELSE 1 END, x.gln
    RETURN collect(x {.gln, .name_zh, .name_en, status: x.credit_status,
                      since: toString(x.credit_changed_at)}) AS credit
}
"""


# What the page reads of the scanned item: its serial, lot, status and scan summary. Times come as microseconds since
# the epoch (`t.epochMillis * 1000 + t.microsecond % 1000`) and become Python datetimes in `_times` (graph/values.py
# utc_micros): the driver's own temporal values cost several times more to build and then compare (a page's events
# are sorted and compared by time), which was a fifth of a page's Python when its facts were not cached.
_ITEM: LiteralString = """i {.serial, .lot, .status, .scan_count, .post_sale_nets, .post_gone_nets, .suspect_reason,
          .suspect_detail, .geo_hints,
          first_scan_at: i.first_scan_at.epochMillis * 1000 + i.first_scan_at.microsecond % 1000,
          last_scan_at: i.last_scan_at.epochMillis * 1000 + i.last_scan_at.microsecond % 1000,
          suspect_since: i.suspect_since.epochMillis * 1000 + i.suspect_since.microsecond % 1000} AS item"""
_ITEM_TIMES = ("first_scan_at", "last_scan_at", "suspect_since")


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
CALL (ups, containers, p) {
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
        event_id: e.event_id, type: e.type, action: e.action, offset: e.event_time_zone_offset,
        time: e.event_time.epochMillis * 1000 + e.event_time.microsecond % 1000,
        biz_step: e.biz_step, disposition: e.disposition, depth: up.depth, node_key: n.key,
        origin_doc: CASE WHEN up.depth <= 1 AND (e.biz_step = 'slaughtering'
                                                 OR (e.type = 'TransformationEvent' AND p.category IN $animals))
                         THEN e.doc
                         WHEN p.category = 'ginseng' AND n:Lot AND e.type = 'ObjectEvent' AND e.action = 'ADD'
                              AND e.biz_step IN ['harvesting', 'commissioning']
                         THEN e.doc END,
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
        results: ins.results, report_sha256: ins.report_sha256, lab_zh: lab.name_zh, lab_en: lab.name_en,
        depth: up.depth, lot: n.lot,
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
CALL (ups) {
    UNWIND [up IN ups WHERE up.node.status = 'recalled' | up.node.key] + $lots + $items AS k
    OPTIONAL MATCH (rl:Lot {key: k}) WHERE rl.status = 'recalled'
    OPTIONAL MATCH (ri:Item {key: k}) WHERE ri.status = 'recalled'
    WITH coalesce(rl, ri) AS n WHERE n IS NOT NULL
    MATCH (r:Recall)-[:AFFECTS]->(n) WHERE NOT coalesce(r.drill, false)
    WITH DISTINCT r ORDER BY r.opened_at DESC LIMIT 3
    RETURN collect(r {.recall_id, .reason, .level, .opened_at, .refund_contact, .status}) AS recalls
}
CALL (l) {
    OPTIONAL MATCH (hgz:CommitmentCertificate)-[:FOR_LOT]->(l)
    WITH hgz ORDER BY hgz.number DESC LIMIT 5
    RETURN collect(CASE WHEN hgz IS NULL THEN null ELSE
        {number: hgz.number, issued_on: toString(hgz.issued_on), basis: hgz.basis} END) AS commitments
}
""" + _CREDIT + """RETURN p {.gtin, .name_zh, .name_en, .category, .standard, .variety, .storage_min_c, .storage_max_c,
         .storage_note} AS product,
       [(p)-[:OWNED_BY]->(o:Party) | o {.name_zh, .name_en}][0] AS brand,
       l {.lot, .production_date, .expiry_date, .status} AS lot,
       """ + _ITEM + """,
       [up IN ups | {key: up.node.key, depth: up.depth, status: up.node.status, lot: up.node.lot,
                     via: up.via, product_zh: up.product.name_zh, product_en: up.product.name_en}] AS upstream,
       events, inspections, certificates, commitments, lot_flags + item_flags AS flags, recalls, credit
"""
_PAGE_PROFILE: LiteralString = "PROFILE " + _PAGE  # the page query, profiled (tests prove it is bounded)


# What a cached page reads fresh, in the fewest index look-ups: each key on the way once (its status), the recall
# cases only of the nodes found recalled (from those nodes, not by their keys again), and the credit standing.
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
    RETURN collect(u) AS flagged_lots
}
CALL () {
    UNWIND $items AS k
    MATCH (u:Item {key: k}) WHERE u.status IN ['recalled', 'on_hold']
    RETURN collect(u) AS flagged_items
}
CALL (flagged_lots, flagged_items) {
    UNWIND [n IN flagged_lots + flagged_items WHERE n.status = 'recalled'] AS n
    MATCH (r:Recall)-[:AFFECTS]->(n) WHERE NOT coalesce(r.drill, false)
    WITH DISTINCT r ORDER BY r.opened_at DESC LIMIT 3
    RETURN collect(r {.recall_id, .reason, .level, .opened_at, .refund_contact, .status}) AS recalls
}
""" + _CREDIT + """RETURN l {.lot, .production_date, .expiry_date, .status} AS lot,
       """ + _ITEM + """,
       sold_at.epochMillis * 1000 + sold_at.microsecond % 1000 AS sold_at,
       gone_at.epochMillis * 1000 + gone_at.microsecond % 1000 AS gone_at,
       [n IN flagged_lots + flagged_items | [n.key, n.status]] AS flags, recalls, credit
"""


# What the resolver needs to answer a Digital Link without the page: which of the code's levels is registered (the
# product, its lot, the item of that lot) and the product's public master data with its own valid certificates. Three
# index lookups and the product's few edges: bounded whatever the lineage.
_CODE: LiteralString = """
OPTIONAL MATCH (p:Product {gtin: $gtin})
OPTIONAL MATCH (l:Lot {key: $lot_key})
OPTIONAL MATCH (i:Item {key: $item_key})
CALL (p) {
    OPTIONAL MATCH (c:Certificate)-[:CERTIFIES]->(p)
    OPTIONAL MATCH (issuer:Party {gln: c.issuer})
    WITH c, issuer WHERE c IS NOT NULL
    RETURN collect({
        key: c.key, type: c.type, number: c.number, name_zh: c.name_zh, valid_from: c.valid_from,
        valid_until: c.valid_until, issuer_zh: issuer.name_zh, issuer_en: issuer.name_en,
        subject_zh: p.name_zh, subject_en: p.name_en
    })[..20] AS certificates
}
RETURN p {.gtin, .name_zh, .name_en, .category, .standard} AS product,
       [(p)-[:OWNED_BY]->(o:Party) | o {.name_zh, .name_en}][0] AS brand,
       l IS NOT NULL AS lot_known, i IS NOT NULL AND i.lot = $lot AS item_known, certificates
"""


def code(graph: Graph, gtin: str, lot: str | None = None, serial: str | None = None, today: date | None = None,
         timeout: float | None = None) -> dict:
    """Say which levels of a scanned code are registered, with the product's public facts, in one round trip.

    Args:
        graph: the database.
        gtin: GTIN-14 from the code.
        lot: lot number (AI 10), if the code has one.
        serial: serial (AI 21), if the code has one.
        today: the date certificates are judged against (default: today, UTC+8).
        timeout: seconds Neo4j may spend on the read (None: the server's own limit).

    Returns:
        {"product": product with "brand" (None if the GTIN is not registered), "lot_known", "item_known",
         "certificates": the product's own certificates, valid ones first, each saying if it expired}.

    Raises:
        Unavailable: the database does not answer, or not within `timeout`.
    """
    today = today or datetime.now(CHINA).date()
    row = _read_once(graph, _CODE, timeout, gtin=gtin, lot=lot,
                     lot_key=lot_key(gtin, lot) if lot is not None else None,
                     item_key=item_key(gtin, serial) if serial is not None else None)[0]
    product = {**row["product"], "brand": row["brand"]} if row["product"] is not None else None
    return {"product": product, "lot_known": bool(row["lot_known"]), "item_known": bool(row["item_known"]),
            "certificates": timeline.certificates(row["certificates"], today)}


class PageCache:
    """A short per-process cache of what a scan page shows that only new events change (lineage, timeline,
    inspections, certificates), keyed by the scanned code.

    Statuses (recall, hold), the item's scan summary and its sale/consumption are never cached: a cache hit
    still reads them live in its one round trip, so a recall banner shows from the moment the case opens.
    """

    def __init__(self, seconds: float = 10.0, max_entries: int = 20000):
        """Keep entries at most ``seconds`` (0 turns the cache off), at most ``max_entries`` of them.

        Each entry lives between half and all of ``seconds``, drawn at random: codes first scanned together (a
        restart, a burst) would otherwise all expire together and be read again together, every ``seconds``, each
        read a lineage walk, all at once. (This spreads that work; it was not what slowed the pages in the episodes
        docs/benchmarks.md describes for 500 pages/s: those remained with it.)
        """
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

    def put(self, key: tuple, value: dict) -> dict:
        """Store ``value`` under ``key`` for the cache's lifetime and return what is stored: the entry it replaces
        when that entry holds the same facts (the same object, so HTML rendered from it stays valid; a refresh
        every few seconds finds the same lineage almost always), else ``value``."""
        if self.seconds <= 0:
            return value
        old = self._entries.get(key)
        if old is not None and old[1] == value:
            value = old[1]
        if len(self._entries) >= self.max_entries:
            now = time.monotonic()
            # Expired entries go first; if every entry is fresh the oldest half goes (dicts keep insertion order).
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries = dict(list(self._entries.items())[self.max_entries // 2:])
        self._entries[key] = (time.monotonic() + self.seconds * (0.5 + random.random() / 2), value)
        return value

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
    today = today or datetime.now(CHINA).date()
    key = (gtin, lot, serial)
    lot_entry = (gtin, lot, None)
    ikey = item_key(gtin, serial) if serial else None
    static = cache.get(key) if cache is not None else None
    if static is not None:
        live = _live(graph, gtin, lot_key(gtin, lot), ikey, static["upstream"], timeout)
        if live["lot"] is not None:
            return _facts(static, live, lot, today)
        cache.clear()  # the lot went away under the cache: answer from the database
    lot_static = cache.get(lot_entry, count=False) if cache is not None and serial else None
    keys = [u["key"] for u in lot_static["upstream"]] if lot_static else []
    row = _times(_read_once(
        graph,
        _PAGE,
        timeout,
        gtin=gtin,
        lot=lot,
        lot_key=lot_key(gtin, lot),
        item_key=ikey,
        lot_known=lot_static is not None,
        animals=sorted(timeline.ANIMAL_CATEGORIES),
        lots=[k for k in keys if key_kind(k) == "lot"],
        items=[k for k in keys if key_kind(k) == "item"],
    )[0])
    if row["lot"] is None:
        if row["product"] is None:
            raise NotFound(f"no product with GTIN {gtin}", field="gtin")
        raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
    item = row["item"]
    if serial and (item is None or item.get("lot") != lot):
        if lot_static is not None:
            live = {"lot": row["lot"], "item": item, "sold_at": None, "gone_at": None, "flags": row["flags"],
                    "recalls": row["recalls"], "credit": row["credit"]}
            return _facts(lot_static, live, lot, today)
        key = lot_entry  # the lot's facts, walked from the lot: kept for the lot, not for a made-up serial
    events = timeline.shopper_events(timeline.path_events(row["events"]),
                                     item_level=bool(item and item.get("lot") == lot))
    gone, sold = item_exits(row["events"], ikey if item else None)
    upstream = row["upstream"]
    public_events = [timeline.public_event(e) for e in events]
    static = {
        "product": {**row["product"], "brand": row["brand"]},
        "lot_row": row["lot"],
        "upstream": [{k: u[k] for k in ("key", "lot", "product_zh", "product_en")} for u in upstream],
        "origin": timeline.origin(events),
        "timeline": public_events,
        "summary": timeline.summary(public_events),
        "producer": timeline.producer(public_events),
        "processed_on": timeline.milling_day(public_events),
        "inspections": timeline.inspections(row["inspections"]),
        "certificates": row["certificates"],
        "commitments": row["commitments"],  # the scanned lot's 承诺达标合格证: number, date, basis (no contacts)
        "slaughter": timeline.slaughter(row["events"]),  # ear tags and quarantine certificates of a carcass lot
        "produced_on": timeline.production_day(row["events"], lot_key(gtin, lot)),
        "root_ages": timeline.root_ages(row["events"]),  # ginseng 年限 from the origin events' ILMD
    }
    if cache is not None:
        static = cache.put(key, static)
    flags = [[u["key"], u["status"]] for u in upstream if u["status"] in ("recalled", "on_hold")]
    live = {"lot": row["lot"], "item": item, "sold_at": sold, "gone_at": gone, "flags": flags,
            "recalls": row["recalls"], "credit": row["credit"]}
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
              "items": [], "animals": sorted(timeline.ANIMAL_CATEGORIES)}
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
            # The answers hold maps, lists and values, never nodes: a record's values need no recursive export.
            return [dict(zip(r.keys(), r, strict=True)) for r in session.run(Query(cypher, timeout=timeout), params)]
    except Exception as exc:  # noqa: BLE001 - translated below, re-raised otherwise
        raise translate(exc) from exc


def _live(graph: Graph, gtin: str, lkey: str, ikey: str | None, upstream: list[dict],
          timeout: float | None = None) -> dict:
    """What a cached page must read fresh: statuses on the way, the lot, the item's summary, sale, consumption,
    and the brand owner's and maker's credit standing."""
    keys = [u["key"] for u in upstream]
    row = _read_once(
        graph, _LIVE, timeout, gtin=gtin, lot_key=lkey, item_key=ikey,
        lots=[k for k in keys if key_kind(k) == "lot"], items=[k for k in keys if key_kind(k) == "item"],
        sold_disp=sorted(SOLD_DISPOSITIONS), sold_steps=sorted(SOLD_STEPS),
        gone_disp=sorted(GONE_DISPOSITIONS), gone_steps=sorted(GONE_STEPS),
    )[0]
    item = _times(row)["item"]
    return {"lot": row["lot"], "item": item, "sold_at": utc_micros(row["sold_at"]),
            "gone_at": utc_micros(row["gone_at"]), "flags": row["flags"], "recalls": row["recalls"],
            "credit": row["credit"]}


def _times(row: dict) -> dict:
    """Make the times a page or live read answers as microseconds (the item's, the events') datetimes, in place."""
    item = row.get("item")
    if item is not None:
        for k in _ITEM_TIMES:
            item[k] = utc_micros(item[k])
    for e in row.get("events") or ():
        e["time"] = utc_micros(e["time"])
    return row


def _facts(static: dict, live: dict, lot: str, today: date) -> dict:
    """Join the (possibly cached) lineage facts with the live statuses and item summary into the page's facts."""
    item = live["item"]
    status = dict(live["flags"])
    recalled = [timeline.lot_ref(u) for u in static["upstream"] if status.get(u["key"]) == "recalled"]
    held = [timeline.lot_ref(u) for u in static["upstream"] if status.get(u["key"]) == "on_hold"]
    lot_row = live["lot"]
    expiry = iso_date(lot_row.get("expiry_date"))
    produced = iso_date(lot_row.get("production_date")) or static.get("produced_on")
    return {
        "product": static["product"],
        "lot": {"lot": lot_row["lot"], "production_date": produced,
                "expiry_date": expiry, "expired": bool(expiry and expiry < today.isoformat()),
                "status": lot_row.get("status") or "active"},
        "item": {"serial": item["serial"], "status": item.get("status") or "active",
                 "scan_count": item.get("scan_count") or 0,
                 "first_scan_at": iso_utc(item.get("first_scan_at"))} if item else None,
        "item_lot_matches": bool(item and item.get("lot") == lot),
        "recall": {"recalled": bool(recalled) or bool(item and item.get("status") == "recalled"), "lots": recalled},
        "on_hold": {"on_hold": bool(held), "lots": held},
        "origin": static["origin"],
        "timeline": static["timeline"],
        "summary": static["summary"],
        "producer": static["producer"],
        "processed_on": static.get("processed_on"),
        "inspections": static["inspections"],
        "certificates": timeline.certificates(static["certificates"], today),
        "commitments": static["commitments"],
        "slaughter": static.get("slaughter"),
        "storage": timeline.storage(static["product"]),
        "root_ages": static.get("root_ages") or [],
        "shelf_life_days": timeline.shelf_life_days(produced, expiry),
        "recall_cases": [timeline.recall_case(r) for r in live.get("recalls") or []],
        "credit_warnings": live.get("credit") or [],  # brand owner or maker on the watch list or blacklist
        "sold_on": timeline.local_day(live["sold_at"]) if item else None,
        "copy_state": {**summary_of(item), "sold_at": live["sold_at"], "gone_at": live["gone_at"]} if item else None,
    }
