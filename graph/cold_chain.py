"""Cold-chain excursions: a captured event whose temperature readings leave a product's storage range warns every
lot the event carried (a data-quality alert, ``temperature_excursion``).

Runs inside the capture transaction (graph/events.py calls :func:`on_captured` after writing a document's events),
so the events, their custody and the warnings commit together or not at all, and a warning can never be lost
between a commit and a later job. Only events of a cold-chain business step (gs1/sensor.COLD_CHAIN_STEPS) with
temperature readings cost anything: one statement for the lots they carried, one to raise the alerts, one to link
them to their lots.

What an event carried: the lots it names (objects, children, parent, inputs, outputs), the lots of the items it
names, and everything packed (any depth) into a logistic unit it names by an aggregation at or before the event's
time, with those items' lots. The rule (gs1/sensor.py) judges each lot against its own product's storage range; a
product without recorded storage conditions has no range and is not judged. One alert per event and product (its
dedupe key), naming the event, the readings outside, the limit, how long the series stayed outside, and the lots;
each is linked ``(:Alert)-[:WARNS]->(:Lot)`` so a lot's page and answer find its warnings by index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import LiteralString

from neo4j import ManagedTransaction

from graph.alert_rules import party_view
from graph.alerts import open_alerts
from graph.capture_rules import _here
from graph.driver import Graph, tx_rows, tx_run
from gs1.epcis import NormalizedEvent, parse_time
from gs1.sensor import COLD_CHAIN_STEPS, Limit, excursion, temperature_readings

KIND = "temperature_excursion"

# PACKED_IN runs child -> parent: the contents of a unit the event names are the nodes packed into it, on a path
# of packings all made by the event's time. An item's lot is the lot that HAS_ITEM it.
_CARRIED: LiteralString = """
UNWIND $ids AS id
MATCH (e:Event {event_id: id})
CALL (e) {
    MATCH (e)-[:OBJECT|CHILD|PARENT|INPUT|OUTPUT]->(o)
    MATCH path = (x)-[:PACKED_IN*0..8]->(o)
    WHERE all(r IN relationships(path) WHERE r.time <= e.event_time)
    WITH DISTINCT x
    CALL (x) {
        WITH x WHERE x:Lot RETURN x AS l
        UNION
        MATCH (l:Lot)-[:HAS_ITEM]->(x) RETURN l
    }
    RETURN DISTINCT l
}
OPTIONAL MATCH (p:Product {gtin: l.gtin})
WITH e, l, p ORDER BY l.key
RETURN e.event_id AS event_id,
       collect({key: l.key, gtin: l.gtin, lot: l.lot, owner: l.owner_gln, min_c: p.storage_min_c,
                max_c: p.storage_max_c, name_zh: p.name_zh, name_en: p.name_en}) AS lots
