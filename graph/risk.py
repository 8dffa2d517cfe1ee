"""Risk-warning rules over the record (风险预警): what runs when a failed inspection is written, and the sweeps.

When data arrives (inside the transaction that records a failed inspection, graph/quality.record_inspection, so
the inspection, its inspecting event, the holds and the alerts commit together or not at all):
- the lot and every lot made from it downstream (through transformations, items and packing, any depth) are put on
  hold (a recalled lot stays recalled: its recall case governs it), and an ``inspection_failed`` alert lists them;
- each failed hazard is counted in the inspection's county over the 30 days ending on its date: at N failures
  (default 3) a ``hazard_cluster`` alert is raised, once per county, hazard and 30-day period.

Sweeps (`flask alerts sweep`, run by a timer; each idempotent through the alerts' dedupe keys):
- quality certificates (graph/quality.record_certificate) whose validity ends within 30 days;
- lots moved or sold after the certificate on them (the lot's own, or its product's) expired;
- bursts of counterfeit or impossible scans of one product (N in 24 hours).
The thresholds come from graph/alert_rules.py (pure) and can be passed in (app config ALERT_RULES).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import LiteralString

from neo4j import ManagedTransaction

from graph.alert_rules import (
    BURST_VERDICTS,
    CERTIFICATE_WARNING_DAYS,
    HAZARD_CLUSTER_DAYS,
    HAZARD_CLUSTER_N,
    SCAN_BURST_HOURS,
    SCAN_BURST_N,
    expired_on,
    expiring,
    hazard_cluster_fires,
    hazard_cluster_key,
    scan_burst_fires,
)
from graph.alerts import open_alert, open_alerts
from graph.driver import Graph, tx_rows
from gs1.timezones import CHINA

# Every lot made from the failed lot, and the lot itself, held unless recalled; what each was before.
_HOLD_DOWNSTREAM: LiteralString = """
MATCH (s:Lot {key: $key})
MATCH (s)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..]->(d:Lot)
WITH DISTINCT d
WITH d, coalesce(d.status, 'active') AS before
SET d.status = CASE WHEN before = 'active' THEN 'on_hold' ELSE d.status END,
    d.status_changed_at = CASE WHEN before = 'active' THEN datetime() ELSE d.status_changed_at END,
    d.hold_reason = CASE WHEN before = 'active' THEN $reason ELSE d.hold_reason END
