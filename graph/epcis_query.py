"""The EPCIS 2.0 event query (GET /epcis/events): one statement per page, answering the events as captured.

Filters arrive already parsed (app/schemas/epcis.py): identifiers as keys/GTINs, CBV terms as bare words, times
as UTC ISO text. A filter left None does not constrain. Paging orders by a sort key (recordTime or eventTime in
either direction) and then event_id: stable, since both are set once at capture.

Parameters the graph does not index (ILMD, extension fields, sensor data, bizTransactions, sources and
destinations, error declarations, persistent dispositions) are compiled by gs1/event_query.py into predicates on
the stored document; a page then reads candidates in batches until it is full, with a bound on how many candidates
one request may read (SCAN_LIMIT): a page cut short by the bound still carries a cursor, so the client continues.
"""

from __future__ import annotations

import json
from typing import Any, LiteralString

from graph import master_data
from graph.driver import Graph
from graph.errors import NotFound
from gs1.epcis import utc_iso
from gs1.event_query import EventView, Predicate, matches
from gs1.identifiers import location_key

MATCH_FILTERS = ("epc", "any", "cls", "input", "output", "parent", "in_cls", "out_cls", "any_cls")
# Candidates one request may read when predicates filter them after the graph, in one statement: each statement
# orders every candidate (sort key and eventID), so one large read costs less than several small ones.
SCAN_LIMIT = 2000

