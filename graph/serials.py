"""Print runs: N new signed item serials for a lot, created atomically, and the facts a label prints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from neo4j import ManagedTransaction

from graph import credit
from graph.driver import Graph, tx_rows
from graph.errors import Conflict, NotFound
from gs1.identifiers import item_key, lot_key

# A collision needs two equal 50-bit random parts in the same product: one retry is already astronomically rare.
_ATTEMPTS = 5


def label_facts(graph: Graph, gtin: str, lot: str) -> dict:
    """Return what a lot's label prints: names, dates, origin, valid certificate types, and the lot's owner.

    Origin is the region of the farms the lot comes from (the parties where its upstream lots were
    commissioned or harvested), falling back to the lot owner's region.

    Args:
        graph: the database.
        gtin: GTIN-14 of the lot.
        lot: the lot number.

    Raises:
        NotFound: no such lot.
    """
    rows = graph.query(
        """
        MATCH (l:Lot {key: $key})-[:OF_PRODUCT]->(p:Product)
        OPTIONAL MATCH (owner:Party {gln: l.owner_gln})
        CALL (l) {
            OPTIONAL MATCH (u)-[:TRANSFORMED_INTO|HAS_ITEM|PACKED_IN*0..16]->(l)
            WHERE NOT (u)<-[:TRANSFORMED_INTO]-()
            OPTIONAL MATCH (e:Event)-[:OBJECT|OUTPUT]->(u)
            WHERE e.biz_step IN ['commissioning', 'harvesting', 'slaughtering'] AND NOT coalesce(e.erroneous, false)
            OPTIONAL MATCH (e)-[:BIZ_LOCATION|READ_POINT]->(:Location)-[:OF_PARTY]->(farm:Party)
            WHERE 'farm' IN coalesce(farm.roles, [])
            RETURN collect(DISTINCT farm.region_zh) AS farm_regions, collect(DISTINCT u) AS upstream
        }
        CALL (l, p, owner, upstream) {
            UNWIND upstream + [p, l, owner] AS subject
            MATCH (c:Certificate)-[:CERTIFIES]->(subject)
            WHERE (c.valid_from IS NULL OR date(c.valid_from) <= date())
              AND (c.valid_until IS NULL OR date(c.valid_until) >= date())
            RETURN collect(DISTINCT c.type) AS badges
        }
        RETURN p.name_zh AS name_zh, p.name_en AS name_en, l.production_date AS production_date,
               l.expiry_date AS expiry_date, l.owner_gln AS owner_gln, l.origin_region AS origin_region,
               owner.region_zh AS owner_region, farm_regions, badges
        """,
        read=True,
        key=lot_key(gtin, lot),
    )
    if not rows:
        raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
    row = rows[0]
    regions = [r for r in row["farm_regions"] if r] or [r for r in (row["origin_region"], row["owner_region"]) if r]
    return {
        "name_zh": row["name_zh"] or "",
        "name_en": row["name_en"] or "",
        "production_date": _py_date(row["production_date"]),
        "expiry_date": _py_date(row["expiry_date"]),
        "owner_gln": row["owner_gln"],
        "origin": "、".join(regions),
        "badges": sorted(row["badges"]),
    }


def create_run(
    graph: Graph, gtin: str, lot: str, count: int, new_serial: Callable[[], str], created_by: str | None = None
) -> dict:
    """Create `count` new items of a lot in one transaction and return the run with its serials.

    The items get `HAS_ITEM` from the lot and `OF_PRODUCT` to the product; a `PrintRun` node records who printed
    how many. The uniqueness constraint on `Item.key` guards against equal serials from concurrent runs: a
    colliding run is rolled back whole and retried with fresh serials, so a run is all-or-nothing.

    Args:
        graph: the database.
        gtin: GTIN-14 of the lot.
        lot: the lot number.
        count: how many serials to create (the caller bounds it).
        new_serial: returns one new signed serial per call.
        created_by: the token id that asked for the run (audit).

    Raises:
        NotFound: no such lot.
        Conflict: serials collided on every attempt (practically impossible; retry the request).
    """
    for _ in range(_ATTEMPTS):
        serials = list(dict.fromkeys(new_serial() for _ in range(count)))
        while len(serials) < count:
            serials = list(dict.fromkeys([*serials, new_serial()]))
        run_id = str(uuid.uuid4())
        try:
            created = graph.write(_create_run, gtin, lot, serials, run_id, created_by)
        except Conflict:
            continue
        if created is None:
            raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
        return {"run_id": run_id, "gtin": gtin, "lot": lot, "count": len(serials), "serials": serials}
    raise Conflict("could not allocate unique serials; retry the request")


def _create_run(tx: ManagedTransaction, gtin: str, lot: str, serials: list[str], run_id: str,
                created_by: str | None) -> int | None:
    # A blacklisted owner prints only with a regulator's approval in force (联合惩戒; graph/credit.py).
    credit.ensure_lot_permitted(tx, lot_key(gtin, lot), "labels")
    rows = tx_rows(
        tx,
        """
        MATCH (l:Lot {key: $lot_key})-[:OF_PRODUCT]->(p:Product)
        CREATE (run:PrintRun {run_id: $run_id, gtin: $gtin, lot: $lot, count: size($serials),
                              created_at: datetime(), created_by: $created_by})
        CREATE (l)-[:HAS_PRINT_RUN]->(run)
        WITH l, p, run
        UNWIND $serials AS serial
        CREATE (i:Item {key: $item_key_stem + serial, gtin: $gtin, serial: serial, lot: $lot,
                        print_run: $run_id, created_at: run.created_at})
        CREATE (l)-[:HAS_ITEM {print_run: $run_id}]->(i)
        CREATE (i)-[:OF_PRODUCT]->(p)
        RETURN count(i) AS n
        """,
        lot_key=lot_key(gtin, lot),
        item_key_stem=item_key(gtin, ""),  # every item's key is this stem + its serial
        run_id=run_id,
        gtin=gtin,
        lot=lot,
        serials=serials,
        created_by=created_by,
    )
    n = rows[0]["n"] if rows else 0
    return n or None


def _py_date(value) -> date | None:
    """A Neo4j Date (or ISO string) as a datetime.date; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.to_native()


