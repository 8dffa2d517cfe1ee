"""Supervision's reads: inspections listed with their classification, and pass rates for any slice.

Both answer in one query each, over the classification stored on each inspection when it was recorded
(graph/quality.record_inspection: programme, category, region codes at three levels, owner). A party's own view
passes ``party``: inspections of lots it owns, or that it performed as a lab. Pages call these functions directly;
`/api/v1/inspections` and `/api/v1/supervision/pass-rates` call the same ones.
"""

from __future__ import annotations

from datetime import date
from typing import LiteralString

from graph.alert_rules import region_prefix
from graph.driver import Graph
from graph.supervision_rules import BY, DEFAULT_TARGETS, SORTS, slices

# The filter every read shares. $prefix: the region filter cut to the level it names (alert_rules.region_prefix).
_FILTER: LiteralString = """
WHERE ($programme IS NULL OR i.programme = $programme) AND ($category IS NULL OR i.category = $category)
  AND ($prefix IS NULL OR i.region_code STARTS WITH $prefix)
  AND ($from IS NULL OR i.date >= $from) AND ($to IS NULL OR i.date <= $to)
  AND ($verdict IS NULL OR i.verdict = $verdict)
  AND ($party IS NULL OR i.owner_gln = $party OR i.lab_gln = $party)
"""

# The total and the page in one statement: a count, then a top-k sort of the kept inspections (no list of all of
# them is built). The sort key is chosen by comparing $sort inside the query, never by text put into it.
_LIST: LiteralString = "CALL () { MATCH (i:Inspection)" + _FILTER + """
    RETURN count(i) AS total
}
CALL () {
    MATCH (i:Inspection)""" + _FILTER + """
    WITH i ORDER BY
        CASE WHEN $sort = 'date' THEN i.date END ASC, CASE WHEN $sort = '-date' THEN i.date END DESC,
        CASE WHEN $sort = 'report_no' THEN i.report_no END ASC,
        CASE WHEN $sort = '-report_no' THEN i.report_no END DESC,
        CASE WHEN $sort = 'verdict' THEN i.verdict END ASC, CASE WHEN $sort = '-verdict' THEN i.verdict END DESC,
        CASE WHEN $sort = 'programme' THEN i.programme END ASC,
        CASE WHEN $sort = '-programme' THEN i.programme END DESC,
        CASE WHEN $sort = 'category' THEN i.category END ASC,
        CASE WHEN $sort = '-category' THEN i.category END DESC,
        CASE WHEN $sort = 'region' THEN i.region_code END ASC,
        CASE WHEN $sort = '-region' THEN i.region_code END DESC,
        CASE WHEN $desc THEN i.key END DESC, CASE WHEN NOT $desc THEN i.key END ASC
    SKIP $skip LIMIT $limit
    MATCH (i)-[:OF_LOT]->(l:Lot)
    OPTIONAL MATCH (p:Product {gtin: l.gtin})
    OPTIONAL MATCH (lab:Party {gln: i.lab_gln})
    OPTIONAL MATCH (o:Party {gln: i.owner_gln})
    RETURN collect({key: i.key, report_no: i.report_no, sample_id: i.sample_id, date: toString(i.date),
                    standard: i.standard, verdict: i.verdict, results: i.results, programme: i.programme,
                    sampling_body: i.sampling_body, hazard: i.hazard, failed_hazards: i.failed_hazards,
                    category: i.category, region_code: i.region_code, province_code: i.province_code,
                    city_code: i.city_code, county_code: i.county_code, region_zh: i.region_zh,
                    region_en: i.region_en, gtin: l.gtin, lot: l.lot, lot_key: l.key,
                    lot_status: coalesce(l.status, 'active'), product_zh: p.name_zh, product_en: p.name_en,
                    lab_gln: i.lab_gln, lab_zh: lab.name_zh, lab_en: lab.name_en, owner_gln: i.owner_gln,
                    owner_zh: o.name_zh, owner_en: o.name_en, report_sha256: i.report_sha256}) AS items
}
RETURN total, items
"""

