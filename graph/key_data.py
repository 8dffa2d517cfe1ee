"""Key data element rows: every valid event on a set of objects (a trace's nodes, a recall's affected set, a
period), one row per (event, object), in time order, for the spreadsheets regulators and recall teams read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, LiteralString

from graph.documents import documents_in
from graph.driver import Graph, plain
from gs1.identifiers import key_kind

# Key data elements of a set of objects, grouped by event: an event's JSON (for its documents), places and
# parties are read once per event, not once per (event, object) row. A recall's own `recalled` events list a
# thousand objects each; per row, their JSON alone would be a thousand copies of ~100 KB; an event's JSON is
# only read when it names business transactions at all. Objects come back as lists (a 10,000-lot recall has
# 30,000+ of them: maps cost the driver a key string per field); names are looked up once per product. A lot or
# an item is always OF_PRODUCT the product of its own GTIN (graph-model), so only other objects walk that edge:
# the walk was a third of the query's time for a 10,000-lot recall. An object's fields are read once, not once
# per event naming it, and an event's filter once per event, not once per object it names.
_KEY_DATA_OF_KEYS: LiteralString = """
CALL () {
    UNWIND $lots AS k
    MATCH (n:Lot {key: k})
    RETURN n
    UNION ALL
    UNWIND $items AS k
    MATCH (n:Item {key: k})
    RETURN n
    UNION ALL
    UNWIND $units AS k
    MATCH (n:LogisticUnit {key: k})
    RETURN n
}
"""
_KEY_DATA_OF_RECALL: LiteralString = """
MATCH (:Recall {recall_id: $recall_id})-[:AFFECTS]->(n)
"""
_KEY_DATA_EVENTS: LiteralString = """
WITH n, [n.key, CASE WHEN n:Lot THEN 'lot' WHEN n:Item THEN 'item' WHEN n:LogisticUnit THEN 'sscc' ELSE 'other' END,
         n.gtin, n.lot, n.serial, n.sscc, n.unit, n.owner_gln,
         CASE WHEN n:Lot OR n:Item THEN null ELSE head([(n)-[:OF_PRODUCT]->(p:Product) | p.gtin]) END] AS node