"""

_LINK: LiteralString = """
UNWIND $links AS k
MATCH (a:Alert {alert_id: k.alert})
MATCH (l:Lot {key: k.lot})
MERGE (a)-[:WARNS]->(l)
"""


def candidates(events: list[NormalizedEvent]) -> dict[str, tuple[NormalizedEvent, list]]:
    """The events worth judging: a cold-chain step, not an error declaration, with temperature readings."""
    out = {}
    for ev in events:
        if ev.error_declaration is not None or ev.biz_step not in COLD_CHAIN_STEPS or not ev.sensor_elements:
            continue
        readings = temperature_readings(ev.sensor_elements, parse_time(ev.event_time, "eventTime"))
        if readings and ev.event_id:
            out[ev.event_id] = (ev, readings)
    return out


def on_captured(tx: ManagedTransaction, events: list[NormalizedEvent], recorded_by: str | None,
                now: datetime | None = None) -> list[dict]:
    """Warn the lots that captured events carried through a temperature excursion, in the capture's transaction.

    Args:
        tx: the capture's write transaction, after the events and their edges are written.
        events: the events the document wrote (duplicates and refused events left out).
        recorded_by: the capturing party's GLN, None for an admin; the party at the event's place (else this one)
            is told too: the readings are its own.
        now: the raising instant (tests); the current time otherwise.

    Returns:
        One {"alert_id", "created", "event_id", "gtin", "lots"} per alert raised (an event resent raises none).
    """
    judged = candidates(events)
    if not judged:
        return []
    return raise_found(tx, judge(judged, tx_rows(tx, _CARRIED, ids=sorted(judged)), recorded_by), now)


def judge(judged: dict[str, tuple[NormalizedEvent, list]], carried: Iterable[dict],
          recorded_by: str | None) -> list[tuple[dict, dict]]:
    """The alerts the judged events call for, given what each carried.

    Args:
        judged: :func:`candidates` of the document.
        carried: _CARRIED's rows for them: {"event_id", "lots": [{key, gtin, lot, owner, min_c, max_c, name_zh,
            name_en}] in key order}, an event that carried no lot left out (graph/history_import answers them from
            its in-memory store).
        recorded_by: as :func:`on_captured` takes it.

    Returns:
        (alert as alerts.open_alerts takes it, {"event_id", "gtin", "lots"}) per event and product out of range.
    """
    out = []
    for row in carried:
        ev, readings = judged[row["event_id"]]
        by_gtin: dict[str, list[dict]] = {}
        for lot in row["lots"]:
            by_gtin.setdefault(lot["gtin"], []).append(lot)
        for gtin, lots in sorted(by_gtin.items()):
            limit = Limit.of(lots[0]["min_c"], lots[0]["max_c"])
            found = excursion(readings, limit) if limit is not None else None
            if found is None:
                continue
            keys = [lot["key"] for lot in lots]
            owners = {lot["key"]: lot["owner"] for lot in lots}
            place = _here(ev) or recorded_by
            parties = sorted({o for o in owners.values() if o} | ({place} if place else set()))
            bound = (f"{found['limit']['min_c']}–{found['limit']['max_c']} °C" if found["limit"]["min_c"] is not None
                     and found["limit"]["max_c"] is not None else
                     f"<= {found['limit']['max_c']} °C" if found["limit"]["max_c"] is not None else
                     f">= {found['limit']['min_c']} °C")
            name = lots[0]["name_zh"] or lots[0]["name_en"] or gtin
            out.append(({
                "kind": KIND, "subject_keys": keys, "dedupe_key": f"{KIND}:{ev.event_id}:{gtin}", "parties": parties,
                "summary": f"{name}: {ev.biz_step} event {ev.event_id} read {found['peak_c']} °C, outside {bound} "
                           f"({len(found['readings'])} readings, {round(found['seconds_outside'] / 60)} min); "
                           f"{len(keys)} lots warned",
                "details": {**found, "event_id": ev.event_id, "event_type": ev.type, "biz_step": ev.biz_step,
                            "event_time": ev.event_time, "gtin": gtin, "lots": keys, "owners": owners,
                            "recorded_at": place}},
                {"event_id": ev.event_id, "gtin": gtin, "lots": keys}))
    return out


def raise_found(tx: ManagedTransaction, found: list[tuple[dict, dict]], now: datetime | None = None) -> list[dict]:
    """Raise what :func:`judge` found (each alert once: its dedupe key) and link each to the lots it warns."""
    if not found:
        return []
    raised = open_alerts(tx, [alert for alert, _ in found], now=now)
    meta = [m for _, m in found]
    links = [{"alert": r["alert_id"], "lot": k} for r, m in zip(raised, meta, strict=True) for k in m["lots"]]
    tx_run(tx, _LINK, links=links)
    return [{**r, **m} for r, m in zip(raised, meta, strict=True)]


_LOT_WARNINGS: LiteralString = """
MATCH (:Lot {key: $key})<-[:WARNS]-(a:Alert)
WITH a ORDER BY a.raised_at DESC LIMIT $limit
RETURN a {.alert_id, .kind, .state, .summary, .details_json, .subject_keys, .parties,
          raised_at: toString(a.raised_at)} AS alert
"""


def lot_warnings(graph: Graph, key: str, party: str | None = None, limit: int = 20) -> list[dict]:
    """Return the data-quality warnings on one lot, newest first (at most ``limit``), details decoded.

    Args:
        graph: the database.
        key: the lot's business key.
        party: a party's own view (its lot's warnings naming only its own lots, graph/alert_rules.party_view);
            None for regulators and admins (everything, with each lot's owner).
        limit: how many to return.

    Raises:
        Unavailable: the database does not answer.
    """
    out = []
    for row in graph.query(_LOT_WARNINGS, read=True, key=key, limit=limit):
        a = dict(row["alert"])
        a["details"] = json.loads(a.pop("details_json") or "{}")
        a["subject_keys"], a["parties"] = a["subject_keys"] or [], a["parties"] or []
        out.append(party_view(a, party) if party is not None else a)
    return out