# One statement for every case: with an identifier filter ($anchor), eventIDs or a GE_recordTime (as subscriptions'
# windows have) the candidates come from index seeks on the named objects, the events or the record time, so a big
# history is not scanned; without any, every event is a candidate.
_PAGE: LiteralString = """
CALL () {
    WITH 1 AS _ WHERE $anchor IS NULL AND $event_ids IS NULL AND $ge_record_time IS NULL
    MATCH (e:Event) RETURN e
    UNION
    UNWIND coalesce($event_ids, []) AS id MATCH (e:Event {event_id: id}) RETURN e
    UNION
    WITH 1 AS _ WHERE $anchor IS NULL AND $event_ids IS NULL AND $ge_record_time IS NOT NULL
    MATCH (e:Event) WHERE e.record_time >= datetime($ge_record_time) RETURN e
    UNION
    UNWIND $anchor.keys AS k MATCH (n:Lot {key: k}) MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n) RETURN e
    UNION
    UNWIND $anchor.keys AS k MATCH (n:Item {key: k}) MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n) RETURN e
    UNION
    UNWIND $anchor.keys AS k MATCH (n:LogisticUnit {key: k})
    MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n) RETURN e
    UNION
    UNWIND $anchor.keys AS k MATCH (n:OtherObject {key: k})
    MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n) RETURN e
    UNION
    UNWIND $anchor.gtins AS g MATCH (n:Product {gtin: g})
    MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n) RETURN e
    UNION
    UNWIND $anchor.gtins AS g MATCH (n:Lot) WHERE n.gtin = g MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n)
    RETURN e
    UNION
    UNWIND $anchor.gtins AS g MATCH (n:Item) WHERE n.gtin = g MATCH (e:Event)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(n)
    RETURN e
}
WITH e
WHERE ($event_ids IS NULL OR e.event_id IN $event_ids)
  AND ($types IS NULL OR e.type IN $types)
  AND ($actions IS NULL OR e.action IN $actions)
  AND ($biz_steps IS NULL OR e.biz_step IN $biz_steps)
  AND ($dispositions IS NULL OR e.disposition IN $dispositions)
  AND ($read_points IS NULL OR e.read_point IN $read_points)
  AND ($biz_locations IS NULL OR e.biz_location IN $biz_locations)
  AND ($wd_read_points IS NULL OR any(p IN $wd_read_points WHERE e.read_point = p
       OR e.read_point STARTS WITH p + ':'))
  AND ($wd_biz_locations IS NULL OR any(p IN $wd_biz_locations WHERE e.biz_location = p
       OR e.biz_location STARTS WITH p + ':'))
  AND ($ge_event_time IS NULL OR e.event_time >= datetime($ge_event_time))
  AND ($lt_event_time IS NULL OR e.event_time < datetime($lt_event_time))
  AND ($ge_record_time IS NULL OR e.record_time >= datetime($ge_record_time))
  AND ($lt_record_time IS NULL OR e.record_time < datetime($lt_record_time))
  AND ($party IS NULL OR e.recorded_by = $party OR e.read_point STARTS WITH $party_places
       OR e.biz_location STARTS WITH $party_places)
  AND ($epc IS NULL OR EXISTS { MATCH (e)-[:OBJECT|CHILD]->(x) WHERE x.key IN $epc.keys OR (x:Item AND x.gtin IN
       $epc.gtins) })
  AND ($any IS NULL OR EXISTS { MATCH (e)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(x) WHERE x.key IN $any.keys
       OR (x:Item AND x.gtin IN $any.gtins) })
  AND ($cls IS NULL OR EXISTS { MATCH (e)-[:OBJECT|CHILD|INPUT|OUTPUT]->(x) WHERE (x:Lot AND x.key IN $cls.keys)
       OR ((x:Lot OR x:Product) AND x.gtin IN $cls.gtins) })
  AND ($input IS NULL OR EXISTS { MATCH (e)-[:INPUT]->(x) WHERE x.key IN $input.keys OR x.gtin IN $input.gtins })
  AND ($output IS NULL OR EXISTS { MATCH (e)-[:OUTPUT]->(x) WHERE x.key IN $output.keys
       OR x.gtin IN $output.gtins })
  AND ($parent IS NULL OR EXISTS { MATCH (e)-[:PARENT]->(x) WHERE x.key IN $parent.keys
       OR x.gtin IN $parent.gtins })
  AND ($in_cls IS NULL OR EXISTS { MATCH (e)-[:INPUT]->(x) WHERE (x:Lot AND x.key IN $in_cls.keys)
       OR ((x:Lot OR x:Product) AND x.gtin IN $in_cls.gtins) })
  AND ($out_cls IS NULL OR EXISTS { MATCH (e)-[:OUTPUT]->(x) WHERE (x:Lot AND x.key IN $out_cls.keys)
       OR ((x:Lot OR x:Product) AND x.gtin IN $out_cls.gtins) })
  AND ($any_cls IS NULL OR EXISTS { MATCH (e)-[:OBJECT|CHILD|INPUT|OUTPUT]->(x) WHERE (x:Lot AND x.key IN
       $any_cls.keys) OR ((x:Lot OR x:Product) AND x.gtin IN $any_cls.gtins) })
"""
# The order is one of four fixed statements (ORDER BY takes no parameter): the sort property and its direction come
# from this allow-list, never from the request. The cursor is (sort time, eventID) of the last event read.
_RETURN: LiteralString = """
RETURN e.doc AS doc, e.error_declaration AS declaration, e.context AS context, e.event_id AS event_id,
"""
_PAGES: dict[tuple[str, bool], LiteralString] = {
    ("recordTime", False): _PAGE + """
  AND ($after_time IS NULL OR e.record_time > datetime($after_time)
       OR (e.record_time = datetime($after_time) AND e.event_id > $after_id))""" + _RETURN + """
       e.record_time AS sort_time ORDER BY e.record_time, e.event_id LIMIT $limit""",
    ("recordTime", True): _PAGE + """
  AND ($after_time IS NULL OR e.record_time < datetime($after_time)
       OR (e.record_time = datetime($after_time) AND e.event_id > $after_id))""" + _RETURN + """
       e.record_time AS sort_time ORDER BY e.record_time DESC, e.event_id LIMIT $limit""",
    ("eventTime", False): _PAGE + """
  AND ($after_time IS NULL OR e.event_time > datetime($after_time)
       OR (e.event_time = datetime($after_time) AND e.event_id > $after_id))""" + _RETURN + """
       e.event_time AS sort_time ORDER BY e.event_time, e.event_id LIMIT $limit""",
    ("eventTime", True): _PAGE + """
  AND ($after_time IS NULL OR e.event_time < datetime($after_time)
       OR (e.event_time = datetime($after_time) AND e.event_id > $after_id))""" + _RETURN + """
       e.event_time AS sort_time ORDER BY e.event_time DESC, e.event_id LIMIT $limit""",
}

_ONE: LiteralString = """
MATCH (e:Event {event_id: $event_id})
WHERE $party IS NULL OR e.recorded_by = $party OR e.read_point STARTS WITH $party_places
      OR e.biz_location STARTS WITH $party_places
RETURN e.doc AS doc, e.error_declaration AS declaration, e.context AS context
"""

_CONTEXTS: LiteralString = """
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
WHERE e.context IS NOT NULL
RETURN DISTINCT e.context AS context
"""

_ANY: LiteralString = "MATCH (e:Event) RETURN count(e) > 0 AS any"

PARAMS = ("event_ids", "types", "actions", "biz_steps", "dispositions", "read_points", "biz_locations",
          "wd_read_points", "wd_biz_locations", "ge_event_time", "lt_event_time", "ge_record_time",
          "lt_record_time", "party", *MATCH_FILTERS)


