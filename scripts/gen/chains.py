"""The three Jilin chains as EPCIS 2.0 events, emitted unit by unit in dependency order (inputs before outputs).

A unit is one mill run (rice), one drying run (ginseng) or one slaughter day (beef); each unit's events are
complete before the next unit starts, so a stream of units needs memory for one unit plus the rice farm-lot pool.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime

from gs1.timezones import CHINA as TZ
from gs1.timezones import CHINA_OFFSET
from labels.serials import ALPHABET, RANDOM_LEN
from labels.serials import _key_bytes as serial_key_bytes  # the signature layout is labels/'s, reused not copied
from labels.serials import _signature as serial_signature
from scripts.gen import ids
from scripts.gen.world import BEEF_CUTS, Party, World

HOUR = 3600.0
DAY = 86400.0
# Season windows (Asia/Shanghai): units are spread evenly over them.
RICE_START = datetime(2025, 10, 1, 8, tzinfo=TZ).timestamp()
GINSENG_START = datetime(2025, 9, 20, 8, tzinfo=TZ).timestamp()
BEEF_START = datetime(2025, 9, 1, 6, tzinfo=TZ).timestamp()
SEASON_DAYS = {"rice": 180, "ginseng": 60, "beef": 270}
# Which programme each sample was taken under (issue 15), by report number: no draw from the generator's random
# stream, so networks of a seed stay what they were. Region: the lot owner's (record_inspection's default).
PROGRAMME_CYCLE = ("routine_monitoring",) * 6 + ("food_safety_sampling",) * 2 + ("supervisory_sampling",
                                                                                 "risk_monitoring")
HAZARDS = {"rice": "cadmium", "ginseng": "heavy metals", "beef": "beta-agonists"}
COUNTS = ("lots", "items", "logistic_units", "inspections", "failed")  # what a chain counts as it goes
EXCURSION_EVERY = 97  # one cold shipment in ~97 warms outside the cuts' chilled range (counted by dispatch advice)
FAIL_RATE = 0.025  # share of inspections that fail: DOMAIN.md's >= 97% routine pass rate

RICE_TESTS = [("镉 cadmium", 0.2, "mg/kg", 0.02, 0.15), ("铅 lead", 0.2, "mg/kg", 0.01, 0.12),
              ("无机砷 inorganic arsenic", 0.2, "mg/kg", 0.03, 0.14),
              ("黄曲霉毒素B1 aflatoxin B1", 10, "μg/kg", 0.5, 6)]
GINSENG_TESTS = [("铅 lead", 5.0, "mg/kg", 0.1, 2.0), ("镉 cadmium", 1.0, "mg/kg", 0.02, 0.4),
                 ("砷 arsenic", 2.0, "mg/kg", 0.05, 0.9), ("汞 mercury", 0.2, "mg/kg", 0.005, 0.08),
                 ("铜 copper", 20.0, "mg/kg", 2.0, 12.0), ("五氯硝基苯 quintozene", 0.1, "mg/kg", 0.0, 0.05)]
GINSENOSIDES = [("人参皂苷Rg1+Re ginsenoside Rg1+Re", 0.30, "%", 0.35, 0.62), ("人参皂苷Rb1 ginsenoside Rb1", 0.20, "%",
                                                                              0.24, 0.55)]
BEEF_TESTS = ["克伦特罗 clenbuterol", "莱克多巴胺 ractopamine", "沙丁胺醇 salbutamol"]


def stamp(ts: float) -> str:
    """ISO 8601 time in China Standard Time, milliseconds."""
    return datetime.fromtimestamp(ts, TZ).isoformat(timespec="milliseconds")


def day(ts: float) -> str:
    """ISO date in China Standard Time."""
    return datetime.fromtimestamp(ts, TZ).date().isoformat()


def transfer(src: Party, dst: Party) -> tuple[list[dict], list[dict]]:
    """sourceList and destinationList of a change of ownership and custody between two parties' sites."""
    sources = [{"type": "owning_party", "source": ids.party_uri(src.gln)},
               {"type": "possessing_party", "source": ids.party_uri(src.gln)},
               {"type": "location", "source": ids.location_uri(src.gln)}]
    destinations = [{"type": "owning_party", "destination": ids.party_uri(dst.gln)},
                    {"type": "possessing_party", "destination": ids.party_uri(dst.gln)},
                    {"type": "location", "destination": ids.location_uri(dst.gln)}]
    return sources, destinations


