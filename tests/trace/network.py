"""Random supply networks as EPCIS 2.0 documents: farms -> processors (blending, cutting) -> packing (serialized
items) -> cases/pallets (aggregation) -> retailers, with partial shipments and errorDeclarations.

Every network has fresh GLNs/GTINs, so tests running side by side on one database never see each other's data.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests import factories

DL = "https://id.gs1.org"
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]


def lot_uri(gtin: str, lot: str) -> str:
    """The Digital Link of a lot."""
    return f"{DL}/01/{gtin}/10/{lot}"


def item_uri(gtin: str, serial: str, lot: str | None = None) -> str:
    """The Digital Link of a serialized item (with its lot when the event names it)."""
    return f"{DL}/01/{gtin}/10/{lot}/21/{serial}" if lot else f"{DL}/01/{gtin}/21/{serial}"


def sscc_uri(sscc: str) -> str:
    """The Digital Link of a logistic unit."""
    return f"{DL}/00/{sscc}"


def party_uri(gln: str) -> str:
    """The Digital Link of a party."""
    return f"{DL}/417/{gln}"


def loc_uri(gln: str) -> str:
    """The Digital Link of a party's location."""
    return f"{DL}/414/{gln}"


def fresh_sscc() -> str:
    """A fresh SSCC with a valid check digit."""
    body = "0690" + "".join(factories._rng.choice("0123456789") for _ in range(13))
    return body + factories.check_digit(body)


@dataclass
class Network:
    """A generated network: its parties by role, products, events in capture order, and the keys of interest."""

    parties: dict[str, list[str]] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    raw_lots: list[str] = field(default_factory=list)
    retail_keys: list[str] = field(default_factory=list)
    all_keys: list[str] = field(default_factory=list)
    start: datetime = datetime(2026, 3, 1, tzinfo=UTC)

    def document(self, events: list[dict] | None = None) -> dict:
        """An EPCISDocument of these events (all of them by default)."""
        return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": "2026-06-01T00:00:00Z", "epcisBody": {"eventList": events or self.events}}


