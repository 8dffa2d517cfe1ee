"""A popular lot's page costs what a new lot's does: the scans of a lot never add to its page's work.

A lot's inspections are found by expanding its OF_LOT relationships. Scans once linked to their lot by OF_LOT too,
so every page, trace and workbench read of a lot walked each scan the lot ever had: on the demo store after 20,000
bench scans a page read 22,181 db hits where it read 6,537 before them. Scans now link by SCANNED (V0024).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph import backup, migrate, scan, scan_log, values
from gs1.identifiers import lot_key

JSON = {"Accept": "application/json"}
SCANS = 2000
V0024 = Path(migrate.MIGRATIONS) / "V0024__scan_lot_link.cypher"


def _scans(gtin: str, lot: str, n: int) -> list[dict]:
    """``n`` lot-level scans of one code by ``n`` different phones over the last hours."""
    now = datetime.now(UTC)
    return [{"scan_id": uuid.uuid4().hex, "time": now - timedelta(seconds=5 * k), "gtin": gtin, "lot": lot,
             "serial": None, "verdict": "genuine", "fp": uuid.uuid4().hex, "net": None, "lat": None, "lon": None,
             "region": None} for k in range(n)]


def _links(graph, gtin: str, lot: str) -> dict:
    row = graph.query(
        "MATCH (l:Lot {key: $key}) RETURN COUNT { (l)<-[:SCANNED]-(:Scan) } AS scanned, "
        "COUNT { (l)<-[:OF_LOT]-(:Scan) } AS of_lot, COUNT { (l)<-[:OF_LOT]-(:Inspection) } AS inspections",
        read=True, key=lot_key(gtin, lot))
    return row[0]


def test_two_thousand_scans_add_nothing_to_a_lot_page(client, graph, chain):
    before = scan.page_profile(graph, chain.box_gtin, chain.box_lot)["db_hits"]
    for _ in range(SCANS // 500):
        assert scan_log.record_scans(graph, _scans(chain.box_gtin, chain.box_lot, 500)) == 500
    assert _links(graph, chain.box_gtin, chain.box_lot) == {"scanned": SCANS, "of_lot": 0, "inspections": 1}
    after = scan.page_profile(graph, chain.box_gtin, chain.box_lot)["db_hits"]
    # The same plan on the same lineage: a few hits of slack for the item summaries' properties, never one per scan.
    assert after - before < 50, (before, after)
    facts = client.get(f"/01/{chain.box_gtin}/10/{chain.box_lot}", headers=JSON).json
    own = [i["report_no"] for i in facts["inspections"] if i["subject"]["lot"] == chain.box_lot]
    assert own == [f"BAD-{chain.box_lot}"]


def test_the_migration_moves_old_scan_links_and_leaves_inspections(graph, chain):
    gtin, lot = chain.fresh_gtin, chain.farm_lot
    key = lot_key(gtin, lot)
    # Scans as a store from before V0024 holds them: linked to their lot by OF_LOT.
    graph.query("MATCH (l:Lot {key: $key}) UNWIND range(1, 3) AS k CREATE (:Scan {scan_id: $tag + k})-[:OF_LOT]->(l)",
                key=key, tag=uuid.uuid4().hex)
    inspections = _links(graph, gtin, lot)["inspections"]
    assert _links(graph, gtin, lot)["of_lot"] == 3
    for statement in migrate._statements(V0024.read_text()):
        graph.run_autocommit(statement)
    assert _links(graph, gtin, lot) == {"scanned": 3, "of_lot": 0, "inspections": inspections}
    for statement in migrate._statements(V0024.read_text()):  # a re-run finds nothing left to move
        graph.run_autocommit(statement)
    assert _links(graph, gtin, lot) == {"scanned": 3, "of_lot": 0, "inspections": inspections}


def test_a_backup_from_before_restores_its_scan_links_as_scanned(graph):
    # A backup written before V0024 holds (Scan)-[:OF_LOT]->(Lot); restored, the link is SCANNED, and an
    # inspection's OF_LOT stays OF_LOT.
    tag = uuid.uuid4().hex
    refs = {"scan": f"Scan|{tag}", "lot": f"Lot|lot:{tag}", "ins": f"Inspection|{tag}"}
    graph.query("CREATE (:Scan:RestoreRef {scan_id: $tag, ref: $scan}), "
                "(:Lot:RestoreRef {key: 'lot:' + $tag, ref: $lot}), (:Inspection:RestoreRef {key: $tag, ref: $ins})",
                tag=tag, **refs)
    rows = [{"type": "OF_LOT", "a": refs["scan"], "b": refs["lot"], "props": {}},
            {"type": "OF_LOT", "a": refs["ins"], "b": refs["lot"], "props": {}}]
    try:
        assert backup.restore_relationships(graph, rows) == 2
    finally:  # a restore's own references go with it
        graph.query("MATCH (n:RestoreRef) WHERE n.ref IN $refs REMOVE n:RestoreRef", refs=list(refs.values()))
    found = graph.query("MATCH (l:Lot {key: 'lot:' + $tag})<-[r]-(n) RETURN labels(n)[0] AS label, type(r) AS type "
                        "ORDER BY label", read=True, tag=tag)
    assert [(r["label"], r["type"]) for r in found] == [("Inspection", "OF_LOT"), ("Scan", "SCANNED")]


def _lookup_hits(graph, fp: str, gtin: str, lot: str) -> int:
    """Database hits of the scan writer's look-up of one client's last scan of one code (PROFILE)."""
    probe = {"fp": fp, "gtin": gtin, "lot": lot, "serial": "",
             "since": values.micros(datetime.now(UTC) - timedelta(minutes=30))}
    with graph.driver.session(database=graph.database) as session:
        summary = session.run("PROFILE " + scan_log._LAST_BY_CLIENT, probes=[probe]).consume()
    hits, stack = 0, [summary.profile]
    while stack:
        op = stack.pop()
        hits += op.get("dbHits") or 0
        stack.extend(op.get("children") or [])
    return hits


def test_a_client_with_months_of_scans_costs_the_writer_its_last_half_hour_only(graph, chain):
    # A shop's Wi-Fi or an office proxy is one client (fp) to us, for months: the writer asks whether this client
    # scanned this code in the last 30 minutes, which must not read the client's older scans.
    fp = uuid.uuid4().hex
    now = datetime.now(UTC)
    old = [{"scan_id": uuid.uuid4().hex, "time": now - timedelta(days=1, minutes=k), "gtin": chain.box_gtin,
            "lot": chain.box_lot, "serial": f"X{k}", "verdict": "unknown_code", "fp": fp, "net": None, "lat": None,
            "lon": None, "region": None} for k in range(1500)]
    before = _lookup_hits(graph, fp, chain.box_gtin, chain.box_lot)
    for start in range(0, len(old), 500):
        scan_log.record_scans(graph, old[start:start + 500])
    after = _lookup_hits(graph, fp, chain.box_gtin, chain.box_lot)
    assert after - before < 20, (before, after)
    # and the look-up still finds a scan of the window: a reload within it is a repeat, not a second scan
    first = _scans(chain.box_gtin, chain.box_lot, 1)[0] | {"fp": fp, "time": now - timedelta(minutes=5)}
    assert scan_log.record_scans(graph, [first]) == 1
    again = first | {"scan_id": uuid.uuid4().hex, "time": now}
    assert scan_log.record_scans(graph, [again]) == 0 and again["repeat"] is True


def test_the_writer_stores_a_scans_time_to_the_microsecond_and_asks_the_store_for_its_window(graph, chain):
    # The writer sends times as microseconds and Neo4j makes them datetimes: the stored time is the scan's own, in
    # UTC, and the store's look-up of a client's last scan spans REPEAT_WINDOW exactly (no in-process memory here).
    fp, now = uuid.uuid4().hex, datetime.now(UTC)
    first = _scans(chain.box_gtin, chain.box_lot, 1)[0] | {"fp": fp, "time": now - timedelta(minutes=40,
                                                                                          microseconds=-987)}
    assert scan_log.record_scans(graph, [first]) == 1
    stored = graph.query("MATCH (s:Scan {scan_id: $id}) RETURN s.time AS t", read=True, id=first["scan_id"])[0]["t"]
    assert values.native(stored) == first["time"] and values.native(stored).utcoffset() == timedelta(0)
    later = first | {"scan_id": uuid.uuid4().hex, "time": first["time"] + timedelta(minutes=31)}
    assert scan_log.record_scans(graph, [later]) == 1 and later["repeat"] is False  # outside the first's window
    reload = first | {"scan_id": uuid.uuid4().hex, "time": later["time"] + timedelta(minutes=29)}
    assert scan_log.record_scans(graph, [reload]) == 0 and reload["repeat"] is True  # inside the later one's
