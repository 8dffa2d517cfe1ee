"""The scan writer's memory of stored scans (graph/scan_log.Recent) against the real store: a reload it proves is
stored nowhere, and a scan after the window is counted again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from graph import scan_log
from tests.scan import arrange


def test_a_reload_the_memory_proves_stores_nothing_and_a_scan_after_the_window_counts(graph, secret):
    c = arrange.ginseng_chain(graph, secret, boxes=1)
    fp, start = f"fp-{uuid.uuid4().hex[:12]}", datetime.now(UTC)

    def scan(minutes: float) -> dict:
        return {"scan_id": str(uuid.uuid4()), "time": start + timedelta(minutes=minutes), "gtin": c.box_gtin,
                "lot": c.box_lot, "serial": c.serials[0], "verdict": "genuine", "fp": fp, "lat": None, "lon": None,
                "region": None}

    recent = scan_log.Recent()
    assert scan_log.record_scans(graph, [scan(0)], recent) == 1
    reload = scan(1)
    assert scan_log.record_scans(graph, [reload], recent) == 0 and reload["repeat"] is True
    assert scan_log.record_scans(graph, [scan(31)], recent) == 1  # 31 minutes after the last stored one
    stored = graph.query("MATCH (s:Scan {fp: $fp}) RETURN count(s) AS n", read=True, fp=fp)[0]["n"]
    assert stored == 2
    # another process's memory knows nothing: the store says the same
    assert scan_log.record_scans(graph, [scan(32)], scan_log.Recent()) == 0