def generate(rng: random.Random, farms: int = 3, processors: int = 2, retailers: int = 2,
             errors: int = 1) -> Network:
    """Build one random network with a seeded RNG."""
    net = Network()
    net.parties = {
        "farm": [factories.gln() for _ in range(farms)],
        "processor": [factories.gln() for _ in range(processors)],
        "distributor": [factories.gln()],
        "retailer": [factories.gln() for _ in range(retailers)],
    }
    net.products = {"raw": factories.gtin(), "milled": factories.gtin(), "pack": factories.gtin()}
    clock = [net.start]

    def tick(hours: int = 1) -> str:
        clock[0] += timedelta(hours=hours + rng.randint(0, 5))
        return clock[0].isoformat().replace("+00:00", "Z")

    def event(kind: str, **body) -> dict:
        ev = {"type": kind, "eventID": f"urn:uuid:{uuid.uuid4()}",
              "eventTime": tick(), "eventTimeZoneOffset": "+08:00", **body}
        net.events.append(ev)
        return ev

    def ship(objects: dict, src: str, dst: str, doc: str) -> None:
        bt = [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{src}:{doc}"}]
        event("ObjectEvent", action="OBSERVE", bizStep="shipping", disposition="in_transit",
              readPoint={"id": loc_uri(src)}, bizTransactionList=bt,
              sourceList=[{"type": "owning_party", "source": party_uri(src)}],
              destinationList=[{"type": "owning_party", "destination": party_uri(dst)}], **objects)
        event("ObjectEvent", action="OBSERVE", bizStep="receiving", disposition="in_progress",
              bizLocation={"id": loc_uri(dst)}, readPoint={"id": loc_uri(dst)}, bizTransactionList=bt,
              sourceList=[{"type": "owning_party", "source": party_uri(src)}],
              destinationList=[{"type": "owning_party", "destination": party_uri(dst)}], **objects)

    raw_gtin, milled_gtin, pack_gtin = net.products["raw"], net.products["milled"], net.products["pack"]
    received: dict[str, list[str]] = {p: [] for p in net.parties["processor"]}
    for farm in net.parties["farm"]:
        for _ in range(rng.randint(1, 2)):
            lot = factories.lot_code()
            uri = lot_uri(raw_gtin, lot)
            qty = rng.randint(500, 2000)
            event("ObjectEvent", action="ADD", bizStep="harvesting", disposition="active",
                  bizLocation={"id": loc_uri(farm)}, readPoint={"id": loc_uri(farm)},
                  quantityList=[{"epcClass": uri, "quantity": qty, "uom": "KGM"}])
            net.raw_lots.append(f"lot:{raw_gtin}:{lot}")
            # partial shipments: one farm lot can feed several processors (many-to-many)
            for proc in rng.sample(net.parties["processor"], rng.randint(1, len(net.parties["processor"]))):
                ship({"quantityList": [{"epcClass": uri, "quantity": qty // 3, "uom": "KGM"}]}, farm, proc,
                     factories.lot_code())
                received[proc].append(uri)

    milled: list[tuple[str, str, str]] = []  # (processor, uri, lot)
    for proc, inputs in received.items():
        if not inputs:
            continue
        for _ in range(rng.randint(1, 2)):
            ins = rng.sample(inputs, rng.randint(1, min(3, len(inputs))))
            outs = [factories.lot_code() for _ in range(rng.randint(1, 2))]  # 1-to-many cutting
            event("TransformationEvent", bizStep="commissioning", disposition="active",
                  bizLocation={"id": loc_uri(proc)}, readPoint={"id": loc_uri(proc)},
                  inputQuantityList=[{"epcClass": u, "quantity": 100, "uom": "KGM"} for u in ins],
                  outputQuantityList=[{"epcClass": lot_uri(milled_gtin, o), "quantity": 60, "uom": "KGM"}
                                      for o in outs])
            milled.extend((proc, lot_uri(milled_gtin, o), o) for o in outs)

    distributor = net.parties["distributor"][0]
    for proc, uri, _lot in milled:
        choice = rng.random()
        if choice < 0.5:
            pack_lot = factories.lot_code()
            serials = [uuid.UUID(int=rng.getrandbits(128)).hex[:12] for _ in range(rng.randint(1, 3))]
            event("TransformationEvent", bizStep="commissioning", disposition="active",
                  bizLocation={"id": loc_uri(proc)}, readPoint={"id": loc_uri(proc)},
                  inputQuantityList=[{"epcClass": uri, "quantity": 20, "uom": "KGM"}],
                  outputEPCList=[item_uri(pack_gtin, s, pack_lot) for s in serials],
                  outputQuantityList=[{"epcClass": lot_uri(pack_gtin, pack_lot), "quantity": len(serials),
                                       "uom": "H87"}])
            case = fresh_sscc()
            event("AggregationEvent", action="ADD", bizStep="packing", disposition="in_progress",
                  parentID=sscc_uri(case), childEPCs=[item_uri(pack_gtin, s) for s in serials],
                  bizLocation={"id": loc_uri(proc)}, readPoint={"id": loc_uri(proc)})
            ship({"epcList": [sscc_uri(case)]}, proc, distributor, factories.lot_code())
            retailer = rng.choice(net.parties["retailer"])
            ship({"epcList": [sscc_uri(case)]}, distributor, retailer, factories.lot_code())
            net.retail_keys.extend(f"item:{pack_gtin}:{s}" for s in serials)
            net.retail_keys.append(f"lot:{pack_gtin}:{pack_lot}")
        elif choice < 0.8:
            pallet = fresh_sscc()
            event("AggregationEvent", action="ADD", bizStep="packing", disposition="in_progress",
                  parentID=sscc_uri(pallet), childQuantityList=[{"epcClass": uri, "quantity": 40, "uom": "KGM"}],
                  bizLocation={"id": loc_uri(proc)}, readPoint={"id": loc_uri(proc)})
            ship({"epcList": [sscc_uri(pallet)]}, proc, rng.choice(net.parties["retailer"]), factories.lot_code())
        else:
            ship({"quantityList": [{"epcClass": uri, "quantity": 30, "uom": "KGM"}]}, proc,
                 rng.choice(net.parties["retailer"]), factories.lot_code())

    # errorDeclarations: the same event again with errorDeclaration (EPCIS 2.0 7.4.1.6), sometimes corrected
    candidates = [ev for ev in net.events if ev["type"] in ("TransformationEvent", "AggregationEvent")
                  or ev.get("bizStep") == "shipping"]
    for ev in rng.sample(candidates, min(errors, len(candidates))):
        corrective = []
        if ev["type"] == "TransformationEvent" and rng.random() < 0.5 and len(ev.get("inputQuantityList", [])) > 1:
            fixed = {**ev, "eventID": f"urn:uuid:{uuid.uuid4()}",
                     "eventTime": tick(), "inputQuantityList": ev["inputQuantityList"][:1]}
            corrective = [fixed]
        declared = {**ev, "errorDeclaration": {"declarationTime": tick(), "reason": "incorrect_data",
                                               "correctiveEventIDs": [c["eventID"] for c in corrective]}}
        net.events.extend(corrective)
        net.events.append(declared)

    keys = set(net.raw_lots) | set(net.retail_keys)
    for ev in net.events:
        for name in ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList"):
            for q in ev.get(name, []):
                keys.add(_key(q["epcClass"]))
    net.all_keys = sorted(k for k in keys if k)
    return net


def _key(uri: str) -> str | None:
    from tests.trace.reference import dl_key

    return dl_key(uri)