def qty(uri: str, quantity: float | int, uom: str | None) -> dict:
    """A quantityList element: kilograms (uom KGM) or a count of trade items (no uom)."""
    element = {"epcClass": uri, "quantity": quantity}
    if uom:
        element["uom"] = uom
    return element


def object_event(ts: float, action: str, biz_step: str, disposition: str, where: Party, *, epcs=None,
                 quantities=None, biz_tx=None, sources=None, destinations=None, ilmd=None, sensors=None,
                 cert=None) -> dict:
    """An ObjectEvent at ``where``'s site."""
    ev: dict = {"type": "ObjectEvent", "eventTime": stamp(ts), "eventTimeZoneOffset": CHINA_OFFSET}
    if epcs:
        ev["epcList"] = epcs
    if quantities:
        ev["quantityList"] = quantities
    ev["action"] = action
    ev["bizStep"] = biz_step
    ev["disposition"] = disposition
    ev["readPoint"] = {"id": ids.location_uri(where.gln)}
    ev["bizLocation"] = {"id": ids.location_uri(where.gln)}
    if biz_tx:
        ev["bizTransactionList"] = biz_tx
    if sources:
        ev["sourceList"] = sources
    if destinations:
        ev["destinationList"] = destinations
    if sensors:
        ev["sensorElementList"] = sensors
    if ilmd:
        ev["ilmd"] = ilmd
    if cert:
        ev["certificationInfo"] = cert
    return ev


def transformation(ts: float, biz_step: str, where: Party, inputs: list[dict], outputs: list[dict],
                   output_epcs: list[str] | None = None, input_epcs: list[str] | None = None, ilmd=None,
                   cert=None) -> dict:
    """A TransformationEvent at ``where``'s site."""
    ev: dict = {"type": "TransformationEvent", "eventTime": stamp(ts), "eventTimeZoneOffset": CHINA_OFFSET}
    if input_epcs:
        ev["inputEPCList"] = input_epcs
    if inputs:
        ev["inputQuantityList"] = inputs
    if output_epcs:
        ev["outputEPCList"] = output_epcs
    if outputs:
        ev["outputQuantityList"] = outputs
    ev["bizStep"] = biz_step
    ev["disposition"] = "active"
    ev["readPoint"] = {"id": ids.location_uri(where.gln)}
    ev["bizLocation"] = {"id": ids.location_uri(where.gln)}
    if ilmd:
        ev["ilmd"] = ilmd
    if cert:
        ev["certificationInfo"] = cert
    return ev


