"""The EPCIS 2.0 events TraceGraph builds itself (pure; no Flask, no Neo4j), one home for all of them.

The producer-friendly API's actions (transform, pack, ship, receive, sell/consume/destroy), a lab's inspection, a
lot's origin and a recall's `recalled` observations are each built here as standard events, and then recorded
through the one write path like any captured event. Identifiers in them are GS1 Digital Links.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from gs1.epcis import OWN_NS, EPCQuantity, NormalizedEvent, normalize_event
from gs1.identifiers import GS1_BASE, Ref
from gs1.timezones import CHINA, CHINA_OFFSET

# What a producer's disposition kind records: (bizStep, disposition).
DISPOSITIONS = {"sold": ("retail_selling", "retail_sold"), "consumed": ("dispensing", "dispensed"),
                "destroyed": ("destroying", "destroyed")}
# A recall's `recalled` observations: one ObjectEvent per this many affected objects.
EVENT_CHUNK = 1000
RECALL_NS = OWN_NS
# ILMD field of a lot's origin event listing the farm inputs used: [{kind, name, dose, applied, safety_days}].
FARM_INPUTS = "tracegraph:farmInputs"
# ILMD field of a transformation: the production date of the lots it makes (CBV has expiry and harvest dates, but
# no production date for made goods).
PRODUCTION_DATE = "tracegraph:productionDate"
# ILMD field of a harvested lot's origin event: the roots' age in years (ginseng 年限); the demo's own events name it
# tg:rootAgeYears, and readers take the name under any prefix.
ROOT_AGE = "tracegraph:rootAgeYears"


# ---------------------------------------------------------------- identifiers and times in events


def lot_uri(gtin: str, lot: str) -> str:
    """Return the GS1 Digital Link URI of a lot (the class identifier used in quantity lists)."""
    return Ref("lot", gtin=gtin, lot=lot).digital_link()


def location_uri(gln: str) -> str:
    """Return the GS1 Digital Link URI of a party's main location (AI 414)."""
    return Ref("location", gln=gln).digital_link()


def party_uri(gln: str) -> str:
    """Return the GS1 Digital Link URI of a party (AI 417)."""
    return Ref("party", gln=gln).digital_link()


def item_uri(x: dict) -> str:
    """Return the Digital Link URI of a logistic unit ({sscc}) or a serialized item ({gtin, serial, lot?})."""
    if "sscc" in x:
        return Ref("sscc", sscc=x["sscc"]).digital_link()
    return Ref("item", gtin=x["gtin"], lot=x.get("lot"), serial=x["serial"]).digital_link()


def animal_uri(ear_tag: str) -> str:
    """Return the URI an animal's ear-tag ID is recorded under."""
    return "urn:tracegraph:animal:" + quote(ear_tag, safe="")


def certificate_uri(issuer_gln: str, number: str) -> str:
    """Return the URI a certificate number (e.g. an animal quarantine certificate) is recorded under."""
    return f"urn:tracegraph:cert:{issuer_gln}:" + quote(number, safe="")


def owning_parties(source_gln: str, destination_gln: str) -> dict:
    """Return the sourceList and destinationList naming the owning parties goods go from and to."""
    return {"sourceList": [{"type": "owning_party", "source": party_uri(source_gln)}],
            "destinationList": [{"type": "owning_party", "destination": party_uri(destination_gln)}]}


def business_transaction(issuer_gln: str, number: str) -> str:
    """Return the CBV business transaction identifier of a document: urn:epcglobal:cbv:bt:{issuer GLN}:{number}."""
    return f"urn:epcglobal:cbv:bt:{issuer_gln}:{quote(number, safe='')}"


def event_time(value: datetime | None) -> tuple[str, str]:
    """Return (eventTime, eventTimeZoneOffset) for a given or the current time (China time when none)."""
    if value is None:
        value = datetime.now(UTC).astimezone(CHINA)
    text = value.isoformat(timespec="milliseconds")
    offset = text[-6:] if text[-6] in "+-" else "+00:00"
    return text, offset


# ---------------------------------------------------------------- the producer-friendly API's actions
# Each takes the action as its schema loaded it (app/schemas/events.py): party_gln, event_time (or None), lots
# ({gtin, lot, quantity, unit}), documents ({type, id}) and the action's own fields.


def transformation_event(body: dict) -> dict:
    """Return the TransformationEvent turning input lots (quantities consumed) into output lots at the party; the
    outputs' production and expiry dates, when given, are the event's ILMD (the new lots' own master data)."""
    event = _base(body, "TransformationEvent", None, "commissioning", "active")
    event["inputQuantityList"] = [_quantity(x) for x in body["inputs"]]
    event["outputQuantityList"] = [_quantity(x) for x in body["outputs"]]
    ilmd = {}
    if body.get("production_date"):
        ilmd[PRODUCTION_DATE] = _iso_day(body["production_date"])
    if body.get("expiry_date"):
        ilmd["cbvmda:itemExpirationDate"] = _iso_day(body["expiry_date"])
    if ilmd:
        event["ilmd"] = ilmd
    return event


