"""The scan log: consumer scans recorded in batches, each item's scan summary and copy flag kept up to date with
them, and the report of a product's suspected copies.

What a scan reveals (repeats, copies) is decided by graph/authenticity.py; this module reads and writes around it.
"""

from __future__ import annotations

from datetime import datetime
from typing import LiteralString

from neo4j import ManagedTransaction

from graph.authenticity import (
    GONE_DISPOSITIONS,
    GONE_STEPS,
    REPEAT_WINDOW,
    SOLD_DISPOSITIONS,
    SOLD_STEPS,
    assess,
    stored_summary,
    summary_of,
)
from graph.driver import Graph, tx_rows
from graph.errors import NotFound
from graph.values import iso_utc, micros, native, utc_micros
from gs1.identifiers import item_key, lot_key


class Recent:
    """The last counted scan of each client and code that this process wrote or read back (a pure dict, pruned).

    A stored scan stays stored, so a time here proves a later scan by the same client of the same code within
    REPEAT_WINDOW a repeat, whatever another process wrote since: such a batch needs no look-up in the store (the
    client's recent scans by the (fp, time) index) and, when all its scans are repeats, no
    transaction at all. Anything it cannot prove is asked of the store, as before.
    """

    def __init__(self, max_entries: int = 50000):
        """Keep at most ``max_entries`` codes; the oldest go first once it is full."""
        self.max_entries = max_entries
        self._last: dict[tuple, datetime] = {}

    def proves_repeat(self, code: tuple, latest: datetime) -> bool:
        """Whether a scan of ``code`` at ``latest`` (and so every earlier one) is a repeat by what this holds."""
        seen = self._last.get(code)
        return seen is not None and latest - seen < REPEAT_WINDOW

    def note(self, code: tuple, time: datetime) -> None:
        """Remember a stored scan of ``code`` at ``time``."""
        seen = self._last.get(code)
        if seen is None or time > seen:
            if seen is None and len(self._last) >= self.max_entries:
                cutoff = max(self._last.values()) - REPEAT_WINDOW
                self._last = {k: t for k, t in self._last.items() if t > cutoff}
                if len(self._last) >= self.max_entries:
                    self._last = dict(list(self._last.items())[self.max_entries // 2:])
            self._last[code] = time


def _code(scan: dict) -> tuple:
    return scan["fp"], scan["gtin"], scan["lot"], scan.get("serial") or ""


def record_scans(graph: Graph, scans: list[dict], recent: Recent | None = None) -> int:
    """Store a batch of scans and update the scanned items' summaries and copy flags, in one transaction.

    A scan of a code by the client that scanned it less than REPEAT_WINDOW before (a reload, a language switch) is
    not stored and changes nothing; its dict gets `repeat: True`.

    Args:
        graph: the database.
        scans: rows with scan_id, time (UTC datetime), gtin, lot, serial, verdict, fp, net (default: fp), lat,
            lon, region.
        recent: this process's memory of stored scans (the scan writer keeps one): repeats it proves are not
            looked up in the store; it learns what the batch stored and read.

    Returns:
        How many scans were new (a retried batch does not count twice, a repeat does not count).

    Raises:
        Unavailable: the database does not answer.
    """
    if not scans:
        return 0
    known: set[tuple] = set()
    if recent is not None:
        latest: dict[tuple, datetime] = {}
        for s in scans:
            code = _code(s)
            latest[code] = max(latest.get(code, s["time"]), s["time"])
        known = {code for code, t in latest.items() if recent.proves_repeat(code, t)}
        if len(known) == len(latest):  # every scan a repeat: nothing to store, no transaction
            for s in scans:
                s["repeat"] = True
            return 0
    learned: dict[tuple, datetime] = {}
    n = graph.write(_record_scans, scans, known, learned)
    if recent is not None:  # only after the commit: what it holds must be in the store
        for code, t in learned.items():
            recent.note(code, t)
    return n


# Times cross the wire as microseconds since the epoch (graph/values.py utc_micros), not as driver temporals: the
# driver builds, converts and packs a temporal value in Python for each, which was half the writer's own CPU (two per
# scan: its time and its look-up's start). They are stored as the same UTC datetimes as before.
_LAST_BY_CLIENT: LiteralString = """
UNWIND $probes AS p
MATCH (s:Scan {fp: p.fp})
WHERE s.time >= datetime({epochSeconds: p.since / 1000000, nanosecond: p.since % 1000000 * 1000})
  AND s.gtin = p.gtin AND s.lot = p.lot AND coalesce(s.serial, '') = p.serial
WITH p, max(s.time) AS last
RETURN p.fp AS fp, p.gtin AS gtin, p.lot AS lot, p.serial AS serial,
       last.epochMillis * 1000 + last.microsecond % 1000 AS last
"""


def _record_scans(tx: ManagedTransaction, scans: list[dict], known: set[tuple], learned: dict) -> int:
    learned.clear()  # a retried transaction starts again
    for s in scans:
        if _code(s) in known:
            s["repeat"] = True
    scans = [s for s in scans if _code(s) not in known]
    ids = [s["scan_id"] for s in scans]
    seen = set(tx_rows(tx, "UNWIND $ids AS id MATCH (s:Scan {scan_id: id}) RETURN collect(id) AS ids",
                       ids=ids)[0]["ids"])
    fresh = sorted((s for s in scans if s["scan_id"] not in seen), key=lambda s: s["time"])
    if not fresh:
        return 0
    # The last counted scan of each client and code, from the store (the fp index) and then from this batch.
    codes = {(s["fp"], s["gtin"], s["lot"], s.get("serial") or ""): s["time"] for s in reversed(fresh)}
    last = {(r["fp"], r["gtin"], r["lot"], r["serial"]): utc_micros(r["last"]) for r in tx_rows(
        tx, _LAST_BY_CLIENT,
        probes=[{"fp": k[0], "gtin": k[1], "lot": k[2], "serial": k[3], "since": micros(t - REPEAT_WINDOW)}
                for k, t in codes.items()]) if r["last"] is not None}
    learned.update(last)
    counted = []
    for s in fresh:
        code = _code(s)
        s["repeat"] = code in last and s["time"] - last[code] < REPEAT_WINDOW
        if not s["repeat"]:
            last[code] = learned[code] = s["time"]
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
        states[row["k"]] = {**summary_of(row["state"]), "sold_at": native(row["sold_at"]),
                            "gone_at": native(row["gone_at"])}
    for s in fresh:
        state = states.get(s["item_key"]) if s["item_key"] else None
        if state is None:
            s["item_key"] = None  # an unregistered serial is kept on the Scan, linked to its lot only
            continue
        states[s["item_key"]], reason = assess(state, s)
        if reason and s["verdict"] == "genuine":
            s["verdict"] = "suspected_copy"
    items = [{"key": k, "props": stored_summary(st)} for k, st in states.items()]
    tx_rows(
        tx,
        """
        UNWIND $scans AS s
        CREATE (x:Scan {scan_id: s.scan_id, gtin: s.gtin, lot: s.lot, serial: s.serial,
                        time: datetime({epochSeconds: s.time / 1000000, nanosecond: s.time % 1000000 * 1000}),
                        verdict: s.verdict, fp: s.fp, net: s.net, lat: s.lat, lon: s.lon, region: s.region})
        WITH x, s
        OPTIONAL MATCH (l:Lot {key: s.lot_key})
        OPTIONAL MATCH (i:Item {key: s.item_key})
        FOREACH (_ IN CASE WHEN l IS NULL THEN [] ELSE [1] END | CREATE (x)-[:SCANNED]->(l))
        FOREACH (_ IN CASE WHEN i IS NULL THEN [] ELSE [1] END | CREATE (x)-[:OF_ITEM]->(i))
        """,
        scans=[{**{k: s.get(k) for k in ("scan_id", "gtin", "lot", "serial", "verdict", "fp", "net", "lat", "lon",
                                         "region", "lot_key", "item_key")}, "time": micros(s["time"])} for s in fresh],
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
    items = [{**i, "suspect_since": iso_utc(i["suspect_since"]), "first_scan_at": iso_utc(i["first_scan_at"]),
              "last_scan_at": iso_utc(i["last_scan_at"]),
              "places": [{**pl, "time": iso_utc(pl["time"])} for pl in i["places"]]} for i in rows[0]["items"]]
    forged = [{**f, "first_scan_at": iso_utc(f["first_scan_at"]), "last_scan_at": iso_utc(f["last_scan_at"])}
              for f in rows[0]["forged"]]
    return {"gtin": gtin, "suspected_items": items, "forged_serials": forged}
