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


# --- deep and tangled chains --------------------------------------------------------------------------------------

@dataclass
class DeepNetwork(Network):
    """Two long chains as a real supply chain has them, with what a test asserts about them.

    ginseng: root lot -> washed -> dried (split in two, a diamond) -> sliced -> gift box lot -> boxes (items) ->
    cartons -> pallets, the boxes of one gift box lot in two pallets for two retailers (8 generations);
    rice: paddy (two farms) -> milled (one paddy lot split in two, merged again: a diamond) -> blended -> bagged
    lot -> bags (items) -> case -> pallet (7 generations), the blended lot also sold loose to the second retailer.
    """

    chains: dict[str, list[str]] = field(default_factory=dict)  # name -> one key per generation, root first
    farms: dict[str, str] = field(default_factory=dict)  # root lot key -> the farm GLN that harvested it
    names: dict[str, str] = field(default_factory=dict)  # GLN -> English name (registered by tests/trace/arrange)


def generate_deep(rng: random.Random) -> DeepNetwork:
    """Build the two deep chains with fresh keys; quantities balance, every step at its party, in time order."""
    net = DeepNetwork()
    net.parties = {"farm": [factories.gln() for _ in range(3)], "processor": [factories.gln(), factories.gln()],
                   "distributor": [factories.gln()], "retailer": [factories.gln(), factories.gln()]}
    ginseng_farm, paddy_a, paddy_b = net.parties["farm"]
    plant, mill = net.parties["processor"]
    dc = net.parties["distributor"][0]
    shop_a, shop_b = net.parties["retailer"]
    net.names = {ginseng_farm: "Deep Ginseng Farm", paddy_a: "Deep Paddy Farm A", paddy_b: "Deep Paddy Farm B",
                 plant: "Deep Ginseng Plant", mill: "Deep Rice Mill", dc: "Deep Logistics", shop_a: "Deep Shop A",
                 shop_b: "Deep Shop B"}
    g = {name: factories.gtin() for name in ("root", "washed", "dried", "sliced", "giftbox", "paddy", "milled",
                                             "blended", "bagged")}
    net.products = g
    clock = [net.start]

    def tick() -> str:
        clock[0] += timedelta(hours=1 + rng.randint(0, 3))
        return clock[0].isoformat().replace("+00:00", "Z")

    def at(gln: str) -> dict:
        return {"readPoint": {"id": loc_uri(gln)}, "bizLocation": {"id": loc_uri(gln)}}

    def event(kind: str, **body) -> dict:
        ev = {"type": kind, "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": tick(), "eventTimeZoneOffset": "+08:00",
              **body}
        net.events.append(ev)
        return ev

    def lot(name: str) -> tuple[str, str]:
        code = factories.lot_code()
        return lot_uri(g[name], code), f"lot:{g[name]}:{code}"

    def q(uri: str, quantity: float, uom: str = "KGM") -> dict:
        return {"epcClass": uri, "quantity": quantity, "uom": uom}

    def harvest(farm: str, uri: str, quantity: float) -> None:
        event("ObjectEvent", action="ADD", bizStep="harvesting", disposition="active", **at(farm),
              quantityList=[q(uri, quantity)])

    def transform(where: str, ins: list[dict], outs: list[dict], out_epcs: list[str] = ()) -> None:
        event("TransformationEvent", bizStep="commissioning", disposition="active", **at(where),
              inputQuantityList=ins, outputQuantityList=outs, **({"outputEPCList": list(out_epcs)} if out_epcs else {}))

    def pack(where: str, parent: str, children: list[str]) -> None:
        event("AggregationEvent", action="ADD", bizStep="packing", disposition="in_progress", **at(where),
              parentID=parent, childEPCs=children)

    def ship(objects: dict, src: str, dst: str) -> None:
        owners = {"sourceList": [{"type": "owning_party", "source": party_uri(src)}],
                  "destinationList": [{"type": "owning_party", "destination": party_uri(dst)}]}
        event("ObjectEvent", action="OBSERVE", bizStep="shipping", disposition="in_transit",
              readPoint={"id": loc_uri(src)}, **owners, **objects)
        event("ObjectEvent", action="OBSERVE", bizStep="receiving", disposition="in_progress", **at(dst), **owners,
              **objects)

    # ginseng ----------------------------------------------------------------------------------------------------
    root, root_key = lot("root")
    harvest(ginseng_farm, root, 1000)
    ship({"quantityList": [q(root, 1000)]}, ginseng_farm, plant)
    washed, washed_key = lot("washed")
    transform(plant, [q(root, 1000)], [q(washed, 950)])
    dried_a, dried_a_key = lot("dried")
    dried_b, dried_b_key = lot("dried")
    transform(plant, [q(washed, 500)], [q(dried_a, 160)])
    transform(plant, [q(washed, 450)], [q(dried_b, 140)])
    sliced, sliced_key = lot("sliced")
    transform(plant, [q(dried_a, 160), q(dried_b, 140)], [q(sliced, 290)])
    box_code = factories.lot_code()
    giftbox, giftbox_key = lot_uri(g["giftbox"], box_code), f"lot:{g['giftbox']}:{box_code}"
    serials = [uuid.UUID(int=rng.getrandbits(128)).hex[:12] for _ in range(4)]
    transform(plant, [q(sliced, 200)], [q(giftbox, 4, "H87")],
              [item_uri(g["giftbox"], s, box_code) for s in serials])
    boxes = [f"item:{g['giftbox']}:{s}" for s in serials]
    cartons, pallets = [fresh_sscc(), fresh_sscc()], [fresh_sscc(), fresh_sscc()]
    for n in range(2):
        pack(plant, sscc_uri(cartons[n]), [item_uri(g["giftbox"], s) for s in serials[2 * n: 2 * n + 2]])
        pack(plant, sscc_uri(pallets[n]), [sscc_uri(cartons[n])])
        ship({"epcList": [sscc_uri(pallets[n])]}, plant, dc)
        ship({"epcList": [sscc_uri(pallets[n])]}, dc, (shop_a, shop_b)[n])
    ship({"quantityList": [q(sliced, 50)]}, plant, shop_b)  # the sliced lot sold loose too
    net.chains["ginseng"] = [root_key, washed_key, dried_a_key, sliced_key, giftbox_key, boxes[0],
                             f"sscc:{cartons[0]}", f"sscc:{pallets[0]}"]

    # rice -------------------------------------------------------------------------------------------------------
    paddy = [lot("paddy"), lot("paddy")]
    for (uri, _key), farm in zip(paddy, (paddy_a, paddy_b), strict=True):
        harvest(farm, uri, 2000)
        ship({"quantityList": [q(uri, 2000)]}, farm, mill)
    milled = [lot("milled"), lot("milled"), lot("milled")]
    transform(mill, [q(paddy[0][0], 1000)], [q(milled[0][0], 700)])  # paddy A split in two ...
    transform(mill, [q(paddy[0][0], 1000)], [q(milled[1][0], 700)])
    transform(mill, [q(paddy[1][0], 2000)], [q(milled[2][0], 1400)])
    blended, blended_key = lot("blended")  # ... and merged again here, with paddy B's rice
    transform(mill, [q(m[0], 700 if i < 2 else 1400) for i, m in enumerate(milled)], [q(blended, 2800)])
    bag_code = factories.lot_code()
    bagged, bagged_key = lot_uri(g["bagged"], bag_code), f"lot:{g['bagged']}:{bag_code}"
    bag_serials = [uuid.UUID(int=rng.getrandbits(128)).hex[:12] for _ in range(3)]
    transform(mill, [q(blended, 30)], [q(bagged, 3, "H87")], [item_uri(g["bagged"], s, bag_code) for s in bag_serials])
    case, pallet = fresh_sscc(), fresh_sscc()
    pack(mill, sscc_uri(case), [item_uri(g["bagged"], s) for s in bag_serials])
    pack(mill, sscc_uri(pallet), [sscc_uri(case)])
    ship({"epcList": [sscc_uri(pallet)]}, mill, shop_a)
    ship({"quantityList": [q(blended, 500)]}, mill, shop_b)  # the blended lot reaches both shops
    net.chains["rice"] = [paddy[0][1], milled[0][1], blended_key, bagged_key, f"item:{g['bagged']}:{bag_serials[0]}",
                          f"sscc:{case}", f"sscc:{pallet}"]

    net.raw_lots = [root_key, paddy[0][1], paddy[1][1]]
    net.farms = {root_key: ginseng_farm, paddy[0][1]: paddy_a, paddy[1][1]: paddy_b}
    net.retail_keys = [*boxes, f"sscc:{pallets[0]}", f"sscc:{pallets[1]}", f"sscc:{pallet}", sliced_key, blended_key]
    keys = {k for ev in net.events for k in _objects(ev)}
    net.all_keys = sorted(keys)
    return net


