"""Key data elements for traceability spreadsheets: one row per (event, object) of a set of objects or a period."""

from __future__ import annotations

from datetime import datetime
from typing import LiteralString

from graph.driver import Graph
from graph.trace import _plain, documents_of

MAX_ROWS = 200_000

KDE_ROWS: LiteralString = """
CALL () {
    UNWIND $lots AS k
    MATCH (n:Lot {key: k})
    MATCH (e:Event)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
    RETURN e, o, n
    UNION
    UNWIND $items AS k
    MATCH (n:Item {key: k})
    MATCH (e:Event)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
    RETURN e, o, n
    UNION
    UNWIND $units AS k
    MATCH (n:LogisticUnit {key: k})
    MATCH (e:Event)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
    RETURN e, o, n
    UNION
    MATCH (e:Event)
    WHERE $from IS NOT NULL AND e.event_time >= $from AND e.event_time <= $to
    MATCH (e)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
    RETURN e, o, n
}
WITH e, o, n
WHERE NOT coalesce(e.erroneous, false)
  AND ($party IS NULL OR EXISTS {
        MATCH (e)-[:BIZ_LOCATION|SOURCE|DESTINATION]->(x)
        WHERE x.gln = $party OR EXISTS { (x)-[:OF_PARTY]->(:Party {gln: $party}) }
  })
WITH e, o, n ORDER BY e.event_time, e.event_id, n.key LIMIT $max
OPTIONAL MATCH (n)-[:OF_PRODUCT]->(p:Product)
OPTIONAL MATCH (tlc_source:Party {gln: n.owner_gln})
CALL (e) {
    OPTIONAL MATCH (e)-[:BIZ_LOCATION]->(loc)
    OPTIONAL MATCH (loc)-[:OF_PARTY]->(lp:Party)
    RETURN coalesce(lp.gln, loc.gln) AS location_gln, lp.name_zh AS location_name
}
CALL (e) {
    MATCH (e)-[sd:SOURCE]->(x)
    WITH sd, CASE WHEN x:Party THEN x ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp]) END AS party
    ORDER BY sd.type = 'owning_party' DESC
    RETURN head(collect(party {.gln, .name_zh, .name_en})) AS ship_from
}
CALL (e) {
    MATCH (e)-[sd:DESTINATION]->(x)
    WITH sd, CASE WHEN x:Party THEN x ELSE head([(x)-[:OF_PARTY]->(xp:Party) | xp]) END AS party
    ORDER BY sd.type = 'owning_party' DESC
    RETURN head(collect(party {.gln, .name_zh, .name_en})) AS ship_to
}
RETURN e.event_id AS event_id, e.type AS event_type, e.action AS action, e.biz_step AS biz_step,
       e.disposition AS disposition, e.event_time AS event_time, e.event_time_zone_offset AS tz,
       type(o) AS role, o.quantity AS quantity, o.uom AS uom, n.key AS key,
       CASE WHEN n:Lot THEN 'lot' WHEN n:Item THEN 'item' WHEN n:LogisticUnit THEN 'sscc' ELSE 'other' END AS kind,
       coalesce(n.gtin, p.gtin) AS gtin, n.lot AS lot, n.serial AS serial, n.sscc AS sscc, n.unit AS lot_unit,
       p.name_zh AS product_zh, p.name_en AS product_en, p.unit AS product_unit,
       location_gln, location_name, ship_from, ship_to,
       tlc_source.gln AS tlc_source_gln, tlc_source.name_zh AS tlc_source_name, e.doc AS doc
"""


def kde_rows(graph: Graph, keys: list[str] | None = None, period: tuple[datetime, datetime] | None = None,
             party: str | None = None, max_rows: int = MAX_ROWS) -> list[dict]:
    """Return the key data elements of every valid event on these objects and/or in this period, in time order.

    Args:
        graph: the database.
        keys: business keys of lots, items and logistic units (a trace or a recall's affected set).
        period: (from, to) aware datetimes: every event recorded as happening then.
        party: when set, only events this party took part in (at its location, as source or destination).
        max_rows: the most rows answered (the spreadsheet stays openable).

    Returns:
        Plain dict rows: event fields, object fields, product, location, ship-from/ship-to and documents.

    Raises:
        Unavailable: the database does not answer.
    """
    keys = keys or []
    rows = graph.query(
        KDE_ROWS, read=True,
        lots=[k for k in keys if k.startswith("lot:")],
        items=[k for k in keys if k.startswith("item:")],
        units=[k for k in keys if k.startswith("sscc:")],
        party=party, max=max_rows,
        **{"from": period[0] if period else None, "to": period[1] if period else None},
    )
    out = []
    for r in rows:
        r = _plain(r)
        r["documents"] = documents_of(r.pop("doc"))
        out.append(r)
    return out