class Chains:
    """Generates the events of every unit of one of the three chains, and the inspections of sampled lots.

    Each chain has its own generator (its own random stream and counters: dispatch advices and test reports are
    numbered per chain, with the chain's letter), so one chain is generated without the others (the history
    import builds each in a process of its own)."""

    def __init__(self, world: World, seed: int, serial_key: str, chain: str):
        """The chain ``chain`` (rice, ginseng or beef) over ``world``; ``serial_key`` signs ginseng gift-box serials
        as labels/ does."""
        self.w = world
        self.seed = seed
        self.serial_key = serial_key_bytes(serial_key)
        self.chain = chain
        self.code = chain[0].upper()  # R, G, B: in the chain's document and report numbers
        self.inspections: list[dict] = []  # drained by the caller after each unit
        self.counts = dict.fromkeys(COUNTS, 0)
        self._doc = 0
        self._report = 0

    # --- shared steps -------------------------------------------------------------------------------------------

    def _lot(self) -> None:
        self.counts["lots"] += 1

    def _bt(self, kind: str, party: Party) -> list[dict]:
        self._doc += 1
        return [{"type": kind, "bizTransaction": f"urn:epcglobal:cbv:bt:{party.gln}:{self.code}{self._doc:08d}"}]

    def ship(self, rng: random.Random, ts: float, src: Party, dst: Party, epcs: list[str], quantities: list[dict],
             cold: bool = False, cert: str | None = None) -> list[dict]:
        """Shipping at the source and receiving at the destination (hours later), one dispatch advice."""
        sources, destinations = transfer(src, dst)
        bt = self._bt("desadv", src)
        if cert:
            bt = bt + [{"type": "cert", "bizTransaction": cert}]
        arrive = ts + rng.uniform(3, 20) * HOUR
        sensors = None
        if cold:
            # within the chilled range (world.CHILLED, 0-4 °C) but for one shipment in EXCURSION_EVERY, whose truck
            # warmed to 7.5 °C: capture raises a temperature_excursion alert (no extra draw: the stream stays as is)
            mean = round(rng.uniform(1.0, 3.5), 1)
            low, high = round(mean - rng.uniform(0.3, 1.2), 1), round(mean + rng.uniform(0.3, 1.5), 1)
            sensors = [{"sensorMetadata": {"startTime": stamp(ts), "endTime": stamp(arrive)},
                        "sensorReport": [{"type": "Temperature", "minValue": max(low, 0.1),
                                          "maxValue": 7.5 if self._doc % EXCURSION_EVERY == 0 else min(high, 3.9),
                                          "meanValue": mean, "uom": "CEL"}]}]
        shipping = object_event(ts, "OBSERVE", "shipping", "in_transit", src, epcs=epcs or None,
                                quantities=quantities or None, biz_tx=bt, sources=sources, destinations=destinations,
                                sensors=sensors)
        receiving = object_event(arrive, "OBSERVE", "receiving", "in_progress", dst, epcs=epcs or None,
                                 quantities=quantities or None, biz_tx=bt, sources=sources, destinations=destinations)
        return [shipping, receiving]

    def distribute(self, rng: random.Random, ts: float, producer: Party, epcs: list[str],
                   stock: list[tuple[str, float, str | None]], hubs: list[Party], cold: bool = False) -> list[dict]:
        """Producer -> distributor -> (sub-distributors ->) retailers, with partial shipments of every lot.

        ``stock`` holds (lot uri, quantity, uom); ``epcs`` are whole logistic units handed on unsplit.
        """
        w = self.w
        events: list[dict] = []
        hub = rng.choice(hubs)
        events += self.ship(rng, ts, producer, hub, epcs, [qty(u, q, m) for u, q, m in stock], cold)
        subs = rng.sample(w.sub_distributors, rng.choice((0, 1, 1, 2)))
        direct = rng.sample(w.retailers, rng.randint(1, 3))
        # Hops: the hub serves sub-distributors and some retailers itself; each sub-distributor serves 2-4 stores.
        plan = [(hub, sub, rng.sample(w.retailers, rng.randint(2, 4))) for sub in subs] + [(hub, r, None)
                                                                                            for r in direct]
        shares = _split(rng, stock, len(plan), keep=rng.random() < 0.3)
        epc_shares = [epcs[i::len(plan)] for i in range(len(plan))]
        t = ts + rng.uniform(1.5, 3) * DAY
        for (src, dst, onward), share, epc_share in zip(plan, shares, epc_shares, strict=True):
            if not share and not epc_share:
                continue
            t += rng.uniform(2, 10) * HOUR
            events += self.ship(rng, t, src, dst, epc_share, [qty(u, q, m) for u, q, m in share], cold)
            if onward:
                t2 = t + rng.uniform(1, 3) * DAY
                subshares = _split(rng, share, len(onward), keep=rng.random() < 0.3)
                epc_sub = [epc_share[i::len(onward)] for i in range(len(onward))]
                for store, sub_share, sub_epcs in zip(onward, subshares, epc_sub, strict=True):
                    if sub_share or sub_epcs:
                        t2 += rng.uniform(1, 6) * HOUR
                        events += self.ship(rng, t2, dst, store, sub_epcs, [qty(u, q, m) for u, q, m in sub_share],
                                            cold)
        return events

    def inspect(self, rng: random.Random, ts: float, lab: Party, gtin: str, lot: str,
                sample: tuple[float, str | None], holder: Party, held: float) -> tuple[bool, list[dict]]:
        """Sample and test a lot: the inspection record, the inspecting event and, on failure, the holder destroying
        the whole lot (``held`` kg, at the holder's site: the lab never held it)."""
        self._report += 1
        chain = self.chain
        fail = rng.random() < FAIL_RATE
        results = _results(rng, chain, fail)
        report_no = f"JL{day(ts)[:4]}{self.code}{self._report:07d}"
        standard = {"rice": "GB 2762-2022; GB 2761-2017", "ginseng": "GB 2762-2022; 中国药典 2020 人参",
                    "beef": "GB 31650-2019; 农业农村部公告第250号"}[chain]
        self.inspections.append({
            "key": f"{lab.gln}:{report_no}", "report_no": report_no, "sample_id": f"S{self.code}{self._report:08d}",
            "date": day(ts), "standard": standard, "verdict": "fail" if fail else "pass", "results": results,
            "lab_gln": lab.gln, "gtin": gtin, "lot": lot,
            "programme": PROGRAMME_CYCLE[self._report % len(PROGRAMME_CYCLE)], "hazard": HAZARDS[chain]})
        self.counts["inspections"] += 1
        self.counts["failed"] += fail
        uri = ids.lot_uri(gtin, lot)
        bt = [{"type": "testres", "bizTransaction": f"urn:epcglobal:cbv:bt:{lab.gln}:{report_no}"}]
        events = [object_event(ts, "OBSERVE", "inspecting", "non_conformant" if fail else "conformant", lab,
                               quantities=[qty(uri, sample[0], sample[1])], biz_tx=bt)]
        if fail:
            events.append(object_event(ts + 2 * DAY, "DELETE", "destroying", "destroyed", holder,
                                       quantities=[qty(uri, held, "KGM")], biz_tx=bt))
        return not fail, events

    def _unit_time(self, chain: str, start: float, i: int, n: int) -> float:
        return start + SEASON_DAYS[chain] * DAY * i / max(n, 1)

    # --- rice ---------------------------------------------------------------------------------------------------

    def rice(self) -> Iterator[list[dict]]:
        """Mill runs: farm paddy lots (each feeding several mills) blended, milled, packed into 5/10 kg bag lots."""
        w, rng = self.w, random.Random(f"{self.seed}:rice")
        runs = w.scale.rice_runs
        pools: dict[str, list[list]] = {}  # region code -> [farm, lot uri, kg left, lot code]
        farm_seq = 0
        for i in range(runs):
            mill = w.mills[i % len(w.mills)]
            t = self._unit_time("rice", RICE_START, i, runs) + rng.uniform(0, 6) * HOUR
            events: list[dict] = []
            pool = pools.setdefault(mill.region[2], [])
            farms = [f for f in w.rice_farms if f.region == mill.region] or w.rice_farms
            wanted = rng.randint(4, 10)
            while len(pool) < wanted + 4:
                farm_seq += 1
                farm = farms[rng.randrange(len(farms))]
                code = f"P25{farm.region[2][-3:]}{farm_seq:07d}"
                kg = rng.randrange(8000, 40000, 50)
                uri = ids.lot_uri(farm.products["raw"], code)
                harvest = t - rng.uniform(5, 25) * DAY
                events.append(object_event(harvest, "ADD", "commissioning", "active", farm,
                                           quantities=[qty(uri, kg, "KGM")],
                                           ilmd={"cbvmda:harvestStartDate": day(harvest - 2 * DAY),
                                                 "cbvmda:harvestEndDate": day(harvest),
                                                 "cbvmda:countryOfOrigin": "CN",
                                                 "tg:regionCode": farm.region[2], "tg:variety": "稻花香2号"}))
                self._lot()
                pool.append([farm, uri, kg, code])
            inputs = []
            for entry in rng.sample(pool, wanted):
                farm, uri, left, _ = entry
                take = left if left < 3000 or rng.random() < 0.4 else round(left * rng.uniform(0.3, 0.7), -1)
                entry[2] = left - take
                events += self.ship(rng, t - rng.uniform(1.5, 3) * DAY, farm, mill, [], [qty(uri, take, "KGM")])
                inputs.append(qty(uri, take, "KGM"))
            pool[:] = [e for e in pool if e[2] > 0]
            paddy = sum(x["quantity"] for x in inputs)
            milled = round(paddy * rng.uniform(0.65, 0.70), 1)
            mill_code = f"M25{i:07d}"
            mill_uri = ids.lot_uri(mill.products["milled"], mill_code)
            events.append(transformation(t, "commissioning", mill, inputs, [qty(mill_uri, milled, "KGM")],
                                         ilmd={"cbvmda:countryOfOrigin": "CN", "tg:millingYield": round(
                                             milled / paddy, 3)}))
            self._lot()
            ok = True
            if rng.random() < 0.3:
                ok, found = self.inspect(rng, t + DAY, rng.choice(w.labs[:4]), mill.products["milled"], mill_code,
                                         (2, "KGM"), mill, milled)
                events += found
            if ok:
                stock = []
                left = milled
                runs_here = rng.randint(2, 3)
                for r in range(runs_here):
                    size = rng.choice((5, 10))
                    kg = left if r == runs_here - 1 else round(milled / runs_here, 1)
                    bags = int(kg // size)
                    if bags == 0:
                        continue
                    left -= kg
                    code = f"B25{i:07d}{r}"
                    uri = ids.lot_uri(mill.products[f"bag{size}"], code)
                    pack_t = t + (2 + r / 4) * DAY
                    events.append(transformation(pack_t, "packing", mill, [qty(mill_uri, bags * size, "KGM")],
                                                 [qty(uri, bags, None)],
                                                 ilmd={"cbvmda:bestBeforeDate": day(pack_t + 365 * DAY),
                                                       "tg:netWeightKg": size}))
                    self._lot()
                    stock.append((uri, bags, None))
                if stock:
                    events += self.distribute(rng, t + 4 * DAY, mill, [], stock, w.distributors)
            yield events

    # --- ginseng ------------------------------------------------------------------------------------------------

    def _serial(self, rng: random.Random, gtin: str, lot: str) -> str:
        random_part = "".join(rng.choice(ALPHABET) for _ in range(RANDOM_LEN))
        return random_part + serial_signature(self.serial_key, gtin, lot, random_part)

    def ginseng(self) -> Iterator[list[dict]]:
        """Drying runs: growers' fresh roots dried (yield ~1/3), gift boxes serialized and packed into cases."""
        w, rng = self.w, random.Random(f"{self.seed}:ginseng")
        runs = w.scale.ginseng_runs
        for i in range(runs):
            proc = w.processors[i % len(w.processors)]
            t = self._unit_time("ginseng", GINSENG_START, i, runs) + rng.uniform(0, 6) * HOUR
            growers = [g for g in w.ginseng_growers if g.region == proc.region] or w.ginseng_growers
            events: list[dict] = []
            inputs = []
            for j in range(rng.randint(1, 3)):
                grower = growers[rng.randrange(len(growers))]
                code = f"F25{i:07d}{j}"
                kg = rng.randrange(150, 900, 5)
                uri = ids.lot_uri(grower.products["raw"], code)
                harvest = t - rng.uniform(3, 8) * DAY
                events.append(object_event(harvest, "ADD", "commissioning", "active", grower,
                                           quantities=[qty(uri, kg, "KGM")],
                                           ilmd={"cbvmda:harvestStartDate": day(harvest),
                                                 "cbvmda:countryOfOrigin": "CN",
                                                 "tg:regionCode": grower.region[2],
                                                 "tg:rootAgeYears": rng.choice((4, 5, 5, 6))}))
                self._lot()
                events += self.ship(rng, harvest + DAY, grower, proc, [], [qty(uri, kg, "KGM")])
                inputs.append(qty(uri, kg, "KGM"))
            fresh = sum(x["quantity"] for x in inputs)
            dried = round(fresh * rng.uniform(0.31, 0.35), 1)
            dried_code = f"D25{i:07d}"
            dried_gtin = proc.products["dried"]
            dried_uri = ids.lot_uri(dried_gtin, dried_code)
            events.append(transformation(t, "commissioning", proc, inputs, [qty(dried_uri, dried, "KGM")],
                                         ilmd={"tg:process": "生晒参 sun-dried", "cbvmda:countryOfOrigin": "CN"}))
            self._lot()
            ok, found = self.inspect(rng, t + 3 * DAY, rng.choice([w.labs[0], w.labs[3], w.labs[4]]), dried_gtin,
                                     dried_code, (0.5, "KGM"), proc, dried)
            events += found
            if not ok:
                yield events
                continue
            pack_t = t + 6 * DAY
            box_gtin = proc.products["giftbox"]
            box_lot = f"G25{i:07d}"
            boxes = min(rng.randint(24, 48), int(dried / 0.15))
            items = [ids.item_uri(box_gtin, self._serial(rng, box_gtin, box_lot), box_lot) for _ in range(boxes)]
            bag_kg = dried - boxes * 0.15
            bags = int(bag_kg // 0.25)
            bag_uri = ids.lot_uri(proc.products["bulkbag"], f"K25{i:07d}")
            outputs = [qty(bag_uri, bags, None)] if bags else []
            events.append(transformation(pack_t, "packing", proc, [qty(dried_uri, round(boxes * 0.15 + bags * 0.25, 2),
                                                                       "KGM")], outputs, output_epcs=items,
                                         ilmd={"cbvmda:bestBeforeDate": day(pack_t + 730 * DAY)}))
            self.counts["lots"] += 1 + bool(bags)
            self.counts["items"] += boxes
            cases = [ids.sscc_uri(w.keys.sscc(proc.prefix)) for _ in range(0, boxes, 12)]
            # The case labels are commissioned (printed and applied) before boxes go in: custody starts there.
            events.append(object_event(pack_t + HOUR - 60, "ADD", "commissioning", "active", proc, epcs=cases))
            for c, sscc in zip(range(0, boxes, 12), cases, strict=True):
                events.append({"type": "AggregationEvent", "eventTime": stamp(pack_t + HOUR + c * 60),
                               "eventTimeZoneOffset": CHINA_OFFSET, "parentID": sscc, "childEPCs": items[c:c + 12],
                               "action": "ADD", "bizStep": "packing", "disposition": "in_progress",
                               "readPoint": {"id": ids.location_uri(proc.gln)},
                               "bizLocation": {"id": ids.location_uri(proc.gln)}})
            self.counts["logistic_units"] += len(cases)
            stock = [(bag_uri, bags, None)] if bags else []
            events += self.distribute(rng, pack_t + DAY, proc, cases, stock, w.distributors)
            yield events

    # --- beef ---------------------------------------------------------------------------------------------------

    def beef(self) -> Iterator[list[dict]]:
        """Slaughter days: ear-tagged cattle with quarantine certificates -> carcasses -> cut lots mixing animals."""
        w, rng = self.w, random.Random(f"{self.seed}:beef")
        days = w.scale.beef_days
        tag = 0
        for i in range(days):
            house = w.slaughterhouses[i % len(w.slaughterhouses)]
            t = self._unit_time("beef", BEEF_START, i, days) + rng.uniform(0, 4) * HOUR
            events: list[dict] = []
            animals: list[tuple[str, str]] = []  # (item uri, quarantine certificate uri)
            for _ in range(rng.randint(2, 5)):
                farm = w.cattle_farms[rng.randrange(len(w.cattle_farms))]
                herd = []
                for _ in range(rng.randint(2, 7)):
                    tag += 1
                    # Ear tag: species digit 1 (cattle), county code, 8-digit serial.
                    herd.append(ids.item_uri(farm.products["raw"], f"1{farm.region[2]}{tag:08d}"))
                born = t - rng.uniform(600, 800) * DAY
                events.append(object_event(born, "ADD", "commissioning", "active", farm, epcs=herd,
                                           ilmd={"tg:breed": "延边黄牛 Yanbian yellow cattle",
                                                 "cbvmda:countryOfOrigin": "CN", "tg:regionCode": farm.region[2]}))
                self.counts["items"] += len(herd)
                cert = f"urn:tracegraph:quarantine:{farm.region[2]}{i:06d}{tag % 1000:03d}"
                events += self.ship(rng, t - rng.uniform(1, 2) * DAY, farm, house, herd, [], cert=cert)
                animals += [(a, cert) for a in herd]
            carcasses = []
            for k, (animal, cert) in enumerate(animals):
                code = f"C25{i:06d}{k:03d}"
                kg = round(rng.uniform(220, 330), 1)
                uri = ids.lot_uri(house.products["carcass"], code)
                events.append(transformation(t + k * 600, "killing", house, [], [qty(uri, kg, "KGM")],
                                             input_epcs=[animal], cert=cert))
                self._lot()
                ok = True
                if rng.random() < 0.25:
                    ok, found = self.inspect(rng, t + k * 600 + HOUR, w.labs[5], house.products["carcass"], code,
                                             (0.2, "KGM"), house, kg)
                    events += found
                if ok:
                    carcasses.append((uri, kg))
            rng.shuffle(carcasses)
            run = 0
            while carcasses:
                size = rng.randint(2, 4)
                group, carcasses = carcasses[:size], carcasses[size:]
                cut_t = t + (1 + run / 8) * DAY  # carcasses chill for a day before cutting
                total = sum(kg for _, kg in group)
                stock = []
                for _zh, en, share in BEEF_CUTS:
                    code = f"Q25{i:06d}{run:02d}{en[:2].upper()}"
                    uri = ids.lot_uri(house.products[f"cut:{en}"], code)
                    stock.append((uri, round(total * share * rng.uniform(0.9, 1.1), 1), "KGM"))
                    self._lot()
                events.append(transformation(cut_t, "disassembling", house, [qty(u, kg, "KGM") for u, kg in group],
                                             [qty(u, kg, m) for u, kg, m in stock],
                                             ilmd={"cbvmda:bestBeforeDate": day(cut_t + 12 * DAY),
                                                   "tg:storage": "0-4 °C"}))
                events += self.distribute(rng, cut_t + 0.5 * DAY, house, [], stock, w.cold_chain, cold=True)
                run += 1
            yield events


def _split(rng: random.Random, stock: list[tuple[str, float, str | None]], parts: int,
           keep: bool) -> list[list[tuple[str, float, str | None]]]:
    """Split each lot's quantity over ``parts`` shipments; with ``keep`` part of it stays with the sender."""
    out: list[list[tuple[str, float, str | None]]] = [[] for _ in range(parts)]
    for uri, quantity, uom in stock:
        weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
        total = sum(weights) * (1.25 if keep else 1.0)
        given = 0.0
        for p, wt in enumerate(weights):
            if p == parts - 1 and not keep:
                amount = quantity - given
            else:
                amount = quantity * wt / total
            amount = int(amount) if uom is None else round(amount, 1)
            if p == parts - 1 and not keep and uom is not None:
                amount = round(quantity - given, 1)
            if amount > 0:
                out[p].append((uri, amount, uom))
                given += amount
    return out


def _results(rng: random.Random, chain: str, fail: bool) -> list[dict]:
    """Item-by-item results; a failing inspection has one item over its limit."""
    out = []
    if chain == "rice":
        bad = rng.randrange(len(RICE_TESTS)) if fail else -1
        for n, (item, limit, unit, lo, hi) in enumerate(RICE_TESTS):
            value = round(limit * rng.uniform(1.1, 2.0) if n == bad else rng.uniform(lo, hi), 3)
            out.append({"item": item, "value": value, "limit": limit, "unit": unit, "pass": n != bad})
    elif chain == "ginseng":
        bad = rng.randrange(len(GINSENG_TESTS)) if fail else -1
        for n, (item, limit, unit, lo, hi) in enumerate(GINSENG_TESTS):
            value = round(limit * rng.uniform(1.1, 2.0) if n == bad else rng.uniform(lo, hi), 3)
            out.append({"item": item, "value": value, "limit": limit, "unit": unit, "pass": n != bad})
        for item, minimum, unit, lo, hi in GINSENOSIDES:
            out.append({"item": item, "value": round(rng.uniform(lo, hi), 2), "limit": minimum, "unit": unit,
                        "limit_type": "min", "pass": True})
    else:
        bad = rng.randrange(len(BEEF_TESTS)) if fail else -1
        for n, item in enumerate(BEEF_TESTS):
            value = round(rng.uniform(0.6, 3.0), 2) if n == bad else None  # None: not detected (< 0.25 μg/kg)
            out.append({"item": item, "value": value, "limit": "不得检出 not detected", "unit": "μg/kg",
                        "pass": n != bad})
    return out


__all__ = ["BEEF_CUTS", "Chains", "stamp"]