def _objects(ev: dict) -> set[str]:
    """The business keys an event names (lots, items, SSCCs)."""
    uris = [ev.get("parentID")] if ev.get("parentID") else []
    for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        uris += ev.get(name, [])
    for name in ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList"):
        uris += [x["epcClass"] for x in ev.get(name, [])]
    return {k for k in map(_key, uris) if k}


def lineage_dag(roots: int, parents: list[list[list[int]]], packed: bool = True) -> Network:
    """A lineage DAG drawn by a property test: `roots` farm lots, then `parents[i][j]` lists which lots of generation
    i (indexes) went into lot j of generation i + 1. With `packed`, the last generation's first lot is made as two
    serialized items, packed into a case on a pallet (three more generations)."""
    net = Network()
    farm, plant = factories.gln(), factories.gln()
    net.parties = {"farm": [farm], "processor": [plant]}
    clock = [net.start]

    def event(kind: str, **body) -> None:
        clock[0] += timedelta(hours=1)
        where = {"readPoint": {"id": loc_uri(body.pop("at"))}}
        where["bizLocation"] = where["readPoint"]
        net.events.append({"type": kind, "eventID": f"urn:uuid:{uuid.uuid4()}",
                           "eventTime": clock[0].isoformat().replace("+00:00", "Z"), "eventTimeZoneOffset": "+08:00",
                           "bizStep": "commissioning", "disposition": "active", **where, **body})

    gtin = factories.gtin()
    generations = [[factories.lot_code() for _ in range(roots)]]
    for lot in generations[0]:
        event("ObjectEvent", at=farm, action="ADD", quantityList=[{"epcClass": lot_uri(gtin, lot), "quantity": 100,
                                                                   "uom": "KGM"}])
        net.raw_lots.append(f"lot:{gtin}:{lot}")
    for i, layer in enumerate(parents):
        generations.append([factories.lot_code() for _ in layer])
        for j, ins in enumerate(layer):
            out = generations[i + 1][j]
            body = {"inputQuantityList": [{"epcClass": lot_uri(gtin, generations[i][k]), "quantity": 10, "uom": "KGM"}
                                          for k in sorted(set(ins))],
                    "outputQuantityList": [{"epcClass": lot_uri(gtin, out), "quantity": 5, "uom": "KGM"}]}
            if packed and i == len(parents) - 1 and j == 0:
                body["outputEPCList"] = [item_uri(gtin, f"{out}S{n}", out) for n in range(2)]
            event("TransformationEvent", at=plant, **body)
    if packed and parents:
        out = generations[-1][0]
        case, pallet = fresh_sscc(), fresh_sscc()
        event("AggregationEvent", at=plant, action="ADD", parentID=sscc_uri(case),
              childEPCs=[item_uri(gtin, f"{out}S{n}") for n in range(2)])
        event("AggregationEvent", at=plant, action="ADD", parentID=sscc_uri(pallet), childEPCs=[sscc_uri(case)])
    net.all_keys = sorted({k for ev in net.events for k in _objects(ev)})
    return net