_RATES: LiteralString = "MATCH (i:Inspection)" + _FILTER + """
WITH CASE $by WHEN 'programme' THEN i.programme WHEN 'category' THEN i.category
              WHEN 'province' THEN i.province_code WHEN 'city' THEN i.city_code
              WHEN 'county' THEN i.county_code ELSE substring(toString(i.date), 0, 7) END AS key,
     i.verdict = 'pass' AS passed
RETURN key, count(*) AS count, sum(CASE WHEN passed THEN 1 ELSE 0 END) AS passed
ORDER BY key
"""


def _params(filters: dict) -> dict:
    """The shared filter's parameters from a filter dict (absent keys mean no filter)."""
    region = filters.get("region")
    d_from, d_to = filters.get("date_from"), filters.get("date_to")
    return {"programme": filters.get("programme"), "category": filters.get("category"),
            "prefix": region_prefix(region) if region else None,
            "from": d_from if isinstance(d_from, date) or d_from is None else date.fromisoformat(d_from),
            "to": d_to if isinstance(d_to, date) or d_to is None else date.fromisoformat(d_to),
            "verdict": filters.get("verdict"), "party": filters.get("party")}


def list_inspections(graph: Graph, filters: dict, *, page: int = 1, per_page: int = 50,
                     sort: str = "-date") -> dict:
    """Return one page of inspections (newest first by default) and how many the filter keeps, in one query.

    Args:
        graph: the database.
        filters: any of programme, category, region (a division code at any level), date_from, date_to (dates
            or ISO strings, inclusive), verdict (pass/fail), party (a GLN: lots it owns or inspections it
            performed; set it to the caller's own GLN for a party's view).
        page: 1-based.
        per_page: 1..500.
        sort: one of supervision_rules.SORTS ('-' first: descending); unknown values sort by -date.

    Returns:
        {"items": [inspection...], "total", "page", "per_page"}; each item has its lot, product, lab and owner
        names, its classification and the lot's current status.

    Raises:
        Unavailable: the database does not answer.
    """
    sort = sort if sort in SORTS else "-date"
    per_page = max(1, min(int(per_page), 500))
    page = max(1, int(page))
    row = graph.query(_LIST, read=True, **_params(filters), sort=sort, desc=sort.startswith("-"),
                      skip=(page - 1) * per_page, limit=per_page)[0]
    return {"items": row["items"], "total": row["total"], "page": page, "per_page": per_page}


def pass_rates(graph: Graph, by: str, filters: dict, targets: dict[str, float] | None = None) -> dict:
    """Return pass rates for each slice of one dimension, in one query.

    Args:
        graph: the database.
        by: programme, category, province, city, county or month (supervision_rules.BY).
        filters: as for :func:`list_inspections`.
        targets: programme -> target rate (0..1); the plan's (DEFAULT_TARGETS) when None.

    Returns:
        {"by", "filters", "slices": [{key, name_zh, name_en, count, passed, failed, rate, target,
        below_target}], "total": {count, passed, failed, rate, target, below_target}}. A slice's target is its
        programme's (by=programme) or the programme filter's; None (and below_target None) otherwise.

    Raises:
        ValueError: an unknown dimension (the schema refuses it first).
        Unavailable: the database does not answer.
    """
    if by not in BY:
        raise ValueError(f"unknown dimension {by!r}")
    targets = DEFAULT_TARGETS if targets is None else targets
    rows = graph.query(_RATES, read=True, **_params(filters), by=by)
    out = slices(rows, by, filters.get("programme"), targets)
    count, passed = sum(s["count"] for s in out), sum(s["passed"] for s in out)
    total = slices([{"key": filters.get("programme"), "count": count, "passed": passed}], "programme", None,
                   targets)[0] if filters.get("programme") else slices(
        [{"key": None, "count": count, "passed": passed}], "total", None, {})[0]
    for k in ("key", "name_zh", "name_en"):
        total.pop(k)
    return {"by": by, "slices": out, "total": total}
