"""What the regulator's console reads (app/web/console/): one round trip per page, regulators see everything.

The overview reads inspection counts grouped by the classification stored on each inspection (programme, category,
region, month: the console's pure module app/web/console/shaping.py turns the groups into pass rates per slice with
graph/supervision_rules' targets), open recalls with what holders held and reported recovered, open alerts and
counterfeit-scan counts, in one statement (graph/supervision.pass_rates answers one dimension per query). The
lists read one page of rows and the total in one statement; sorting is by a key chosen from a fixed list (the key's
name is a parameter compared inside the query, never text put into it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import LiteralString

from graph.alert_rules import region_prefix
from graph.driver import Graph, plain
from gs1.timezones import CHINA

COUNTERFEIT_VERDICTS = ["invalid_signature", "suspected_copy", "unknown_code"]

OVERVIEW: LiteralString = """
CALL () {
    MATCH (i:Inspection)
    WHERE i.date >= $from AND i.date <= $to AND ($category IS NULL OR i.category = $category)
      AND ($prefix IS NULL OR i.region_code STARTS WITH $prefix)
    WITH i.programme AS programme, i.category AS category, coalesce(i.region_code, '') AS region,
         substring(toString(i.date), 0, 7) AS month, i.verdict = 'pass' AS passed
    WITH programme, category, region, month, count(*) AS n, sum(CASE WHEN passed THEN 1 ELSE 0 END) AS ok
    RETURN collect([programme, category, region, month, n, ok]) AS groups
}
CALL () {
    MATCH (r:Recall {status: 'open'})
    RETURN count(r) AS open_total
}
CALL () {
    MATCH (r:Recall {status: 'open'})
    WITH r ORDER BY r.opened_at DESC LIMIT $recall_limit
    CALL (r) {
        OPTIONAL MATCH (r)-[nf:NOTIFIES]->(:Party)
        RETURN count(nf) AS holders, collect([nf.units, nf.quantities]) AS held
    }
    CALL (r) {
        OPTIONAL MATCH (a:RecallAck)-[:ACKNOWLEDGES]->(r)
        RETURN count(DISTINCT a.party_gln) AS acked, collect([a.unit, a.quantity_recovered]) AS recovered
    }
    RETURN collect(r {.recall_id, .level, .reason, .opened_at, .complete_by, .affected_count,
                      holders: holders, acked: acked, held: held, recovered: recovered}) AS recalls
}
CALL () {
    MATCH (s:Scan) WHERE s.time >= $from_time AND s.verdict IN $counterfeit
    WITH s.gtin AS gtin, s.verdict AS verdict, count(*) AS n
    OPTIONAL MATCH (p:Product {gtin: gtin})
    RETURN collect([gtin, p.name_zh, p.name_en, verdict, n]) AS scans
}
CALL () {
    MATCH (a:Alert) WHERE a.state IN ['open', 'acknowledged']
    WITH a ORDER BY a.raised_at DESC
    WITH collect(a) AS live
    RETURN size([a IN live WHERE a.state = 'open']) AS alerts_open,
           [a IN live[..$alert_limit] | a {.alert_id, .kind, .state, .owner, .summary, .region, .subject_keys,
                                           raised_at: toString(a.raised_at)}] AS alerts
}
CALL () {
    // the watch list and the blacklist (graph/credit.py keeps Party.credit_status; absent means normal)
    MATCH (p:Party) WHERE p.credit_status IN ['watch', 'blacklist']
    WITH p ORDER BY p.credit_changed_at DESC
    RETURN collect(p {.gln, .name_zh, .name_en, .region_code, .credit_status,
                      since: toString(p.credit_changed_at)})[..$watch_limit] AS watch
}
RETURN groups, recalls, open_total, scans, alerts_open, alerts, watch
"""


def overview(graph: Graph, period: tuple[date, date], category: str | None = None, region: str | None = None,
             recall_limit: int = 20, alert_limit: int = 10) -> dict:
    """Return what the console's overview shows, in one round trip.

    Args:
        graph: the database.
        period: (first, last) day of the inspections counted; counterfeit scans since the first.
        category: only inspections of this product category.
        region: only inspections inside this division (a province, city or county code).
        recall_limit: at most this many open recalls listed (newest first; `open_recalls_total` counts all).
        alert_limit: at most this many open or acknowledged alerts listed (newest first).

    Returns:
        {groups: [[programme, category, region_code, month, count, passed]] (the classification stored on each
        inspection, graph/supervision_rules.classify), recalls, open_recalls_total, scans: [[gtin, name_zh,
        name_en, verdict, count]], alerts_open, alerts, watch (parties on the watch list or blacklist, newest
        change first, at most 50)}. Lots on hold are not counted here: Lot.status has no
        index (V0006 dropped it to keep recall writes fast), so a count would scan every lot; the tile links to
        the lots list filtered to them.

    Raises:
        Unavailable: the database does not answer.
    """
    since = datetime(period[0].year, period[0].month, period[0].day, tzinfo=CHINA)
    row = graph.query(OVERVIEW, read=True, **{"from": period[0], "to": period[1]}, category=category,
                      prefix=region_prefix(region) if region else None, recall_limit=recall_limit,
                      alert_limit=alert_limit, watch_limit=50, from_time=since,
                      counterfeit=COUNTERFEIT_VERDICTS)[0]
    return {"groups": row["groups"], "recalls": plain(row["recalls"]), "open_recalls_total": row["open_total"],
            "scans": row["scans"], "alerts_open": row["alerts_open"],
            "alerts": row["alerts"], "watch": row["watch"]}


# Each list: a filter, a sort key (one of SORTS[name]) and a page; `total` counts every row the filter keeps.
# Each list counts what its filter keeps and reads one page sorted (ORDER BY ... SKIP ... LIMIT: a top-k sort over
# the filtered nodes' own properties); names and related nodes are read for the page's rows only.
_LOT_FILTER: LiteralString = """
MATCH (l:Lot)
WHERE ($status IS NULL OR coalesce(l.status, 'active') = $status) AND ($q IS NULL OR l.lot CONTAINS $q)
  AND ($category IS NULL OR EXISTS { (l)-[:OF_PRODUCT]->(:Product {category: $category}) })
  AND ($region IS NULL OR EXISTS { MATCH (o:Party {gln: l.owner_gln}) WHERE o.region_code STARTS WITH $region })
