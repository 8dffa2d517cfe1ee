"""Arrange scan tests: a small ginseng chain with fresh keys, recorded through the service's write path.

Events go through graph/events.py (the one write path every capture uses). Inspections and certificates have no
writer of their own yet, so they are written here exactly as docs/graph-model.md describes them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from graph import events, lots, parties, products, tokens
from gs1.digital_link import DEFAULT_BASE as DL
from gs1.epcis import parse_document
from gs1.timezones import CHINA_OFFSET as TZ
from labels.serials import make_serial
from tests import factories

PHONE = "13912345678"  # every party's private contact: it must never reach a public page


@dataclass
class Chain:
    """What a test needs to know about an arranged chain."""

    parties: dict[str, dict]
    fresh_gtin: str
    box_gtin: str
    farm_lot: str
    box_lot: str
    serials: list[str] = field(default_factory=list)
    sold_serial: str = ""


def _party(key: str, roles: list[str], name_zh: str, name_en: str, region_zh: str, region_en: str) -> dict:
    return {"gln": factories.gln(), "name_zh": name_zh, "name_en": name_en, "roles": roles, "region_code": "220621",
            "region_zh": region_zh, "region_en": region_en, "contact_name": "张三", "contact_phone": PHONE,
            "contact_email": f"{key}@example.cn"}


def ginseng_chain(graph, secret: str, boxes: int = 4, farm_status: str = "active") -> Chain:
    """Farm harvest -> drying and boxing at the processor -> case to the distributor -> shop; one box sold.

    The lots come into being through their events, as they do in production; their dates are set afterwards.
    """
    p = {
        "farm": _party("farm", ["farm"], "抚松县万良镇参园", "Wanliang Ginseng Farm", "吉林省白山市抚松县",
                       "Fusong County, Baishan"),
        "plant": _party("plant", ["processor"], "长白山人参加工有限公司", "Changbaishan Ginseng Processing",
                        "吉林省白山市抚松县", "Fusong County, Baishan"),
        "dc": _party("dc", ["distributor"], "长春农产品物流中心", "Changchun Agri-Food Logistics", "吉林省长春市",
                     "Changchun"),
        "shop": _party("shop", ["retailer"], "长春人参专卖店", "Changchun Ginseng Store", "吉林省长春市", "Changchun"),
        "lab": _party("lab", ["lab"], "吉林省农产品质量安全检测中心", "Jilin Agri-Product Testing Center",
                      "吉林省长春市", "Changchun"),
        "certifier": _party("certifier", ["certifier"], "中国绿色食品发展中心", "China Green Food Development Center",
                            "北京市", "Beijing"),
    }
    parties.upsert_many(graph, list(p.values()))
    fresh, box = factories.gtin(), factories.gtin()
    products.upsert_many(graph, [
        {"gtin": fresh, "name_zh": "鲜人参", "name_en": "Fresh ginseng root", "category": "ginseng", "unit": "KGM",
         "owner_gln": p["farm"]["gln"]},
        {"gtin": box, "name_zh": "长白山人参礼盒", "name_en": "Changbaishan ginseng gift box", "category": "ginseng",
         "unit": "EA", "owner_gln": p["plant"]["gln"], "standard": "GB/T 19506-2009"},
    ])
    farm_lot, box_lot = factories.lot_code(), factories.lot_code()
    serials = [make_serial(secret, box, box_lot) for _ in range(boxes)]
    chain = Chain(p, fresh, box, farm_lot, box_lot, serials, serials[-1])

    def loc(k):
        return {"id": f"{DL}/414/{p[k]['gln']}"}

    def owner(k):
        return f"{DL}/417/{p[k]['gln']}"

    def lot_epc(gtin, lot):
        return f"{DL}/01/{gtin}/10/{lot}"

    items = [f"{DL}/01/{box}/10/{box_lot}/21/{s}" for s in serials]
    sscc_body = "3" + factories.gln()[:12] + "0001"
    case = f"{DL}/00/{sscc_body}{factories.check_digit(sscc_body)}"
    evs = []

    def ev(kind, when, where, step, disp=None, **body):
        e = {"type": kind, "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": f"{when}{TZ}",
             "eventTimeZoneOffset": TZ, "bizStep": step, "readPoint": loc(where), "bizLocation": loc(where), **body}
        if disp:
            e["disposition"] = disp
        evs.append(e)

    def move(when, src, dst, step, disp, **what):
        ev("ObjectEvent", when, src if step == "shipping" else dst, step, disp, action="OBSERVE",
           sourceList=[{"type": "owning_party", "source": owner(src)}],
           destinationList=[{"type": "owning_party", "destination": owner(dst)}], **what)

    fresh_q = [{"epcClass": lot_epc(fresh, farm_lot), "quantity": 600, "uom": "KGM"}]
    ev("ObjectEvent", "2026-09-15T08:30:00", "farm", "commissioning", "active", action="ADD", epcList=[],
       quantityList=fresh_q)
    move("2026-09-17T07:00:00", "farm", "plant", "shipping", "in_transit", epcList=[], quantityList=fresh_q)
    move("2026-09-17T15:00:00", "farm", "plant", "receiving", "in_progress", epcList=[], quantityList=fresh_q)
    ev("TransformationEvent", "2026-10-08T09:00:00", "plant", "commissioning", "active",
       inputQuantityList=fresh_q,
       outputQuantityList=[{"epcClass": lot_epc(box, box_lot), "quantity": 200, "uom": "EA"}])
    ev("ObjectEvent", "2026-10-08T11:00:00", "plant", "commissioning", "active", action="ADD", epcList=items)
    ev("AggregationEvent", "2026-10-08T14:00:00", "plant", "packing", "in_progress", action="ADD",
       parentID=case, childEPCs=items)
    move("2026-10-10T08:00:00", "plant", "dc", "shipping", "in_transit", epcList=[case])
    move("2026-10-10T18:00:00", "plant", "dc", "receiving", "in_progress", epcList=[case])
    ev("AggregationEvent", "2026-10-12T09:00:00", "dc", "unpacking", "in_progress", action="DELETE",
       parentID=case, childEPCs=items)
    move("2026-10-12T10:00:00", "dc", "shop", "shipping", "in_transit", epcList=items)
    move("2026-10-12T16:00:00", "dc", "shop", "receiving", "sellable_not_accessible", epcList=items)
    ev("ObjectEvent", "2026-11-02T15:20:00", "shop", "retail_selling", "retail_sold", action="OBSERVE",
       epcList=items[-1:])
    capture(graph, evs)
    graph.query(
        "UNWIND $dates AS d MATCH (l:Lot {key: d.key}) "
        "SET l.production_date = date(d.made), l.expiry_date = date(d.ends)",
        dates=[{"key": lots.lot_key(fresh, farm_lot), "made": "2026-09-15", "ends": None},
               {"key": lots.lot_key(box, box_lot), "made": "2026-10-08", "ends": "2028-10-07"}],
    )
    quality(graph, chain)
    if farm_status != "active":
        set_status(graph, fresh, farm_lot, farm_status)
    return chain


def capture(graph, evs: list[dict]) -> None:
    """Record EPCIS events through graph/events.py as an admin import."""
    doc = {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
           "schemaVersion": "2.0", "creationDate": "2026-11-20T00:00:00+08:00", "epcisBody": {"eventList": evs}}
    normalized = parse_document(doc)
    job = events.CaptureJob(capture_id=events.new_capture_id())
    job.event_count = len(normalized)
    events.capture(graph, list(enumerate(normalized)), events.Policy(role="admin"), job, context=doc["@context"])
    assert job.success, job.errors


def quality(graph, c: Chain) -> None:
    """A passing inspection of the farm lot, a failing one of the box lot; a valid GI, an expired green-food."""
    graph.query(
        """
        MATCH (lab:Party {gln: $lab}), (farm_lot:Lot {key: $farm_key}), (box_lot:Lot {key: $box_key})
        MATCH (farm:Party {gln: $farm}), (box:Product {gtin: $box_gtin})
        CREATE (ok:Inspection {key: $lab + ':' + $ok_no, report_no: $ok_no, sample_id: 'S-1', date: date('2026-09-28'),
                standard: 'GB/T 19506-2009', verdict: 'pass', results: $ok_results})-[:OF_LOT]->(farm_lot)
        CREATE (lab)-[:PERFORMED]->(ok)
        CREATE (bad:Inspection {key: $lab + ':' + $bad_no, report_no: $bad_no, sample_id: 'S-2',
                date: date('2026-10-09'), standard: 'GB 2762-2022', verdict: 'fail', results: $bad_results})
               -[:OF_LOT]->(box_lot)
        CREATE (lab)-[:PERFORMED]->(bad)
        CREATE (:Certificate {key: $certifier + ':GI-' + $box_gtin, type: 'gi', number: 'GI-' + $box_gtin,
                issuer: $certifier, valid_from: date('2024-01-01'), valid_until: date('2099-12-31'),
                name_zh: '长白山人参 地理标志'})-[:CERTIFIES]->(box)
        CREATE (:Certificate {key: $certifier + ':LB-' + $farm, type: 'green_food', number: 'LB-' + $farm,
                issuer: $certifier, valid_from: date('2020-03-01'), valid_until: date('2023-02-28'),
                name_zh: '绿色食品'})-[:CERTIFIES]->(farm)
        """,
        lab=c.parties["lab"]["gln"], farm=c.parties["farm"]["gln"], certifier=c.parties["certifier"]["gln"],
        farm_key=lots.lot_key(c.fresh_gtin, c.farm_lot), box_key=lots.lot_key(c.box_gtin, c.box_lot),
        box_gtin=c.box_gtin, ok_no=f"OK-{c.farm_lot}", bad_no=f"BAD-{c.box_lot}",
        ok_results='[{"item": "铅 Pb", "value": 0.42, "limit": 5.0, "unit": "mg/kg", "pass": true}]',
        bad_results='[{"item": "镉 Cd", "value": 0.26, "limit": 0.2, "unit": "mg/kg", "pass": false},'
                    ' {"item": "铅 Pb", "value": 0.07, "limit": 0.2, "unit": "mg/kg", "pass": true}]',
    )


def set_status(graph, gtin: str, lot: str, status: str) -> None:
    """Put a lot on hold or recall it (the recall engineer's API will do this; the page only reads it)."""
    graph.query("MATCH (l:Lot {key: $key}) SET l.status = $status", key=lots.lot_key(gtin, lot), status=status)


def token(graph, party: dict, role: str = "producer") -> str:
    """A token acting for an arranged party (made once, kept on the party dict)."""
    if "token" not in party:
        party["token"] = tokens.create(graph, role, party["gln"], "test")["token"]
    return party["token"]


@dataclass
class Lattice:
    """A lineage lattice: `width` farm lots, each generation transformed whole into every lot of the next."""

    farms: list[dict]
    gtins: list[str]
    generations: list[list[str]]  # lot codes per generation; generation 0 are the farm lots (gtins[0..width))
    event_ids: list[str]  # the transformations, oldest first

    @property
    def last(self) -> tuple[str, str]:
        """(gtin, lot) of one lot of the last generation."""
        return self.gtins[-1], self.generations[-1][0]


def lattice(graph, width: int = 5, depth: int = 9) -> Lattice:
    """Farms commission `width` lots, ship them to one mill, which transforms every lot of a generation into every
    lot of the next, `depth` times: width**depth paths lead back from a last lot to the farms, width*(depth+1)
    lots are on them."""
    farms = [_party(f"farm{n}", ["farm"], f"格子试验农场{n}", f"Lattice Farm {n}", "黑龙江省五常市", "Wuchang")
             for n in range(width)]
    mill = _party("mill", ["processor"], "格子米业", "Lattice Rice Mill", "黑龙江省五常市", "Wuchang")
    parties.upsert_many(graph, [*farms, mill])
    farm_gtins = [factories.gtin() for _ in farms]
    gen_gtins = [factories.gtin() for _ in range(depth)]
    products.upsert_many(graph, [
        *({"gtin": g, "name_zh": "稻谷", "name_en": "Paddy rice", "category": "rice", "unit": "KGM",
           "owner_gln": f["gln"]} for g, f in zip(farm_gtins, farms, strict=True)),
        *({"gtin": g, "name_zh": f"大米 {n + 1}", "name_en": f"Rice stage {n + 1}", "category": "rice",
           "unit": "KGM", "owner_gln": mill["gln"]} for n, g in enumerate(gen_gtins)),
    ])
    generations = [[factories.lot_code() for _ in range(width)] for _ in range(depth + 1)]

    def q(gtin, lot):
        return {"epcClass": f"{DL}/01/{gtin}/10/{lot}", "quantity": 100, "uom": "KGM"}

    def ev(kind, when, gln, step, **body):
        where = {"id": f"{DL}/414/{gln}"}
        return {"type": kind, "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": f"{when}{TZ}",
                "eventTimeZoneOffset": TZ, "bizStep": step, "readPoint": where, "bizLocation": where, **body}

    evs = []
    for n, (farm, gtin, lot) in enumerate(zip(farms, farm_gtins, generations[0], strict=True)):
        what = {"epcList": [], "quantityList": [q(gtin, lot)]}
        owners = {"sourceList": [{"type": "owning_party", "source": f"{DL}/417/{farm['gln']}"}],
                  "destinationList": [{"type": "owning_party", "destination": f"{DL}/417/{mill['gln']}"}]}
        evs.append(ev("ObjectEvent", f"2026-09-1{n}T08:00:00", farm["gln"], "harvesting", action="ADD",
                      disposition="active", **what))
        evs.append(ev("ObjectEvent", f"2026-09-2{n}T08:00:00", farm["gln"], "shipping", action="OBSERVE",
                      disposition="in_transit", **what, **owners))
        evs.append(ev("ObjectEvent", f"2026-09-2{n}T16:00:00", mill["gln"], "receiving", action="OBSERVE",
                      disposition="in_progress", **what, **owners))
    gtin_of = [farm_gtins, *([g] * width for g in gen_gtins)]
    event_ids = []
    for n in range(depth):
        e = ev("TransformationEvent", f"2026-10-{n + 1:02d}T09:00:00", mill["gln"], "commissioning",
               disposition="active",
               inputQuantityList=[q(g, lot) for g, lot in zip(gtin_of[n], generations[n], strict=True)],
               outputQuantityList=[q(g, lot) for g, lot in zip(gtin_of[n + 1], generations[n + 1], strict=True)])
        event_ids.append(e["eventID"])
        evs.append(e)
    capture(graph, evs)
    return Lattice(farms, [*farm_gtins, *gen_gtins], generations, event_ids)