RETURN d.key AS key, before, d.owner_gln AS owner_gln
ORDER BY key
"""

_HAZARD_FAILURES: LiteralString = """
UNWIND $hazards AS h
MATCH (i:Inspection {county_code: $county, verdict: 'fail'})
WHERE i.date >= $start AND i.date <= $end AND h IN i.failed_hazards
MATCH (i)-[:OF_LOT]->(l:Lot)
WITH h, i, l ORDER BY i.date, i.key
RETURN h AS hazard, collect(i.date) AS dates, collect(i.key) AS inspections, collect(l.key) AS lots
"""


def on_failed_inspection(tx: ManagedTransaction, inspection: dict, *, cluster_n: int = HAZARD_CLUSTER_N,
                         cluster_days: int = HAZARD_CLUSTER_DAYS, now: datetime | None = None) -> dict:
    """Hold the failed lot and its downstream lots and raise the alerts a failed inspection calls for.

    Runs inside the transaction that records the inspection (the inspection itself is visible to it).

    Args:
        tx: the recording transaction.
        inspection: key, report_no, lab_gln, lot_key, date (ISO), county_code, region_code, failed_hazards.
        cluster_n: failures of one hazard in one county that make a cluster.
        cluster_days: the cluster's window in days (ending on the inspection's date).
        now: the raising instant (tests); the current time otherwise.

    Returns:
        {"held": [keys newly held], "already_held": [...], "recalled": [...], "ended": [lots in another end
        state, e.g. destroyed], "alerts": [alert ids]}.
    """
    reason = f"inspection failed: report {inspection['report_no']}"
    rows = tx_rows(tx, _HOLD_DOWNSTREAM, key=inspection["lot_key"], reason=reason)
    held = [r["key"] for r in rows if r["before"] == "active"]
    already = [r["key"] for r in rows if r["before"] == "on_hold"]
    recalled = [r["key"] for r in rows if r["before"] == "recalled"]
    # destroyed, consumed and other end states: nothing left to hold, listed for the record
    ended = [r["key"] for r in rows if r["before"] not in ("active", "on_hold", "recalled")]
    owners = sorted({r["owner_gln"] for r in rows if r["owner_gln"]})
    hazards = inspection.get("failed_hazards") or []
    alerts = [open_alert(
        tx, kind="inspection_failed", subject_keys=[inspection["lot_key"], *[r["key"] for r in rows]],
        summary=f"{reason}{' (' + ', '.join(hazards) + ')' if hazards else ''}: {len(held)} lots put on hold, "
                f"{len(already)} held already, {len(recalled)} recalled, of {len(rows)} from {inspection['lot_key']}",
        details={"inspection": inspection["key"], "report_no": inspection["report_no"],
                 "lab_gln": inspection["lab_gln"], "date": inspection["date"], "lot": inspection["lot_key"],
                 "hazards": hazards, "held": held, "already_held": already, "recalled": recalled, "ended": ended,
                 "affected_count": len(rows), "owners": {r["key"]: r["owner_gln"] for r in rows}},
        region=inspection.get("region_code"), dedupe_key=f"inspection_failed:{inspection['key']}",
        parties=owners, now=now)["alert_id"]]
    county = inspection.get("county_code")
    if county and hazards:
        day = date.fromisoformat(inspection["date"])
        for row in tx_rows(tx, _HAZARD_FAILURES, hazards=hazards, county=county,
                           start=day - timedelta(days=cluster_days - 1), end=day):
            dates = [d.to_native() for d in row["dates"]]
            if not hazard_cluster_fires(dates, day, cluster_n, cluster_days):
                continue
            alerts.append(open_alert(
                tx, kind="hazard_cluster", subject_keys=list(dict.fromkeys(row["lots"])),
                summary=f"{row['hazard']} failed {len(dates)} times in county {county} within {cluster_days} days",
                details={"hazard": row["hazard"], "county": county, "failures": len(dates),
                         "inspections": row["inspections"], "window_days": cluster_days, "threshold": cluster_n,
                         "window_end": inspection["date"]},
                region=county, dedupe_key=hazard_cluster_key(row["hazard"], county, day, cluster_days),
                parties=[], now=now)["alert_id"])
    return {"held": held, "already_held": already, "recalled": recalled, "ended": ended, "alerts": alerts}


_EXPIRING: LiteralString = """
MATCH (c:Certificate)
WHERE c.valid_until >= $today AND c.valid_until <= $until
MATCH (c)-[:CERTIFIES]->(s)
OPTIONAL MATCH (owner:Party {gln: CASE WHEN s:Party THEN s.gln ELSE s.owner_gln END})
RETURN c.key AS key, c.type AS type, c.number AS number, c.valid_until AS valid_until,
       CASE WHEN s:Lot THEN s.key WHEN s:Product THEN 'class:' + s.gtin ELSE 'party:' + s.gln END AS subject,
       owner.gln AS owner_gln, owner.region_code AS region
"""

# Lots moved or sold after a certificate on them (the lot's own, or its product's) ended; only events since $since.
_EXPIRED_USE: LiteralString = """
MATCH (c:Certificate)
WHERE c.valid_until < $today AND c.valid_until >= $oldest
MATCH (c)-[:CERTIFIES]->(s)
WHERE s:Lot OR s:Product
CALL (s) {
    WITH s WHERE s:Lot
    RETURN s AS l
  UNION
    WITH s WHERE s:Product
    MATCH (l:Lot)-[:OF_PRODUCT]->(s)
    RETURN l
}
MATCH (l)<-[:OBJECT]-(e:Event)
WHERE e.biz_step IN $steps AND e.event_time >= $since AND NOT coalesce(e.erroneous, false)
WITH c, l, collect(e) AS evs
// the certificate's last valid day ends at midnight China time
WITH c, l, [e IN evs WHERE e.event_time >= datetime({date: c.valid_until + duration({days: 1}),
                                                    timezone: '+08:00'})] AS late
WHERE size(late) > 0
OPTIONAL MATCH (owner:Party {gln: l.owner_gln})
RETURN c.key AS key, c.type AS type, c.number AS number, c.valid_until AS valid_until, l.key AS lot,
       l.owner_gln AS owner_gln, owner.region_code AS region,
       [e IN late | [e.event_id, e.biz_step, e.event_time]][..20] AS events
