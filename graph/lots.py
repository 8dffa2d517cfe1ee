"""Lots (GTIN + batch/lot number, GS1 AI 10) and their holders."""

from __future__ import annotations

from graph import events
from graph.driver import Graph, tx_rows
from graph.errors import NotFound
from gs1.epcis import context_prefixes, normalize_event
from gs1.event_builders import origin_event
from gs1.event_hash import event_hash
from gs1.identifiers import lot_key

LOT_STATUSES = ("active", "on_hold", "recalled")
LOT_FIELDS = ("gtin", "lot", "quantity", "unit", "production_date", "expiry_date", "status", "owner_gln", "age_years")


def create(graph: Graph, lot: dict, origin: dict | None = None, policy: events.Policy | None = None) -> dict:
    """Register a lot of an existing product and record its origin EPCIS event in the same transaction.

    The origin event (harvesting, slaughtering or commissioning as gs1.event_builders.ORIGIN_STEPS says; for a
    slaughter with animal IDs, a TransformationEvent from the animals) goes through graph/events.py like any
    capture, which gives the owner its HOLDS of the full quantity.

    Args:
        graph: the database.
        lot: validated fields; production_date/expiry_date are ISO dates (strings) or None.
        origin: optional {"kind": production|harvest|slaughter, "animal_ids": [...],
            "quarantine_certificate": str, "event_time": ISO text, "age_years": int (kept on the lot and in
            the origin event's ILMD)}.
        policy: who records it (default: the service itself, e.g. the demo loader and tests).

    Raises:
        NotFound: the product or the owner party does not exist.
        Conflict: the lot exists already.
    """
    params = {k: lot.get(k) for k in LOT_FIELDS}
    params["key"] = lot_key(lot["gtin"], lot["lot"])
    params["status"] = params["status"] or "active"
    params["age_years"] = params["age_years"] or (origin or {}).get("age_years")  # a harvest's root age (年限)
    raw = origin_event(params, origin or {})
    normalised = normalize_event(raw, "", context_prefixes())
    normalised.event_id = event_hash(raw)
    policy = policy or events.Policy()

    def work(tx):
        rows = tx_rows(
            tx,
            """
            OPTIONAL MATCH (prod:Product {gtin: $p.gtin})
            OPTIONAL MATCH (owner:Party {gln: $p.owner_gln})
            CALL (prod, owner) {
                WITH prod, owner WHERE prod IS NOT NULL AND owner IS NOT NULL
                CREATE (l:Lot {key: $p.key, gtin: $p.gtin, lot: $p.lot, quantity: $p.quantity, unit: $p.unit,
                               production_date: date($p.production_date), expiry_date: date($p.expiry_date),
                               status: $p.status, owner_gln: $p.owner_gln, age_years: $p.age_years,
                               created_at: datetime()})
                CREATE (l)-[:OF_PRODUCT]->(prod)
                RETURN l
            }
            RETURN prod IS NOT NULL AS product_found, owner IS NOT NULL AS owner_found, l {.*} AS lot
            """,
            p=params,
        )
        if not rows:
            return None
        job = events.CaptureJob(events.new_capture_id(), event_count=1)
        events.capture_tx(tx, [(0, normalised)], policy, job)
        events.raise_first_error(job)
        return rows[0]["lot"]

    created = graph.write(work)
    if created is None:
        row = graph.query(
            "OPTIONAL MATCH (p:Product {gtin: $gtin}) RETURN p IS NOT NULL AS found", read=True, gtin=params["gtin"]
        )[0]
        if not row["found"]:
            raise NotFound(f"no product with GTIN {params['gtin']}", field="gtin")
        raise NotFound(f"no party with GLN {params['owner_gln']}", field="owner_gln")
    return clean(created)


def get(graph: Graph, gtin: str, lot: str) -> dict:
    """Return one lot with its holders.

    Raises:
        NotFound: no such lot.
    """
    rows = graph.query(
        """
        MATCH (l:Lot {key: $key})
        OPTIONAL MATCH (h:Party)-[r:HOLDS]->(l) WHERE r.quantity > 0
        RETURN l {.*} AS lot, collect({gln: h.gln, quantity: r.quantity, unit: r.unit}) AS holders
        """,
        read=True,
        key=lot_key(gtin, lot),
    )
    if not rows:
        raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
    out = clean(rows[0]["lot"])
    out["holders"] = [h for h in rows[0]["holders"] if h["gln"] is not None]
    return out


def clean(props: dict) -> dict:
    """Return a lot's public fields with dates as ISO strings."""
    out = {k: props.get(k) for k in LOT_FIELDS}
    for k in ("production_date", "expiry_date"):
        if out[k] is not None and not isinstance(out[k], str):
            out[k] = out[k].iso_format()
    return out
