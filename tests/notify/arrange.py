"""Arrange notification tests and the benchmark: a producer's lot shipped to N holders, each with every address."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from graph import events, parties, products, tokens
from gs1.epcis import parse_document
from gs1.event_builders import shipment_event
from tests import factories

CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]


def shipped_lot(graph, holders: int, per_holder: float = 2.0, email_domain: str = "example.test") -> dict:
    """A producer's lot shipped to `holders` retailers (each a party with e-mail and phone), in one capture.

    Returns:
        {producer, product, lot, retailers: [party...], held: {gln: quantity}} with the answer computed here, not
        by the code under test: the producer keeps the rest, each retailer has per_holder KGM in transit.
    """
    producer = _party(graph, "processor", email_domain)
    product = {"gtin": factories.gtin(), "name_zh": "长白山人参", "name_en": "Changbai ginseng",
               "category": "ginseng", "unit": "KGM", "owner_gln": producer["gln"]}
    products.create(graph, product)
    total = holders * per_holder + 10
    lot = {"gtin": product["gtin"], "lot": factories.lot_code(), "quantity": total, "unit": "KGM",
           "production_date": "2026-09-20", "expiry_date": None, "owner_gln": producer["gln"]}
    from graph import lots

    lots.create(graph, lot)
    retailers = [_party(graph, "retailer", email_domain) for _ in range(holders)]
    # each its own eventID (capture keys events by it), in the past as capture wants
    start = datetime.now(UTC) - timedelta(seconds=holders + 60)
    raw = [shipment_event({"party_gln": producer["gln"], "destination_gln": r["gln"],
                           "event_time": start + timedelta(seconds=i),
                           "lots": [{"gtin": lot["gtin"], "lot": lot["lot"], "quantity": per_holder,
                                     "unit": "KGM"}], "documents": []}) for i, r in enumerate(retailers)]
    for event in raw:
        event["eventID"] = f"urn:uuid:{uuid.uuid4()}"
    if raw:
        doc = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
               "creationDate": "2026-06-01T00:00:00Z", "epcisBody": {"eventList": raw}}
        normalized = parse_document(doc)
        job = events.CaptureJob(capture_id=events.new_capture_id(), event_count=len(normalized))
        events.capture(graph, list(enumerate(normalized)), events.Policy(role="admin"), job, context=CONTEXT)
        assert job.success, job.errors
    held = {r["gln"]: per_holder for r in retailers}
    held[producer["gln"]] = total - holders * per_holder
    return {"producer": producer, "product": product, "lot": lot, "retailers": retailers, "held": held}


def _party(graph, role: str, email_domain: str) -> dict:
    gln = factories.gln()
    record = {"gln": gln, "name_zh": f"测试{role}{gln[-4:]}", "name_en": f"Test {role} {gln[-4:]}",
              "roles": [role], "region_code": "220621", "region_zh": "抚松县", "contact_phone": "1380000" + gln[-4:],
              "contact_email": f"p{gln}@{email_domain}", "company_prefixes": ["699"]}
    parties.create(graph, record)
    record["token"] = tokens.create(graph, "producer", gln, "test")["token"]
    return record