def item_in_lot(graph: Graph, gtin: str, lot: str, serial: str) -> bool:
    """Tell whether this serial is a registered item of this lot.

    Raises:
        Unavailable: the database does not answer.
    """
    rows = graph.query(
        "OPTIONAL MATCH (i:Item {key: $key}) RETURN i IS NOT NULL AND i.lot = $lot AS found",
        read=True,
        key=item_key(gtin, serial),
        lot=lot,
    )
    return bool(rows[0]["found"])


def runs(graph: Graph, gtin: str, lot: str, limit: int = 50) -> list[dict]:
    """Return a lot's print runs, newest first: run_id, count, created_at (datetime), created_by.

    Args:
        graph: the database.
        gtin: GTIN-14 of the lot.
        lot: the lot number.
        limit: at most this many runs.

    Raises:
        Unavailable: the database does not answer.
    """
    rows = graph.query(
        """
        MATCH (:Lot {key: $key})-[:HAS_PRINT_RUN]->(run:PrintRun)
        RETURN run.run_id AS run_id, run.count AS count, run.created_at AS created_at, run.created_by AS created_by
        ORDER BY run.created_at DESC LIMIT $limit
        """,
        read=True,
        key=lot_key(gtin, lot),
        limit=limit,
    )
    return [{**r, "created_at": r["created_at"].to_native()} for r in rows]


def run_serials(graph: Graph, gtin: str, lot: str, run_id: str) -> dict:
    """Return one past print run of a lot with its serials (sorted), to print the same labels again.

    Args:
        graph: the database.
        gtin: GTIN-14 of the lot.
        lot: the lot number.
        run_id: the run.

    Raises:
        NotFound: the lot has no such run.
        Unavailable: the database does not answer.
    """
    rows = graph.query(
        """
        MATCH (l:Lot {key: $key})-[:HAS_PRINT_RUN]->(run:PrintRun {run_id: $run_id})
        OPTIONAL MATCH (l)-[:HAS_ITEM {print_run: $run_id}]->(i:Item)
        WITH run, i ORDER BY i.serial
        RETURN run.run_id AS run_id, run.count AS count, run.created_at AS created_at,
               collect(i.serial) AS serials
        """,
        read=True,
        key=lot_key(gtin, lot),
        run_id=run_id,
    )
    if not rows:
        raise NotFound(f"lot {lot} has no print run {run_id}", field="run_id")
    row = rows[0]
    return {"run_id": row["run_id"], "gtin": gtin, "lot": lot, "count": row["count"],
            "created_at": row["created_at"].to_native(), "serials": row["serials"]}