def page(graph: Graph, filters: dict[str, Any], limit: int, after: tuple[str, str] | None = None, *,
         order_by: str = "recordTime", descending: bool = False, predicates: list[Predicate] | None = None,
         scan_limit: int = SCAN_LIMIT) -> tuple[list[dict], tuple[int, str] | None]:
    """Return up to ``limit`` events matching every filter and predicate, in sort-key order, after a cursor.

    Args:
        graph: the database.
        filters: PARAMS names -> value or None; match filters are {"keys": [...], "gtins": [...]}.
        limit: the most events to return.
        after: (sort time as UTC ISO text, event_id) of the last event of the previous page.
        order_by: ``recordTime`` or ``eventTime``.
        descending: newest first.
        predicates: conditions on the stored document (gs1.event_query.compile_params); none means the graph's
            filters decide alone and one statement answers the page.
        scan_limit: the most candidates read when predicates filter them.

    Returns:
        (events, cursor): dicts with ``doc`` (the event as captured, plus a later errorDeclaration), ``context``
        (its document's @context), ``event_id`` and ``sort_key`` (the sort time, UTC ISO); and the cursor of the last
        candidate read when
        the scan bound stopped the page before the candidates ran out (else None).
    """
    params = {name: filters.get(name) for name in PARAMS}
    for wd in ("wd_read_points", "wd_biz_locations"):
        if params[wd]:
            # "with descendants": sub-locations by GLN extension (in the statement) and the children captured
            # master data names, at any depth
            params[wd] = master_data.descendants(graph, params[wd])
    anchor = next((params[m] for m in MATCH_FILTERS if params[m] is not None), None)
    statement = _PAGES[("eventTime" if order_by == "eventTime" else "recordTime", descending)]
    base = {**params, "anchor": anchor, "party_places": _places(params["party"])}
    found: list[dict] = []
    read = 0
    batch = limit if not predicates else scan_limit
    while True:
        rows = graph.query(statement, read=True, limit=batch, after_time=after[0] if after else None,
                           after_id=after[1] if after else None, **base)
        for r in rows:
            event = {"doc": as_declared(r["doc"], r["declaration"]), "event_id": r["event_id"],
                     "context": json.loads(r["context"]) if r["context"] else None,
                     "sort_key": utc_iso(r["sort_time"].to_native())}
            after = (event["sort_key"], r["event_id"])
            read += 1
            if not predicates or matches(predicates, EventView.of(event["doc"], event["context"])):
                found.append(event)
                if len(found) == limit:
                    return found, None
        if len(rows) < batch:
            return found, None
        if read >= scan_limit:
            return found, after


def _places(party: str | None) -> str | None:
    # The key prefix of a party's locations: its GLN as a location, with or without an extension.
    return location_key(party) if party is not None else None


def prefixes_of(graph: Graph, event_ids: list[str]) -> dict[str, str]:
    """Return the CURIE prefixes the documents of these events declared (the first declaration of a prefix wins).

    Args:
        graph: the database.
        event_ids: the events.
    """
    out: dict[str, str] = {}
    for r in graph.query(_CONTEXTS, read=True, ids=list(dict.fromkeys(event_ids))):
        ctx = json.loads(r["context"])
        for item in ctx if isinstance(ctx, list) else [ctx]:
            if isinstance(item, dict):
                for name, value in item.items():
                    if isinstance(value, str) and not name.startswith("@"):
                        out.setdefault(name, value)
    return out


def has_events(graph: Graph) -> bool:
    """Return whether any event has been captured (the demo loads itself into a store without events only).

    Args:
        graph: the database.
    """
    return graph.query(_ANY, read=True)[0]["any"]


def get(graph: Graph, event_id: str, party: str | None = None) -> dict:
    """Return one event as captured, with its document's @context.

    Args:
        graph: the database.
        event_id: the eventID.
        party: when set, only an event this party recorded or that happened at its locations is found.

    Raises:
        NotFound: no such event (or not visible to the party).
    """
    rows = graph.query(_ONE, read=True, event_id=event_id, party=party, party_places=_places(party))
    if not rows:
        raise NotFound(f"no event {event_id}", field="eventID")
    return {"doc": as_declared(rows[0]["doc"], rows[0]["declaration"]),
            "context": json.loads(rows[0]["context"]) if rows[0]["context"] else None}


def as_declared(doc: str, declaration: str | None) -> dict:
    """An event's stored document, with the errorDeclaration made later kept beside it (the event as captured is
    never overwritten: EPCIS 2.0 reads a declared event back as the original plus its declaration)."""
    event = json.loads(doc)
    if declaration is not None:
        event["errorDeclaration"] = json.loads(declaration)
    return event