def _iso_day(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def aggregation_event(body: dict) -> dict:
    """Return the AggregationEvent packing children into a parent (action ADD) or unpacking them (DELETE)."""
    packing = body["action"] == "ADD"
    event = _base(body, "AggregationEvent", body["action"], "packing" if packing else "unpacking",
                  "container_closed" if packing else "container_open")
    event["parentID"] = item_uri(body["parent"])
    # A child with a quantity is some of a lot (packed by weight or count: childQuantityList); others are
    # serialized items or logistic units (childEPCs).
    lots = [_quantity(c) for c in body["children"] if "quantity" in c]
    epcs = [item_uri(c) for c in body["children"] if "quantity" not in c]
    if epcs or not lots:
        event["childEPCs"] = epcs
    if lots:
        event["childQuantityList"] = lots
    return event


def unit_commissioning_event(body: dict) -> dict:
    """Return the ObjectEvent (ADD, commissioning) that brings a new logistic unit (a case or pallet: body["sscc"])
    into being at the party: from then on the party holds it, so it can be packed into a pallet and shipped."""
    event = _base(body, "ObjectEvent", "ADD", "commissioning", "active")
    event["epcList"] = [item_uri({"sscc": body["sscc"]})]
    return event


def shipment_event(body: dict) -> dict:
    """Return the shipping ObjectEvent of lots from the party to destination_gln, with its business documents."""
    event = _base(body, "ObjectEvent", "OBSERVE", "shipping", "in_transit")
    event["quantityList"] = [_quantity(x) for x in body["lots"]]
    event.update(owning_parties(body["party_gln"], body["destination_gln"]))
    _documents(event, body)
    return event


def receipt_event(body: dict) -> dict:
    """Return the receiving ObjectEvent of lots from source_gln at the party, with its business documents."""
    event = _base(body, "ObjectEvent", "OBSERVE", "receiving", "in_progress")
    event["quantityList"] = [_quantity(x) for x in body["lots"]]
    event.update(owning_parties(body["source_gln"], body["party_gln"]))
    _documents(event, body)
    return event


def disposition_event(body: dict) -> dict:
    """Return the ObjectEvent of a retail sale, consumption or destruction (kind: one of DISPOSITIONS) of lots."""
    step, disposition = DISPOSITIONS[body["kind"]]
    event = _base(body, "ObjectEvent", "OBSERVE", step, disposition)
    event["quantityList"] = [_quantity(x) for x in body["lots"]]
    return event


def _base(body: dict, kind: str, action: str | None, biz_step: str, disposition: str) -> dict:
    when, offset = event_time(body.get("event_time"))
    event = {"type": kind, "eventTime": when, "eventTimeZoneOffset": offset}
    if action:
        event["action"] = action
    event.update(bizStep=biz_step, disposition=disposition,
                 readPoint={"id": location_uri(body["party_gln"])}, bizLocation={"id": location_uri(body["party_gln"])})
    return event


def _quantity(x: dict) -> dict:
    return {"epcClass": lot_uri(x["gtin"], x["lot"]), "quantity": x["quantity"], "uom": x["unit"]}


def _documents(event: dict, body: dict) -> None:
    if body["documents"]:
        event["bizTransactionList"] = [
            {"type": d["type"], "bizTransaction": business_transaction(body["party_gln"], d["id"])}
            for d in body["documents"]]


# ---------------------------------------------------------------- quality, origin, recall


def inspection_event(lab_gln: str, gtin: str, lot: str, verdict: str, report_no: str,
                     when: datetime | None = None) -> dict:
    """Return the inspecting ObjectEvent of a lab's report on a lot (conformant when the verdict is 'pass').

    Args:
        lab_gln: the lab's GLN (its location reads the sample; it issues the report).
        gtin: the lot's GTIN-14.
        lot: the lot number.
        verdict: 'pass' or 'fail'.
        report_no: the report's number (the test result business transaction).
        when: the inspection's time (default: now, China time).
    """
    at = (when or datetime.now(UTC).astimezone(CHINA)).isoformat(timespec="milliseconds")
    return {
        "type": "ObjectEvent", "eventTime": at, "eventTimeZoneOffset": at[-6:], "action": "OBSERVE",
        "bizStep": "inspecting", "disposition": "conformant" if verdict == "pass" else "non_conformant",
        "quantityList": [{"epcClass": lot_uri(gtin, lot)}],
        "readPoint": {"id": location_uri(lab_gln)},
        "bizTransactionList": [{"type": "testres", "bizTransaction": business_transaction(lab_gln, report_no)}],
    }


# The bizStep of a lot's origin event by the kind of origin: it says what happened (FSMA 204 reads a harvest from
# it); any other production only commissions the lot's identity.
ORIGIN_STEPS = {"harvest": "harvesting", "slaughter": "slaughtering"}


def origin_event(lot: dict, origin: dict) -> dict:
    """Return the EPCIS event that records a lot at its origin, at the owner's location: harvesting for a harvest,
    slaughtering for a slaughter, commissioning for any other production (ORIGIN_STEPS).

    Args:
        lot: gtin, lot, quantity, unit, owner_gln, production_date and optional expiry_date.
        origin: optional kind ('harvest', 'slaughter'), event_time, animal_ids (a slaughter's animals: the lot is
            then the output of a TransformationEvent from them), quarantine_certificate, and ILMD of
            our own: plot (field name), area_mu (area in mu) and farm_inputs (FARM_INPUTS).
    """
    place = {"id": Ref("location", gln=lot["owner_gln"]).digital_link()}
    quantity = {"epcClass": Ref("lot", gtin=lot["gtin"], lot=lot["lot"]).digital_link(),
                "quantity": lot["quantity"], "uom": lot["unit"]}
    when = origin.get("event_time") or f"{lot['production_date']}T00:00:00.000{CHINA_OFFSET}"
    event: dict = {"type": "ObjectEvent", "eventTime": when, "eventTimeZoneOffset": when[-6:], "action": "ADD"}
    ilmd: dict = {"cbvmda:lotNumber": lot["lot"]}
    if lot.get("expiry_date"):
        ilmd["cbvmda:itemExpirationDate"] = lot["expiry_date"]
    if origin.get("kind") == "harvest":
        ilmd["cbvmda:harvestStartDate"] = lot["production_date"]
    if origin.get("plot"):
        ilmd["tracegraph:plot"] = origin["plot"]
    if origin.get("area_mu"):
        ilmd["tracegraph:areaMu"] = origin["area_mu"]
    if origin.get("age_years"):
        ilmd[ROOT_AGE] = int(origin["age_years"])
    if origin.get("farm_inputs"):
        # The 投入品 record (pesticides, fertilisers, veterinary drugs used on the lot) is the lot's own master
        # data: kept in its origin event's ILMD, so it is hashed, exported and traced with the event.
        ilmd[FARM_INPUTS] = [dict(x) for x in origin["farm_inputs"]]
    if origin.get("kind") == "slaughter" and origin.get("animal_ids"):
        # The carcass lot comes from the animals: a transformation keeps them upstream of the lot in a trace.
        event = {"type": "TransformationEvent", "eventTime": when, "eventTimeZoneOffset": when[-6:],
                 "inputEPCList": [animal_uri(a) for a in origin["animal_ids"]], "outputQuantityList": [quantity]}
    else:
        event["quantityList"] = [quantity]
    event.update(bizStep=ORIGIN_STEPS.get(origin.get("kind") or "", "commissioning"), disposition="active",
                 readPoint=place, bizLocation=place, ilmd=ilmd)
    if origin.get("quarantine_certificate"):
        event["certificationInfo"] = certificate_uri(lot["owner_gln"], origin["quarantine_certificate"])
    return event


def recalled_events(recall_id: str, affected: list[str], at: datetime) -> list[NormalizedEvent]:
    """Return a recall's `recalled` ObjectEvents, one per EVENT_CHUNK affected objects, normalised.

    The event's own fields are normalised as every captured event's are; its objects are the keys the graph gave,
    written as Digital Links and taken as they are, not parsed back from the links (10,000 links parsed and their
    check digits recomputed cost more than the rest of the write).

    Args:
        recall_id: the case (kept on each event as tracegraph:recallID).
        affected: the affected objects' business keys (lot:, item: and sscc: keys; others are left out).
        at: when the case opened (the events' time).
    """
    when = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    context = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"tracegraph": RECALL_NS}]
    normalized = []
    for start in range(0, len(affected), EVENT_CHUNK):
        epcs, classes, items, lots = [], [], [], []
        for key in affected[start:start + EVENT_CHUNK]:
            kind, _, rest = key.partition(":")
            if kind == "lot":
                gtin, _, lot = rest.partition(":")
                uri = f"{GS1_BASE}/01/{gtin}/10/{_escape(lot)}"
                classes.append({"epcClass": uri})
                lots.append(EPCQuantity(Ref("lot", gtin=gtin, lot=lot, uri=uri)))
            elif kind == "item":
                gtin, _, serial = rest.partition(":")
                uri = f"{GS1_BASE}/01/{gtin}/21/{_escape(serial)}"
                epcs.append(uri)
                items.append(EPCQuantity(Ref("item", gtin=gtin, serial=serial, uri=uri)))
            elif kind == "sscc":
                uri = f"{GS1_BASE}/00/{rest}"
                epcs.append(uri)
                items.append(EPCQuantity(Ref("sscc", sscc=rest, uri=uri)))
        raw = {"@context": context, "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}",
               "eventTime": when, "eventTimeZoneOffset": CHINA_OFFSET, "action": "OBSERVE", "bizStep": "holding",
               "disposition": "recalled", "persistentDisposition": {"set": ["recalled"]},
               "tracegraph:recallID": recall_id}
        event = normalize_event(raw, f"recall[{len(normalized)}]")  # before the objects: it would parse them
        if epcs:
            raw["epcList"] = epcs
        if classes:
            raw["quantityList"] = classes
        normalized.append(dataclasses.replace(event, objects=items + lots, raw=raw))
    return normalized


def _escape(value: str) -> str:
    return quote(value, safe="")
