"""The scan page's short lineage cache: the same facts as without it, and statuses are never stale."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from graph import authenticity, recalls, scan, scan_log
from graph.lots import lot_key
from gs1.timezones import CHINA
from tests.scan import arrange


def test_a_cached_page_has_the_same_facts_as_a_fresh_one(graph, chain):
    cache = scan.PageCache(60)
    for serial in (None, chain.serials[0], chain.sold_serial):
        fresh = scan.page(graph, chain.box_gtin, chain.box_lot, serial)
        scan.page(graph, chain.box_gtin, chain.box_lot, serial, cache=cache)
        assert scan.page(graph, chain.box_gtin, chain.box_lot, serial, cache=cache) == fresh
    assert cache.hits == 3 and cache.misses == 3


def test_a_cached_page_reads_a_scanned_items_summary_as_the_fresh_page_does(graph, secret):
    # A cached page reads the item's scan summary with its own live read (its times come as microseconds, not as
    # driver temporals): the facts, copy state included, must be those of the full read, to the microsecond.
    c = arrange.ginseng_chain(graph, secret, boxes=1)
    start = datetime.now(UTC).replace(microsecond=123456) - timedelta(minutes=5)
    # the box is sold (the chain's last box); then more clients than a sold item ever has: a suspected copy
    nets = authenticity.MAX_CLIENTS_AFTER_SALE + 1
    batch = [{"scan_id": str(uuid.uuid4()), "time": start + timedelta(seconds=n, microseconds=n * 7),
              "gtin": c.box_gtin, "lot": c.box_lot, "serial": c.sold_serial, "verdict": "genuine",
              "fp": f"fp-{uuid.uuid4().hex[:8]}",
              "net": f"net-{n}", "lat": 43.88 if n < 2 else None, "lon": 125.32 if n < 2 else None,
              "region": "220100" if n < 2 else None} for n in range(nets)]
    assert scan_log.record_scans(graph, batch) == nets
    fresh = scan.page(graph, c.box_gtin, c.box_lot, c.sold_serial)
    state = fresh["copy_state"]
    assert state["suspect_reason"] == "many_clients_after_sale" and state["scan_count"] == nets
    assert len(state["geo_hints"]) == 2
    assert state["first_scan_at"] == batch[0]["time"] and state["last_scan_at"] == batch[-1]["time"]
    assert state["sold_at"] is not None and fresh["item"]["first_scan_at"] == batch[0]["time"].isoformat()[:-6] + "Z"
    cache = scan.PageCache(60)
    scan.page(graph, c.box_gtin, c.box_lot, c.sold_serial, cache=cache)
    assert scan.page(graph, c.box_gtin, c.box_lot, c.sold_serial, cache=cache) == fresh
    assert cache.hits == 1


def test_a_recall_shows_on_a_cached_page_from_the_moment_it_opens(graph, secret):
    c = arrange.ginseng_chain(graph, secret, boxes=1)
    cache = scan.PageCache(60)
    before = scan.page(graph, c.box_gtin, c.box_lot, c.serials[0], cache=cache)
    assert before["recall"]["recalled"] is False
    case = recalls.open_case(graph, [lot_key(c.fresh_gtin, c.farm_lot)], 1, "cache test")
    after = scan.page(graph, c.box_gtin, c.box_lot, c.serials[0], cache=cache)
    assert cache.hits == 1
    assert after["recall"]["recalled"] is True
    assert {r["lot"] for r in after["recall"]["lots"]} >= {c.farm_lot, c.box_lot}
    # the case itself (what to do, since when) comes with the cached page's live read too
    assert [(r["recall_id"], r["reason"], r["level"], r["open"]) for r in after["recall_cases"]] == [
        (case["recall_id"], "cache test", 1, True)]


def test_a_hold_shows_on_a_cached_lot_page_at_once_and_goes_with_the_release(graph, secret):
    c = arrange.ginseng_chain(graph, secret, boxes=1)
    cache = scan.PageCache(60)
    assert scan.page(graph, c.box_gtin, c.box_lot, cache=cache)["on_hold"]["on_hold"] is False
    arrange.set_status(graph, c.fresh_gtin, c.farm_lot, "on_hold")
    held = scan.page(graph, c.box_gtin, c.box_lot, cache=cache)
    assert held["on_hold"] == {"on_hold": True, "lots": [{"lot": c.farm_lot, "name_zh": "鲜人参",
                                                           "name_en": "Fresh ginseng root"}]}
    arrange.set_status(graph, c.fresh_gtin, c.farm_lot, "active")
    assert scan.page(graph, c.box_gtin, c.box_lot, cache=cache)["on_hold"]["on_hold"] is False
    assert cache.hits == 2


def test_a_sale_recorded_after_caching_counts_for_copy_detection(graph, chain):
    cache = scan.PageCache(60)
    first = scan.page(graph, chain.box_gtin, chain.box_lot, chain.sold_serial, cache=cache)
    again = scan.page(graph, chain.box_gtin, chain.box_lot, chain.sold_serial, cache=cache)
    assert again["copy_state"]["sold_at"] == first["copy_state"]["sold_at"] is not None


def test_a_refresh_that_finds_the_same_facts_keeps_the_cached_object(graph, chain):
    # The page's HTML is reused while its lineage facts are the same object: a refresh that reads the same facts
    # must hand back the entry it replaces, and one that reads new facts must not.
    cache = scan.PageCache(0.05)
    first = scan.page(graph, chain.box_gtin, chain.box_lot, cache=cache)
    entry = cache.get((chain.box_gtin, chain.box_lot, None))
    time.sleep(0.1)  # the entry expires; the next page reads the lineage again
    again = scan.page(graph, chain.box_gtin, chain.box_lot, cache=cache)
    assert again == first and cache.misses == 2
    assert cache.get((chain.box_gtin, chain.box_lot, None)) is entry
    assert again["timeline"] is first["timeline"]
    changed = {**entry, "origin": []}
    assert cache.put((chain.box_gtin, chain.box_lot, None), changed) is changed


def test_codes_cached_together_do_not_expire_together():
    # A restart or a burst caches many codes at once; read again all at once every few seconds, their lineage walks
    # stalled a worker. Each entry lives between half and all of the cache's seconds.
    cache = scan.PageCache(10)
    start = time.monotonic()
    for k in range(200):
        cache.put(("06901234000000", f"L{k}", None), {"k": k})
    lives = sorted(expires - start for expires, _ in cache._entries.values())
    assert 5.0 <= lives[0] and lives[-1] <= 10.1
    assert lives[-1] - lives[0] > 3.0


def test_a_served_item_page_counts_each_new_shopper_while_the_rest_of_it_is_reused(client, app, graph, secret,
                                                                                  flush, monkeypatch):
    # Served pages reuse their HTML while the facts are the same; an item's scan count changes with every new
    # shopper's scan, so that one line is written per request (resolver.scan_line) and must never be stale.
    monkeypatch.setitem(app.extensions, "scan_page_cache", scan.PageCache(60))
    c = arrange.ginseng_chain(graph, secret, boxes=1)
    path = f"/01/{c.box_gtin}/10/{c.box_lot}/21/{c.serials[0]}"
    lines = []
    for k in range(3):
        html = client.get(path, headers={"User-Agent": f"shopper-{k}"}).get_data(as_text=True)
        assert "tg:scan-line" not in html
        lines.append(html.split('id="verdict"')[1].split("</section>")[0])
        flush()
    assert "这是本码的首次查询。" in lines[0]
    today = datetime.now(CHINA).date().isoformat()  # the first scan's day in China, not in UTC
    assert "本码已被查询 2 次 · 首次查询" in lines[1] and "本码已被查询 3 次 · 首次查询" in lines[2]
    assert all(f">{today}</time>" in line for line in lines[1:])
    english = client.get(path + "?lang=en", headers={"User-Agent": "shopper-3"}).get_data(as_text=True)
    assert "Scanned 4 times · First scan" in english


def test_an_event_time_keeps_its_microseconds_on_the_page(graph, secret):
    # The page read answers event times as microseconds since the epoch: a sale recorded to the microsecond is the
    # sale the copy rules and the timeline see, read against what was captured, not against the page's own read.
    c = arrange.ginseng_chain(graph, secret, boxes=2)
    shop = {"id": f"{arrange.DL}/414/{c.parties['shop']['gln']}"}
    arrange.capture(graph, [{
        "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": "2026-11-03T10:00:00.654321+08:00",
        "eventTimeZoneOffset": "+08:00", "bizStep": "retail_selling", "disposition": "retail_sold",
        "action": "OBSERVE", "readPoint": shop, "bizLocation": shop,
        "epcList": [f"{arrange.DL}/01/{c.box_gtin}/10/{c.box_lot}/21/{c.serials[0]}"]}])
    fresh = scan.page(graph, c.box_gtin, c.box_lot, c.serials[0])
    assert fresh["copy_state"]["sold_at"] == datetime(2026, 11, 3, 2, 0, 0, 654321, tzinfo=UTC)
    assert "2026-11-03T10:00:00.654321+08:00" in [e["time"] for e in fresh["timeline"]]