MATCH (e:Event)-[o:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
WITH e, collect([type(o), o.quantity, o.uom] + node) AS objects
WHERE NOT coalesce(e.erroneous, false) AND ($skip_capture IS NULL OR coalesce(e.capture_id, '') <> $skip_capture)
  AND ($from IS NULL OR e.event_time >= $from) AND ($to IS NULL OR e.event_time <= $to)
  AND ($party IS NULL OR EXISTS {
        MATCH (e)-[:BIZ_LOCATION|SOURCE|DESTINATION]->(x)
        WHERE x.gln = $party OR EXISTS { (x)-[:OF_PARTY]->(:Party {gln: $party}) }
  })
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
RETURN [e.event_id, e.type, e.action, e.biz_step, e.disposition, e.event_time, e.event_time_zone_offset,
        location_gln, location_name, ship_from, ship_to,
        CASE WHEN e.doc CONTAINS '"bizTransactionList"' THEN e.doc END, objects] AS event
"""
# A period: the objects of the first $max events recorded as happening then (each event gives at least one row, so
# the spreadsheet's row limit is reached without reading the whole history); the events part keeps the period.
_KEY_DATA_OF_PERIOD: LiteralString = """
MATCH (e0:Event) WHERE e0.event_time >= $from AND e0.event_time <= $to AND NOT coalesce(e0.erroneous, false)
WITH e0 ORDER BY e0.event_time LIMIT $max
MATCH (e0)-[:OBJECT|INPUT|OUTPUT|PARENT|CHILD]->(n)
WITH DISTINCT n
"""
KEY_DATA: LiteralString = _KEY_DATA_OF_KEYS + _KEY_DATA_EVENTS
KEY_DATA_OF_PERIOD: LiteralString = _KEY_DATA_OF_PERIOD + _KEY_DATA_EVENTS
KEY_DATA_OF_RECALL: LiteralString = _KEY_DATA_OF_RECALL + _KEY_DATA_EVENTS

OWNERS: LiteralString = """
UNWIND $glns AS g
MATCH (p:Party {gln: g})
RETURN p.gln AS gln, p.name_zh AS name_zh
"""

PRODUCTS: LiteralString = """
UNWIND $gtins AS g
MATCH (p:Product {gtin: g})
RETURN p.gtin AS gtin, p.name_zh AS name_zh, p.name_en AS name_en, p.unit AS unit
"""


def key_data_rows(graph: Graph, keys: list[str], max_rows: int = 200_000) -> KeyDataRows:
    """Return the key data elements of every valid event on these objects, one row per (event, object), in time
    order: the rows of a spreadsheet, read per event (two round trips in one read
    transaction: the events, then the few traceability-lot-code sources by GLN).

    Args:
        graph: the database.
        keys: business keys of lots, items and logistic units (a trace's nodes or a recall's affected set).
        max_rows: the most rows answered (the spreadsheet stays openable).

    Raises:
        Unavailable: the database does not answer.
    """
    keys = list(dict.fromkeys(keys))
    params = {"lots": [k for k in keys if key_kind(k) == "lot"], "items": [k for k in keys if key_kind(k) == "item"],
              "units": [k for k in keys if key_kind(k) == "sscc"]}
    return _key_data(graph, KEY_DATA, params, max_rows)


# How many events of a period an export would read, counted no further than the cap (the event_time index).
_PERIOD_EVENTS: LiteralString = """
MATCH (e:Event) WHERE e.event_time >= $from AND e.event_time <= $to AND NOT coalesce(e.erroneous, false)
WITH e LIMIT $cap
RETURN count(e) AS n
"""


def events_in_period(graph: Graph, period: tuple[datetime, datetime], cap: int) -> int:
    """Return how many valid events were recorded as happening in a period (both ends included), at most `cap`.

    Args:
        graph: the database.
        period: (from, to) aware datetimes.
        cap: the most events counted (the count reads no more index entries than this).
    """
    return graph.query(_PERIOD_EVENTS, read=True, **{"from": period[0], "to": period[1], "cap": cap})[0]["n"]


def period_key_data_rows(graph: Graph, period: tuple[datetime, datetime], party: str | None = None,
                         max_rows: int = 200_000) -> KeyDataRows:
    """Return the key data element rows (as key_data_rows) of every valid event recorded as happening in a period.

    Args:
        graph: the database.
        period: (from, to) aware datetimes, both included.
        party: when set, only events this party took part in (at its location, as source or destination).
        max_rows: the most rows answered.

    Raises:
        Unavailable: the database does not answer.
    """
    params = {"from": period[0], "to": period[1], "party": party, "max": max_rows}
    return _key_data(graph, KEY_DATA_OF_PERIOD, params, max_rows)


def recall_key_data_rows(graph: Graph, recall_id: str, skip_capture: str | None = None,
                         max_rows: int = 200_000) -> KeyDataRows:
    """Return the key data element rows of a recall case's affected objects (as key_data_rows), found from the
    case itself in the same round trip.

    Args:
        graph: the database.
        recall_id: the case.
        skip_capture: leave out the events of this capture (the case's own `recalled` events: not a tracking event).
        max_rows: the most rows answered.

    Raises:
        Unavailable: the database does not answer.
    """
    return _key_data(graph, KEY_DATA_OF_RECALL, {"recall_id": recall_id, "skip_capture": skip_capture}, max_rows)


# An object's fields in a KeyDataRows group, in this order (tuples: a 10,000-lot recall has 30,000 of them, and
# a dict per object cost more to build and to read back than the spreadsheet's own writing of them).
OBJECT_FIELDS = ("role", "quantity", "uom", "key", "kind", "gtin", "lot", "serial", "sscc", "lot_unit", "product_zh",
                 "product_en", "product_unit", "tlc_source_gln", "tlc_source_name")


class KeyDataRows(Sequence):
    """Key data element rows (dicts: an event's fields and one object's), kept grouped by event.

    `groups` lists (event fields, [object fields as OBJECT_FIELDS tuples, ...]) in row order: a writer renders an
    event's cells once for all its objects (a recall's packing event lists a thousand lots). Iterating or indexing
    gives the merged row dicts, built on demand.
    """

    __slots__ = ("groups", "_count", "_rows")

    def __init__(self, groups: list[tuple[dict, list[dict]]]):
        self.groups = groups
        self._count = sum(len(objects) for _, objects in groups)
        self._rows: list[dict] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict]:
        for event, objects in self.groups:
            for obj in objects:
                yield {**event, **dict(zip(OBJECT_FIELDS, obj, strict=True))}

    def __getitem__(self, index):
        if self._rows is None:
            self._rows = list(self)
        return self._rows[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


# An event's fields as the query answers them; event_time is the stored instant (UTC), and its own
# eventTimeZoneOffset comes with it, so the spreadsheet writes the date and time people saw on the clock there.
_EVENT_FIELDS = ("event_id", "event_type", "action", "biz_step", "disposition", "event_time", "event_time_zone_offset",
                 "location_gln", "location_name", "ship_from", "ship_to", "doc", "objects")


def _key_data(graph: Graph, query: LiteralString, params: dict, max_rows: int) -> KeyDataRows:
    params = {"skip_capture": None, "from": None, "to": None, "party": None, **params}

    def work(tx) -> tuple[list, dict, dict]:
        events = [r[0] for r in tx.run(query, params)]
        glns = sorted({o[10] for e in events for o in e[12] if o[10]})
        gtins = sorted({o[11] or (o[5] if o[4] in ("lot", "item") else None) for e in events for o in e[12]} - {None})
        owners = {r["gln"]: r["name_zh"] for r in tx.run(OWNERS, glns=glns)} if glns else {}
        products = {r["gtin"]: dict(r) for r in tx.run(PRODUCTS, gtins=gtins)} if gtins else {}
        return events, owners, products

    events, owners, products = graph.read(work)
    no_product = (None, None, None, None)
    named = {gtin: (p["gtin"], p["name_zh"], p["name_en"], p["unit"]) for gtin, p in products.items()}
    staged = []
    for values in events:
        (event_id, event_type, action, biz_step, disposition, when, tz, location_gln, location_name, ship_from,
         ship_to, doc, objects) = values
        event = {"event_id": event_id, "event_type": event_type, "action": action, "biz_step": biz_step,
                 "disposition": disposition, "event_time_zone_offset": tz, "location_gln": location_gln,
                 "location_name": location_name, "ship_from": ship_from, "ship_to": ship_to,
                 "documents": documents_in(doc) if doc else [],
                 "event_time": plain(when)}
        rows = []
        for role, quantity, uom, key, kind, gtin, lot, serial, sscc, lot_unit, owner_gln, product in objects:
            p_gtin, name_zh, name_en, unit = named.get(product or (gtin if kind in ("lot", "item") else None),
                                                       no_product)
            owner = owner_gln if owner_gln in owners else None
            rows.append((key or "", (  # OBJECT_FIELDS; a class-level object (a Product) has no key
                role, quantity, uom, key, kind, gtin or p_gtin, lot, serial, sscc, lot_unit, name_zh, name_en, unit,
                owner, owners.get(owner) if owner else None)))
        rows.sort(key=_first)
        staged.append((when.to_native() if hasattr(when, "to_native") else when, event_id or "", event, rows))
    staged.sort(key=_order)
    groups: list[tuple[dict, list[dict]]] = []
    left = max_rows
    i = 0
    while i < len(staged) and left > 0:
        j = i + 1
        while j < len(staged) and _order(staged[j]) == _order(staged[i]):
            j += 1
        if j == i + 1:
            group = [obj for _, obj in staged[i][3][:left]]
            groups.append((staged[i][2], group))
        else:  # events at the same time with the same ID (none, or a duplicate): their rows interleave by key
            tied = sorted(((key, event, obj) for _, _, event, rows in staged[i:j] for key, obj in rows), key=_first)
            group = []
            for _, event, obj in tied[:left]:
                groups.append((event, [obj]))
                group.append(obj)
        left -= len(group)
        i = j
    return KeyDataRows(groups)


def _first(staged: tuple) -> Any:
    return staged[0]


def _order(staged: tuple) -> tuple:
    return staged[0], staged[1]