"""
USE_STEPS = ["shipping", "receiving", "retail_selling", "packing", "commissioning"]

_SCAN_BURSTS: LiteralString = """
MATCH (s:Scan)
WHERE s.time > $since AND s.time <= $now AND s.verdict IN $verdicts
WITH s.gtin AS gtin, collect(s.time) AS times, collect(DISTINCT s.verdict) AS verdicts
WHERE size(times) >= $n
OPTIONAL MATCH (p:Product {gtin: gtin})
OPTIONAL MATCH (o:Party {gln: p.owner_gln})
RETURN gtin, times, verdicts, p.owner_gln AS owner_gln, o.region_code AS region, p.name_zh AS name_zh
"""


def sweep(graph: Graph, *, today: date | None = None, now: datetime | None = None,
          certificate_days: int = CERTIFICATE_WARNING_DAYS, burst_n: int = SCAN_BURST_N,
          burst_hours: int = SCAN_BURST_HOURS, lookback_days: int = 30) -> dict:
    """Run the sweep rules once and raise what they find (idempotent: a finding raises one alert ever).

    Args:
        graph: the database.
        today: the day in China (default: today in Asia/Shanghai).
        now: the instant (default: now).
        certificate_days: warn this many days before a certificate's last valid day.
        burst_n: counterfeit or impossible scans of one product that make a burst.
        burst_hours: the burst's window.
        lookback_days: movements after expiry are looked for this far back (bounded work per sweep).

    Returns:
        {"certificate_expiring": n, "certificate_expired_use": n, "scan_burst": n}: alerts newly raised.

    Raises:
        Unavailable: the database does not answer.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    today = today or now.astimezone(CHINA).date()
    found: list[dict] = []
    for r in graph.query(_EXPIRING, read=True, today=today, until=today + timedelta(days=certificate_days)):
        until = r["valid_until"].to_native()
        if not expiring(until, today, certificate_days):
            continue
        found.append({"kind": "certificate_expiring", "subject_keys": [r["key"], r["subject"]],
                      "summary": f"{r['type']} certificate {r['number']} ends on {until.isoformat()}",
                      "details": {"certificate": r["key"], "type": r["type"], "number": r["number"],
                                  "valid_until": until.isoformat(), "subject": r["subject"],
                                  "days_left": (until - today).days},
                      "region": r["region"], "dedupe_key": f"certificate_expiring:{r['key']}",
                      "parties": [r["owner_gln"]] if r["owner_gln"] else []})
    since = now - timedelta(days=lookback_days)
    for r in graph.query(_EXPIRED_USE, read=True, today=today, oldest=today - timedelta(days=lookback_days + 366),
                         steps=USE_STEPS, since=since):
        until = r["valid_until"].to_native()
        late = [e for e in r["events"] if expired_on(until, e[2].to_native().astimezone(CHINA).date())]
        if not late:
            continue
        found.append({"kind": "certificate_expired_use", "subject_keys": [r["lot"], r["key"]],
                      "summary": f"{r['lot']} moved after {r['type']} certificate {r['number']} expired "
                                 f"({until.isoformat()})",
                      "details": {"certificate": r["key"], "number": r["number"], "valid_until": until.isoformat(),
                                  "lot": r["lot"], "events": [[e[0], e[1], e[2].to_native().isoformat()]
                                                              for e in late]},
                      "region": r["region"], "dedupe_key": f"certificate_expired_use:{r['key']}:{r['lot']}",
                      "parties": [r["owner_gln"]] if r["owner_gln"] else []})
    for r in graph.query(_SCAN_BURSTS, read=True, since=now - timedelta(hours=burst_hours), now=now,
                         verdicts=list(BURST_VERDICTS), n=burst_n):
        times = [t.to_native() for t in r["times"]]
        if not scan_burst_fires(times, now, burst_n, burst_hours):
            continue
        found.append({"kind": "scan_burst", "subject_keys": [f"class:{r['gtin']}"],
                      "summary": f"{len(times)} counterfeit or impossible scans of {r['name_zh'] or r['gtin']} "
                                 f"in {burst_hours} h",
                      "details": {"gtin": r["gtin"], "scans": len(times), "verdicts": sorted(r["verdicts"]),
                                  "window_hours": burst_hours, "threshold": burst_n,
                                  "first": min(times).isoformat(), "last": max(times).isoformat()},
                      "region": r["region"],
                      "dedupe_key": f"scan_burst:{r['gtin']}:{now.astimezone(CHINA).date().isoformat()}",
                      "parties": [r["owner_gln"]] if r["owner_gln"] else []})
    raised = graph.write(lambda tx: open_alerts(tx, found, now=now)) if found else []
    counts = {"certificate_expiring": 0, "certificate_expired_use": 0, "scan_burst": 0}
    for alert, result in zip(found, raised, strict=True):
        counts[alert["kind"]] += int(result["created"])
    return counts
