"""What a spreadsheet import looks up before it writes: which of its rows' identities the store has already.

The import (app/imports.py) plans its writes with identities derived from each row's content; this says which
are recorded (a re-upload's rows are duplicates, skipped) and which lots exist (a new lot number must be free,
an inspected lot must exist). Writes go through the usual functions (graph/lots.create, app/capture.record_events,
graph/quality.record_inspection), never here.
"""

from __future__ import annotations

from typing import LiteralString

from graph.driver import Graph

KNOWN: LiteralString = """
CALL () {
    UNWIND $event_ids AS id
    MATCH (e:Event {event_id: id})
    RETURN collect(e.event_id) AS events
}
CALL () {
    UNWIND $lot_keys AS key
    MATCH (l:Lot {key: key})
    RETURN collect(l.key) AS lots
}
CALL () {
    UNWIND $inspection_keys AS key
    MATCH (i:Inspection {key: key})
    RETURN collect(i.key) AS inspections
}
RETURN events, lots, inspections
"""

# The trading parties a file names by GLN (the template's drop-down holds only the first few hundred by name).
NAMED_PARTIES: LiteralString = """
UNWIND $glns AS gln
MATCH (p:Party {gln: gln}) WHERE NOT 'regulator' IN coalesce(p.roles, []) AND NOT 'certifier' IN coalesce(p.roles, [])
RETURN p.gln AS gln, p.name_zh AS name_zh, p.name_en AS name_en
"""


def known(graph: Graph, event_ids: list[str], lot_keys: list[str], inspection_keys: list[str]) -> dict[str, set]:
    """Return which of these eventIDs, lot keys and inspection keys are in the store.

    Args:
        graph: the database.
        event_ids: eventIDs (urn:uuid:..., or an origin event's hash).
        lot_keys: lot business keys (lot:<gtin>:<lot>).
        inspection_keys: <lab GLN>:<report number>.

    Returns:
        {"events": set, "lots": set, "inspections": set}: the ones found.
    """
    rows = graph.query(KNOWN, read=True, event_ids=list(dict.fromkeys(event_ids)),
                       lot_keys=list(dict.fromkeys(lot_keys)), inspection_keys=list(dict.fromkeys(inspection_keys)))
    row = rows[0] if rows else {"events": [], "lots": [], "inspections": []}
    return {k: set(row[k]) for k in ("events", "lots", "inspections")}


def parties(graph: Graph, glns: list[str]) -> list[dict]:
    """Return the trading parties (not regulators or certifiers) among these GLNs: {gln, name_zh, name_en}.

    Args:
        graph: the database.
        glns: GLNs as a file names them (unknown ones are left out).
    """
    return graph.query(NAMED_PARTIES, read=True, glns=list(dict.fromkeys(glns))[:5000])