"""
LOTS: LiteralString = "CALL () {" + _LOT_FILTER + """    RETURN count(l) AS total
}
CALL () {""" + _LOT_FILTER + """    WITH l, CASE $sort WHEN 'lot' THEN l.lot
                          WHEN 'status' THEN coalesce(l.status, 'active')
                          ELSE toString(l.production_date) + l.lot END AS k
    ORDER BY CASE WHEN $desc THEN k END DESC, CASE WHEN NOT $desc THEN k END ASC
    SKIP $skip LIMIT $limit
    OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
    OPTIONAL MATCH (o:Party {gln: l.owner_gln})
    RETURN collect({gtin: l.gtin, lot: l.lot, status: coalesce(l.status, 'active'), quantity: l.quantity,
                    unit: l.unit, production_date: toString(l.production_date),
                    expiry_date: toString(l.expiry_date), category: p.category, product_zh: p.name_zh,
                    product_en: p.name_en, owner_gln: o.gln, owner_zh: o.name_zh, owner_en: o.name_en,
                    region: o.region_code, region_zh: o.region_zh, hold_reason: l.hold_reason}) AS rows
}
RETURN total, rows
"""

_PARTY_FILTER: LiteralString = """
MATCH (o:Party)
WHERE ($role IS NULL OR $role IN o.roles) AND ($region IS NULL OR o.region_code STARTS WITH $region)
  AND ($credit IS NULL OR coalesce(o.credit_status, 'normal') = $credit)
  AND ($q IS NULL OR o.name_zh CONTAINS $q OR o.name_en CONTAINS $q OR o.gln STARTS WITH $q)
"""
PARTIES: LiteralString = "CALL () {" + _PARTY_FILTER + """    RETURN count(o) AS total
}
CALL () {""" + _PARTY_FILTER + """    WITH o, CASE $sort WHEN 'region' THEN coalesce(o.region_code, '') + o.gln
                       WHEN 'gln' THEN o.gln ELSE coalesce(o.name_zh, o.gln) END AS k
    ORDER BY CASE WHEN $desc THEN k END DESC, CASE WHEN NOT $desc THEN k END ASC
    SKIP $skip LIMIT $limit
    RETURN collect(o {.gln, .name_zh, .name_en, .roles, .region_code, .region_zh, .region_en, .contact_name,
                      .contact_phone, .contact_email, .address_zh,
                      credit_status: coalesce(o.credit_status, 'normal')}) AS rows
}
RETURN total, rows
"""

_RECALL_FILTER: LiteralString = """
MATCH (r:Recall)
WHERE ($status IS NULL OR r.status = $status) AND ($level IS NULL OR r.level = $level)
  AND ($q IS NULL OR r.recall_id CONTAINS $q OR r.reason CONTAINS $q)
"""
RECALLS: LiteralString = "CALL () {" + _RECALL_FILTER + """    RETURN count(r) AS total
}
CALL () {""" + _RECALL_FILTER + """    WITH r, CASE $sort WHEN 'level' THEN toString(r.level) + toString(r.opened_at)
                       WHEN 'status' THEN r.status ELSE toString(r.opened_at) END AS k
    ORDER BY CASE WHEN $desc THEN k END DESC, CASE WHEN NOT $desc THEN k END ASC
    SKIP $skip LIMIT $limit
    CALL (r) {
        OPTIONAL MATCH (r)-[nf:NOTIFIES]->(:Party)
        RETURN count(nf) AS holders, collect([nf.units, nf.quantities]) AS held
    }
    CALL (r) {
        OPTIONAL MATCH (a:RecallAck)-[:ACKNOWLEDGES]->(r)
        RETURN count(DISTINCT a.party_gln) AS acked, collect([a.unit, a.quantity_recovered]) AS recovered
    }
    RETURN collect(r {.recall_id, .level, .reason, .status, .opened_at, .closed_at, .start_by, .complete_by,
                      .affected_count, holders: holders, acked: acked, held: held, recovered: recovered}) AS rows
}
RETURN total, rows
"""

LISTS: dict[str, LiteralString] = {"lots": LOTS, "parties": PARTIES, "recalls": RECALLS}
# Each list's filters (every one a parameter of its query, None when not given) and its sort keys (first: default).
FILTERS = {
    "lots": ("status", "q", "category", "region"),
    "parties": ("role", "region", "q", "credit"),
    "recalls": ("status", "level", "q"),
}
SORTS = {
    "lots": ("date", "lot", "status"),
    "parties": ("name", "region", "gln"),
    "recalls": ("opened", "level", "status"),
}


def page(graph: Graph, name: str, filters: dict, sort: str, desc: bool, skip: int, limit: int) -> dict:
    """Return one page of a console list and the number of rows its filters keep.

    Args:
        graph: the database.
        name: lots, parties or recalls (inspections: graph/supervision.list_inspections).
        filters: the list's filters (FILTERS[name]); missing ones are not applied.
        sort: one of SORTS[name] (anything else sorts by the first).
        desc: newest / largest first.
        skip: rows before the page.
        limit: rows in the page.

    Returns:
        {total, rows} with plain JSON values.

    Raises:
        KeyError: no such list.
        Unavailable: the database does not answer.
    """
    params = {k: filters.get(k) for k in FILTERS[name]}
    if params.get("region"):
        params["region"] = region_prefix(params["region"])
    row = graph.query(LISTS[name], read=True, **params, sort=sort if sort in SORTS[name] else SORTS[name][0],
                      desc=desc, skip=skip, limit=limit)[0]
    return {"total": row["total"], "rows": plain(row["rows"])}


ACCOUNT_NAMES: LiteralString = """
UNWIND $ids AS id
MATCH (u:User {user_id: id})
RETURN u.user_id AS user_id, coalesce(u.display_name, u.username) AS name
"""


def account_names(graph: Graph, user_ids: list[str]) -> dict[str, str]:
    """The display names of accounts (the regulators who decided, the inspectors of a pool), by user id.

    Raises:
        Unavailable: the database does not answer.
    """
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    return {r["user_id"]: r["name"] for r in graph.query(ACCOUNT_NAMES, read=True, ids=ids)}


REGULATORS: LiteralString = """
MATCH (u:User {role: 'regulator'})
WHERE NOT coalesce(u.disabled, false)
RETURN u.user_id AS user_id, coalesce(u.display_name, u.username) AS name, u.username AS username
ORDER BY name, u.username
LIMIT $limit
"""


def regulator_accounts(graph: Graph, limit: int = 500) -> list[dict]:
    """Active regulator accounts by name (a 双随机 plan's inspector pool is picked from them).

    Raises:
        Unavailable: the database does not answer.
    """
    return [dict(r) for r in graph.query(REGULATORS, read=True, limit=limit)]
