"""The demo province: Jilin's three chains (ginseng, rice, beef) as master data plus EPCIS 2.0 events.

Everything goes in through the same paths as real data (master data upserts, the EPCIS capture write path,
inspections and certificates), so the demo exercises what users exercise. Loading is idempotent: business keys
are fixed and events carry fixed eventIDs.

(Over 500 lines on purpose: most of it is the province's data itself, three chains' parties, products, events,
inspections and certificates written out as a reader checks them against DOMAIN.md; the loader is the last 80 lines.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gs1 import event_builders
from gs1.identifiers import Ref
from gs1.keys import check_digit
from gs1.timezones import CHINA_OFFSET as TZ
from labels.serials import ALPHABET, RANDOM_LEN, sign_serial

# ILMD and extension fields of our own live in the "tg" namespace (JSON-LD needs a declared prefix).
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"tg": "https://tracegraph.example.cn/ns#"}]


def gln(body12: str) -> str:
    """A GLN from its first 12 digits."""
    return body12 + check_digit(body12)


def gtin(body13: str) -> str:
    """A GTIN-14 from its first 13 digits."""
    return body13 + check_digit(body13)


# --- parties -------------------------------------------------------------------------------------------------
def _party(body, name_zh, name_en, roles, region_code, region_zh, region_en, address_zh, phone):
    return {
        "gln": gln(body), "name_zh": name_zh, "name_en": name_en, "roles": roles, "region_code": region_code,
        "region_zh": region_zh, "region_en": region_en, "address_zh": address_zh,
        "contact_name": "联系人", "contact_phone": phone, "contact_email": None,
    }


P = {
    # ginseng
    "fusong_farm": _party("690123400001", "抚松县万良镇参园", "Wanliang Ginseng Farm, Fusong", ["farm"], "220621",
                          "吉林省白山市抚松县", "Fusong County, Baishan", "抚松县万良镇", "13943900001"),
    "jian_farm": _party("690123400002", "集安市清河镇参场", "Qinghe Ginseng Farm, Ji'an", ["farm"], "220582",
                        "吉林省通化市集安市", "Ji'an, Tonghua", "集安市清河镇", "13943900002"),
    "ginseng_plant": _party("690123400003", "长白山人参加工有限公司", "Changbaishan Ginseng Processing Co.",
                            ["processor"], "220621", "吉林省白山市抚松县", "Fusong County, Baishan",
                            "抚松县抚松镇工业园", "13943900003"),
    # rice
    "shulan_farm_a": _party("690123400011", "舒兰市平安镇水稻合作社", "Ping'an Rice Co-op, Shulan", ["farm"], "220283",
                            "吉林省吉林市舒兰市", "Shulan, Jilin City", "舒兰市平安镇", "13943900011"),
    "shulan_farm_b": _party("690123400012", "舒兰市开原镇家庭农场", "Kaiyuan Family Farm, Shulan", ["farm"], "220283",
                            "吉林省吉林市舒兰市", "Shulan, Jilin City", "舒兰市开原镇", "13943900012"),
    "shulan_farm_c": _party("690123400013", "舒兰市白旗镇稻田", "Baiqi Paddy Fields, Shulan", ["farm"], "220283",
                            "吉林省吉林市舒兰市", "Shulan, Jilin City", "舒兰市白旗镇", "13943900013"),
    "meihekou_farm_d": _party("690123400014", "梅河口市水道镇种植户", "Shuidao Growers, Meihekou", ["farm"], "220581",
                              "吉林省通化市梅河口市", "Meihekou, Tonghua", "梅河口市水道镇", "13943900014"),
    "meihekou_farm_e": _party("690123400015", "梅河口市曙光镇农场", "Shuguang Farm, Meihekou", ["farm"], "220581",
                              "吉林省通化市梅河口市", "Meihekou, Tonghua", "梅河口市曙光镇", "13943900015"),
    "shulan_mill": _party("690123400016", "舒兰市五常湾米业", "Shulan Rice Mill", ["processor"], "220283",
                          "吉林省吉林市舒兰市", "Shulan, Jilin City", "舒兰市经济开发区", "13943900016"),
    "meihekou_mill": _party("690123400017", "梅河口市鲜米加工厂", "Meihekou Rice Mill", ["processor"], "220581",
                            "吉林省通化市梅河口市", "Meihekou, Tonghua", "梅河口市工业园", "13943900017"),
    # beef
    "helong_ranch": _party("690123400021", "和龙市延边黄牛养殖场", "Helong Yanbian Cattle Ranch", ["farm"], "222400",
                           "吉林省延边朝鲜族自治州和龙市", "Helong, Yanbian", "和龙市西城镇", "13943900021"),
    "longjing_ranch": _party("690123400022", "龙井市东盛涌牧场", "Dongshengyong Ranch, Longjing", ["farm"], "222400",
                             "吉林省延边朝鲜族自治州龙井市", "Longjing, Yanbian", "龙井市东盛涌镇", "13943900022"),
    "yanbian_abattoir": _party("690123400023", "延边黄牛肉业屠宰厂", "Yanbian Beef Abattoir", ["processor"], "222400",
                               "吉林省延边朝鲜族自治州延吉市", "Yanji, Yanbian", "延吉市长白山西路", "13943900023"),
    # distribution and retail
    "changchun_dc": _party("690123400031", "长春农产品物流中心", "Changchun Agri-Food Logistics", ["distributor"],
                           "220100", "吉林省长春市", "Changchun", "长春市绿园区", "13943900031"),
    "yanji_coldchain": _party("690123400032", "延吉冷链物流", "Yanji Cold Chain Logistics", ["distributor"], "222400",
                              "吉林省延边朝鲜族自治州延吉市", "Yanji, Yanbian", "延吉市北山街", "13943900032"),
    "eurasia": _party("690123400041", "长春欧亚超市(卫星路店)", "Eurasia Supermarket, Changchun", ["retailer"],
                      "220100", "吉林省长春市", "Changchun", "长春市朝阳区卫星路", "13943900041"),
    "rtmart_jilin": _party("690123400042", "大润发(吉林市店)", "RT-Mart, Jilin City", ["retailer"], "220200",
                           "吉林省吉林市", "Jilin City", "吉林市船营区", "13943900042"),
    "ginseng_shop": _party("690123400043", "长春人参专卖店", "Changchun Ginseng Store", ["retailer"], "220100",
                           "吉林省长春市", "Changchun", "长春市南关区", "13943900043"),
    "yanji_store": _party("690123400044", "延吉百货大楼", "Yanji Department Store", ["retailer"], "222400",
                          "吉林省延边朝鲜族自治州延吉市", "Yanji, Yanbian", "延吉市光明街", "13943900044"),
    # lab, regulator, certifier
    "lab": _party("690123400051", "吉林省农产品质量安全检测中心", "Jilin Agri-Product Quality Testing Center", ["lab"],
                  "220100", "吉林省长春市", "Changchun", "长春市净月区", "13943900051"),
    "regulator": _party("690123400061", "吉林省市场监督管理局", "Jilin Administration for Market Regulation",
                        ["regulator"], "220000", "吉林省", "Jilin Province", "长春市南关区", "13943900061"),
    "gi_registry": _party("690123400072", "农业农村部农产品质量安全中心", "MARA Agri-Product Quality and Safety Center",
                          ["certifier"], "110000", "北京市", "Beijing", "北京市朝阳区", "10000000072"),
    "certifier": _party("690123400071", "中国绿色食品发展中心", "China Green Food Development Center", ["certifier"],
                        "110000", "北京市", "Beijing", "北京市海淀区", "10000000071"),
}


# --- products ------------------------------------------------------------------------------------------------
def _product(body, name_zh, name_en, category, unit, owner, standard=None, **extra):
    return {"gtin": gtin(body), "name_zh": name_zh, "name_en": name_en, "category": category, "unit": unit,
            "owner_gln": P[owner]["gln"], "standard": standard, **extra}


# Master data the consumer page shows: chilled beef's storage (贮存条件) and the Shulan rice's cultivar (品种).
CHILLED = {"storage": {"min_c": 0, "max_c": 4, "note": "冷藏"}}
SHULAN_VARIETY = {"variety": "稻花香2号"}


G = {
    "fresh_ginseng": _product("0690123400101", "鲜人参(园参)", "Fresh ginseng root", "ginseng", "KGM", "fusong_farm"),
    "fresh_ginseng_jian": _product("0690123400102", "集安鲜人参", "Ji'an fresh ginseng", "ginseng", "KGM",
                                   "jian_farm"),
    "dried_ginseng": _product("0690123400103", "长白山人参(生晒参)", "Changbaishan dried ginseng", "ginseng", "KGM",
                              "ginseng_plant", "GB/T 19506-2009"),
    "ginseng_box": _product("0690123400104", "长白山人参礼盒 250克", "Changbaishan ginseng gift box 250 g", "ginseng",
                            "EA", "ginseng_plant", "GB/T 19506-2009"),
    "paddy": _product("0690123400201", "稻谷", "Paddy rice", "paddy", "KGM", "shulan_farm_a"),
    "milled_rice": _product("0690123400202", "舒兰大米", "Shulan milled rice", "rice", "KGM", "shulan_mill",
                            "GB/T 1354-2018", **SHULAN_VARIETY),
    "rice_bag_5kg": _product("0690123400203", "舒兰大米 5千克", "Shulan rice 5 kg", "rice", "EA", "shulan_mill",
                             "GB/T 1354-2018", **SHULAN_VARIETY),
    "meihekou_rice": _product("0690123400204", "梅河口大米", "Meihekou milled rice", "rice", "KGM", "meihekou_mill",
                              "GB/T 1354-2018"),
    "meihekou_bag_10kg": _product("0690123400205", "梅河口大米 10千克", "Meihekou rice 10 kg", "rice", "EA",
                                  "meihekou_mill", "GB/T 1354-2018"),
    "cattle": _product("0690123400301", "延边黄牛(活牛)", "Yanbian yellow cattle (live)", "cattle", "EA",
                       "helong_ranch"),
    "tenderloin": _product("0690123400302", "延边黄牛里脊", "Yanbian beef tenderloin", "beef", "KGM",
                           "yanbian_abattoir", "GB/T 17238-2022", **CHILLED),
    "brisket": _product("0690123400303", "延边黄牛牛腩", "Yanbian beef brisket", "beef", "KGM", "yanbian_abattoir",
                        "GB/T 17238-2022", **CHILLED),
}


def lot_uri(product: str, lot: str) -> str:
    """The Digital Link URI of a lot."""
    return event_builders.lot_uri(G[product]["gtin"], lot)


def item_uri(product: str, lot: str | None, serial: str) -> str:
    """The Digital Link URI of a serialized item (with its lot when it has one)."""
    return Ref("item", gtin=G[product]["gtin"], lot=lot or None, serial=serial).digital_link()


def loc(party: str) -> dict:
    """A readPoint/bizLocation for a party's site."""
    return {"id": event_builders.location_uri(P[party]["gln"])}


def owner(party: str) -> str:
    """The Digital Link URI of a party (source/destination owning_party)."""
    return event_builders.party_uri(P[party]["gln"])


@dataclass
class Demo:
    """The whole demo data set."""

    parties: list[dict]
    products: list[dict]
    events: list[dict] = field(default_factory=list)
    inspections: list[dict] = field(default_factory=list)
    certificates: list[dict] = field(default_factory=list)
    lots: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (gtin, lot)
    items: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # label -> (gtin, lot, serial)
    recall_lot: tuple[str, str] | None = None


class _Builder:
    def __init__(self, secret: str):
        self.secret = secret
        self.demo = Demo(parties=list(P.values()), products=list(G.values()))
        self.n = 0

    def event(self, kind: str, when: str, party: str, biz_step: str, disposition: str | None = None, **body):
        self.n += 1
        ev = {"type": kind, "eventID": f"urn:uuid:7a1c0d5e-0000-4000-8000-{self.n:012d}",
              "eventTime": f"{when}{TZ}", "eventTimeZoneOffset": TZ, "bizStep": biz_step,
              "readPoint": loc(party), "bizLocation": loc(party)}
        if disposition:
            ev["disposition"] = disposition
        ev.update(body)
        self.demo.events.append(ev)
        return ev

    # Every tracking event names its reference document (FSMA 204's "reference document type and number",
    # 21 CFR 1.1325-1.1350): a harvest its harvest order, a shipment its despatch advice (and invoice), a receipt the
    # shipment's documents it received against, a transformation its production order. The party that wrote the
    # document issued it (its GLN in the identifier).
    def harvest(self, when, party, product, lot, qty, field, uom="KGM", ilmd=None):
        """A farm's harvest (CBV harvesting: FSMA's harvesting CTE): the field in ILMD, the harvest order."""
        self.demo.lots[lot] = (G[product]["gtin"], lot)
        body = {"action": "ADD", "epcList": [],
                "quantityList": [{"epcClass": lot_uri(product, lot), "quantity": qty, "uom": uom}],
                "bizTransactionList": _documents(party, [("prodorder", f"HV-{lot}")]),
                "ilmd": {**(ilmd or {}), "tg:field": field}}
        return self.event("ObjectEvent", when, party, "harvesting", "active", **body)

    def ship(self, when, src, dst, lines, docs, epcs=()):
        """A shipment and its documents (issued by the shipper); returns them for the receipt."""
        body = {"action": "OBSERVE", "epcList": list(epcs),
                "quantityList": [{"epcClass": lot_uri(p, lot), "quantity": q, "uom": u} for p, lot, q, u in lines],
                **event_builders.owning_parties(P[src]["gln"], P[dst]["gln"]),
                "bizTransactionList": _documents(src, docs)}
        self.event("ObjectEvent", when, src, "shipping", "in_transit", **body)
        return docs

    def receive(self, when, src, dst, lines, docs, epcs=()):
        """A receipt against the shipment's documents (issued by the shipper)."""
        body = {"action": "OBSERVE", "epcList": list(epcs),
                "quantityList": [{"epcClass": lot_uri(p, lot), "quantity": q, "uom": u} for p, lot, q, u in lines],
                **event_builders.owning_parties(P[src]["gln"], P[dst]["gln"]),
                "bizTransactionList": _documents(src, docs)}
        self.event("ObjectEvent", when, dst, "receiving", "in_progress", **body)

    def transform(self, when, party, inputs, outputs, order, step="commissioning", ilmd=None):
        """A transformation under the processor's production order."""
        for p, lot, _, _ in outputs:
            self.demo.lots[lot] = (G[p]["gtin"], lot)
        body = {"inputQuantityList": [{"epcClass": lot_uri(p, lot), "quantity": q, "uom": u}
                                      for p, lot, q, u in inputs],
                "outputQuantityList": [{"epcClass": lot_uri(p, lot), "quantity": q, "uom": u}
                                       for p, lot, q, u in outputs],
                "bizTransactionList": _documents(party, [("prodorder", order)])}
        if ilmd:
            body["ilmd"] = ilmd
        self.event("TransformationEvent", when, party, step, "active", **body)

    def inspect(self, lot_label, when, report, sample, standard, results, programme, region_code, hazard):
        gtin_, lot = self.demo.lots[lot_label]
        verdict = "pass" if all(r["pass"] for r in results) else "fail"
        self.demo.inspections.append({
            "lab_gln": P["lab"]["gln"], "gtin": gtin_, "lot": lot, "report_no": report, "sample_id": sample,
            "date": when, "standard": standard, "verdict": verdict, "results": results, "programme": programme,
            "sampling_body": SAMPLING_BODIES[programme], "region_code": region_code, "hazard": hazard})

    def certify(self, kind, number, subject, valid_from, valid_until, name_zh, gtin_=None, lot=None):
        # Geographical indications are registered by the agriculture ministry's centre; green food by its own centre.
        issuer = P["gi_registry" if kind == "gi" else "certifier"]["gln"]
        self.demo.certificates.append({
            "type": kind, "number": number, "issuer_gln": issuer, "name_zh": name_zh,
            "party_gln": P[subject]["gln"] if subject else None, "gtin": gtin_, "lot": lot,
            "valid_from": valid_from, "valid_until": valid_until})


# Who took each programme's samples (抽样单位): the province's farm-product monitoring centre samples for routine
# monitoring; the market-supervision bureau for food-safety sampling.
CLASSIFICATION = ("programme", "sampling_body", "region_code", "hazard")
SAMPLING_BODIES = {"routine_monitoring": "吉林省农产品质量安全监测中心", "food_safety_sampling": "吉林省市场监督管理局"}


def _documents(issuer: str, docs) -> list[dict]:
    """A bizTransactionList: (CBV type, number) pairs of documents the party `issuer` wrote."""
    return [{"type": t, "bizTransaction": event_builders.business_transaction(P[issuer]["gln"], number)}
            for t, number in docs]


def _fixed_random(seed: str) -> str:
    """A serial's random part derived from a seed (the demo must be the same on every load)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:RANDOM_LEN])


def _r(item, value, limit, unit):
    """An inspection item result: passes when value <= limit."""
    return {"item": item, "value": value, "limit": limit, "unit": unit, "pass": value <= limit}


def build(secret: str) -> Demo:
    """Build the demo data set; item serials are signed with the app's secret so their QR codes verify."""
    b = _Builder(secret)
    d = b.demo

    # Ginseng: two growers -> drying at the processor -> signed gift boxes in a case -> Changchun -> retail.
    b.harvest("2026-09-15T08:30:00", "fusong_farm", "fresh_ginseng", "FS2026-0915", 600, "万良镇参园3号参棚",
              ilmd={"cbvmda:countryOfOrigin": "CN", "tg:rootAgeYears": 6})
    b.harvest("2026-09-16T09:00:00", "jian_farm", "fresh_ginseng_jian", "JA2026-0916", 300, "清河镇参场东坡林下")
    docs = b.ship("2026-09-17T07:00:00", "fusong_farm", "ginseng_plant", [("fresh_ginseng", "FS2026-0915", 600, "KGM")],
                  docs=[("desadv", "DN-FS-0917")])
    b.receive("2026-09-17T15:00:00", "fusong_farm", "ginseng_plant", [("fresh_ginseng", "FS2026-0915", 600, "KGM")],
              docs)
    docs = b.ship("2026-09-18T07:00:00", "jian_farm", "ginseng_plant",
                  [("fresh_ginseng_jian", "JA2026-0916", 300, "KGM")], docs=[("desadv", "DN-JA-0918")])
    b.receive("2026-09-18T16:00:00", "jian_farm", "ginseng_plant",
              [("fresh_ginseng_jian", "JA2026-0916", 300, "KGM")], docs)
    b.transform("2026-09-25T10:00:00", "ginseng_plant",
                [("fresh_ginseng", "FS2026-0915", 600, "KGM"), ("fresh_ginseng_jian", "JA2026-0916", 300, "KGM")],
                [("dried_ginseng", "CBS2026-D01", 300, "KGM")], order="WO-CBS2026-D01")
    b.transform("2026-10-08T09:00:00", "ginseng_plant", [("dried_ginseng", "CBS2026-D01", 50, "KGM")],
                [("ginseng_box", "GB2026-1008", 200, "EA")], order="WO-GB2026-1008")
    gbox = G["ginseng_box"]["gtin"]
    # Fixed random parts keep the demo idempotent (same events on every load); the signature still uses the secret.
    serials = [sign_serial(secret, gbox, "GB2026-1008", _fixed_random(f"demo-box-{i}")) for i in range(6)]
    boxes = [item_uri("ginseng_box", "GB2026-1008", s) for s in serials]
    for i, s in enumerate(serials):
        d.items[f"box{i + 1}"] = (gbox, "GB2026-1008", s)
    b.event("ObjectEvent", "2026-10-08T11:00:00", "ginseng_plant", "commissioning", "active", action="ADD",
            epcList=boxes)
    sscc_body = "3" + "6901234" + "000000001"  # extension digit + company prefix + serial reference
    case = Ref("sscc", sscc=sscc_body + check_digit(sscc_body)).digital_link()
    b.event("AggregationEvent", "2026-10-08T14:00:00", "ginseng_plant", "packing", "in_progress", action="ADD",
            parentID=case, childEPCs=boxes)
    b.event("ObjectEvent", "2026-10-10T08:00:00", "ginseng_plant", "shipping", "in_transit", action="OBSERVE",
            epcList=[case], sourceList=[{"type": "owning_party", "source": owner("ginseng_plant")}],
            destinationList=[{"type": "owning_party", "destination": owner("changchun_dc")}],
            bizTransactionList=[{"type": "inv", "bizTransaction":
                                 f"urn:epcglobal:cbv:bt:{P['ginseng_plant']['gln']}:INV-2026-1010"}])
    b.event("ObjectEvent", "2026-10-10T18:00:00", "changchun_dc", "receiving", "in_progress", action="OBSERVE",
            epcList=[case], sourceList=[{"type": "owning_party", "source": owner("ginseng_plant")}],
            destinationList=[{"type": "owning_party", "destination": owner("changchun_dc")}])
    b.event("AggregationEvent", "2026-10-12T09:00:00", "changchun_dc", "unpacking", "in_progress", action="DELETE",
            parentID=case, childEPCs=boxes)
    b.event("ObjectEvent", "2026-10-12T10:00:00", "changchun_dc", "shipping", "in_transit", action="OBSERVE",
            epcList=boxes[:4], sourceList=[{"type": "owning_party", "source": owner("changchun_dc")}],
            destinationList=[{"type": "owning_party", "destination": owner("ginseng_shop")}])
    b.event("ObjectEvent", "2026-10-12T16:00:00", "ginseng_shop", "receiving", "sellable_not_accessible",
            action="OBSERVE", epcList=boxes[:4], sourceList=[{"type": "owning_party", "source": owner("changchun_dc")}],
            destinationList=[{"type": "owning_party", "destination": owner("ginseng_shop")}])
    b.event("ObjectEvent", "2026-11-02T15:20:00", "ginseng_shop", "retail_selling", "retail_sold", action="OBSERVE",
            epcList=boxes[3:4])
    b.inspect("CBS2026-D01", "2026-09-28", "JL-NJ-2026-0928-017", "S-CBS-01", "GB/T 19506-2009; 中国药典2020",
              [_r("铅 Pb", 0.42, 5.0, "mg/kg"), _r("镉 Cd", 0.08, 1.0, "mg/kg"), _r("总砷 As", 0.15, 2.0, "mg/kg"),
               _r("汞 Hg", 0.01, 0.2, "mg/kg"), _r("五氯硝基苯 quintozene", 0.02, 0.1, "mg/kg"),
               {"item": "人参皂苷 Rg1+Re", "value": 0.41, "limit": 0.30, "unit": "%", "pass": True}],
              "food_safety_sampling", "220621", "heavy metals")
    b.certify("gi", "AGI2026-0001", "ginseng_plant", "2024-01-01", "2029-12-31", "长白山人参 地理标志",
              gtin_=G["dried_ginseng"]["gtin"])
    b.certify("gi", "AGI2026-0001B", "ginseng_plant", "2024-01-01", "2029-12-31", "长白山人参 地理标志",
              gtin_=gbox)
    b.certify("green_food", "LB-2023-0917", "jian_farm", "2023-03-01", "2026-02-28", "绿色食品(已过期)")

    # Rice: five farms' paddy -> two mills (one farm lot feeds both) -> bagging runs -> Changchun -> supermarkets.
    for farm, lot, qty, field_ in (("shulan_farm_a", "SLA2026-1003", 20000, "平安镇东岗村3号田"),
                                   ("shulan_farm_b", "SLB2026-1004", 16000, "开原镇长岭村南洼地"),
                                   ("shulan_farm_c", "SLC2026-1005", 24000, "白旗镇稻田7区"),
                                   ("meihekou_farm_d", "MHD2026-1006", 18000, "水道镇河西片"),
                                   ("meihekou_farm_e", "MHE2026-1007", 15000, "曙光镇北岗地块")):
        b.harvest(f"2026-10-{lot[-2:]}T07:00:00", farm, "paddy", lot, qty, field_)
    for farm, mill, lot, qty, day in (("shulan_farm_a", "shulan_mill", "SLA2026-1003", 20000, 10),
                                      ("shulan_farm_b", "shulan_mill", "SLB2026-1004", 16000, 10),
                                      ("shulan_farm_c", "shulan_mill", "SLC2026-1005", 14000, 11),
                                      ("shulan_farm_c", "meihekou_mill", "SLC2026-1005", 10000, 11),
                                      ("meihekou_farm_d", "meihekou_mill", "MHD2026-1006", 18000, 12),
                                      ("meihekou_farm_e", "meihekou_mill", "MHE2026-1007", 15000, 12)):
        docs = b.ship(f"2026-10-{day}T07:00:00", farm, mill, [("paddy", lot, qty, "KGM")],
                      docs=[("desadv", f"DN-{lot}")])
        b.receive(f"2026-10-{day}T17:00:00", farm, mill, [("paddy", lot, qty, "KGM")], docs)
    b.transform("2026-10-15T08:00:00", "shulan_mill",
                [("paddy", "SLA2026-1003", 20000, "KGM"), ("paddy", "SLB2026-1004", 16000, "KGM"),
                 ("paddy", "SLC2026-1005", 14000, "KGM")],
                [("milled_rice", "SLM2026-1015", 33500, "KGM")], order="WO-SLM2026-1015")
    b.transform("2026-10-16T08:00:00", "meihekou_mill",
                [("paddy", "SLC2026-1005", 10000, "KGM"), ("paddy", "MHD2026-1006", 18000, "KGM"),
                 ("paddy", "MHE2026-1007", 15000, "KGM")],
                [("meihekou_rice", "MHM2026-1016", 28600, "KGM")], order="WO-MHM2026-1016")
    b.transform("2026-10-17T09:00:00", "shulan_mill", [("milled_rice", "SLM2026-1015", 10000, "KGM")],
                [("rice_bag_5kg", "SL5K2026-1017", 2000, "EA")], order="WO-SL5K2026-1017", step="packing")
    b.transform("2026-10-18T09:00:00", "meihekou_mill", [("meihekou_rice", "MHM2026-1016", 8000, "KGM")],
                [("meihekou_bag_10kg", "MH10K2026-1018", 800, "EA")], order="WO-MH10K2026-1018", step="packing")
    lines = [("rice_bag_5kg", "SL5K2026-1017", 1200, "EA")]
    docs = b.ship("2026-10-20T06:00:00", "shulan_mill", "changchun_dc", lines,
                  docs=[("desadv", "DN-SL-1020"), ("inv", "INV-SL-1020")])
    b.receive("2026-10-20T14:00:00", "shulan_mill", "changchun_dc", lines, docs)
    docs = b.ship("2026-10-21T06:00:00", "meihekou_mill", "changchun_dc",
                  [("meihekou_bag_10kg", "MH10K2026-1018", 500, "EA")], docs=[("desadv", "DN-MH-1021")])
    b.receive("2026-10-21T15:00:00", "meihekou_mill", "changchun_dc",
              [("meihekou_bag_10kg", "MH10K2026-1018", 500, "EA")], docs)
    for store, qty5, qty10, day in (("eurasia", 600, 200, 22), ("rtmart_jilin", 400, 150, 23)):
        lines = [("rice_bag_5kg", "SL5K2026-1017", qty5, "EA"), ("meihekou_bag_10kg", "MH10K2026-1018", qty10, "EA")]
        docs = b.ship(f"2026-10-{day}T06:00:00", "changchun_dc", store, lines, docs=[("desadv", f"DN-CC-10{day}")])
        b.receive(f"2026-10-{day}T12:00:00", "changchun_dc", store, lines, docs)
    b.inspect("SLM2026-1015", "2026-10-16", "JL-NJ-2026-1016-042", "S-SLM-01", "GB 2762-2022; GB 2761-2017",
              [_r("镉 Cd", 0.06, 0.2, "mg/kg"), _r("铅 Pb", 0.05, 0.2, "mg/kg"),
               _r("无机砷 inorganic As", 0.08, 0.2, "mg/kg"), _r("黄曲霉毒素B1 aflatoxin B1", 1.2, 10, "μg/kg")],
              "routine_monitoring", "220283", "cadmium")
    b.inspect("MHM2026-1016", "2026-10-17", "JL-NJ-2026-1017-043", "S-MHM-01", "GB 2762-2022",
              [_r("镉 Cd", 0.26, 0.2, "mg/kg"), _r("铅 Pb", 0.07, 0.2, "mg/kg"),
               _r("无机砷 inorganic As", 0.11, 0.2, "mg/kg")],
              "routine_monitoring", "220581", "cadmium")
    b.certify("green_food", "LB-18-2401020345", "shulan_mill", "2024-01-15", "2027-01-14", "绿色食品 舒兰大米",
              gtin_=G["rice_bag_5kg"]["gtin"])
    b.certify("gi", "AGI2011-0712", "shulan_mill", "2011-07-12", "2031-07-11", "舒兰大米 地理标志",
              gtin_=G["rice_bag_5kg"]["gtin"])
    d.recall_lot = d.lots["MH10K2026-1018"]

    # Beef: ear-tagged animals from two ranches -> slaughter (quarantine certificates) -> cuts mixing animals.
    cattle = G["cattle"]["gtin"]
    tags = {"helong_ranch": ["222401000120001", "222401000120002"], "longjing_ranch": ["222405000330017"]}
    for ranch, ear_tags in tags.items():
        animals = [item_uri("cattle", None, t) for t in ear_tags]
        b.event("ObjectEvent", "2026-03-01T09:00:00", ranch, "commissioning", "active", action="ADD",
                epcList=animals)
        b.event("ObjectEvent", "2026-11-03T06:00:00", ranch, "shipping", "in_transit", action="OBSERVE",
                epcList=animals, sourceList=[{"type": "owning_party", "source": owner(ranch)}],
                destinationList=[{"type": "owning_party", "destination": owner("yanbian_abattoir")}],
                bizTransactionList=[{"type": "desadv", "bizTransaction":
                                     f"urn:epcglobal:cbv:bt:{P[ranch]['gln']}:QC-2207-{ear_tags[0][-5:]}"}])
        b.event("ObjectEvent", "2026-11-03T11:00:00", "yanbian_abattoir", "receiving", "in_progress",
                action="OBSERVE", epcList=animals,
                sourceList=[{"type": "owning_party", "source": owner(ranch)}],
                destinationList=[{"type": "owning_party", "destination": owner("yanbian_abattoir")}])
    all_animals = [item_uri("cattle", None, t) for ts in tags.values() for t in ts]
    for tag in (t for ts in tags.values() for t in ts):
        d.items[f"cattle-{tag}"] = (cattle, "", tag)
    b.demo.lots["YBT2026-1104"] = (G["tenderloin"]["gtin"], "YBT2026-1104")
    b.demo.lots["YBB2026-1104"] = (G["brisket"]["gtin"], "YBB2026-1104")
    b.event("TransformationEvent", "2026-11-04T07:00:00", "yanbian_abattoir", "commissioning", "active",
            inputEPCList=all_animals,
            outputQuantityList=[{"epcClass": lot_uri("tenderloin", "YBT2026-1104"), "quantity": 36, "uom": "KGM"},
                                {"epcClass": lot_uri("brisket", "YBB2026-1104"), "quantity": 120, "uom": "KGM"}],
            ilmd={"tg:quarantineCertificates": ["动检A2207-0001234", "动检A2207-0001235"],
                  "tg:earTags": [t for ts in tags.values() for t in ts]})
    lines = [("tenderloin", "YBT2026-1104", 36, "KGM"), ("brisket", "YBB2026-1104", 120, "KGM")]
    docs = b.ship("2026-11-05T05:00:00", "yanbian_abattoir", "yanji_coldchain", lines, docs=[("desadv", "DN-YB-1105")])
    b.receive("2026-11-05T08:00:00", "yanbian_abattoir", "yanji_coldchain", lines, docs)
    b.ship("2026-11-06T05:00:00", "yanji_coldchain", "yanji_store",
           [("tenderloin", "YBT2026-1104", 20, "KGM"), ("brisket", "YBB2026-1104", 60, "KGM")],
           docs=[("desadv", "DN-YJ-1106")])
    b.ship("2026-11-06T05:30:00", "yanji_coldchain", "eurasia", [("tenderloin", "YBT2026-1104", 16, "KGM")],
           docs=[("desadv", "DN-YJ-1106B")])
    b.inspect("YBT2026-1104", "2026-11-04", "JL-NJ-2026-1104-088", "S-YBT-01", "GB 31650-2019; 农业农村部公告第250号",
              [_r("克伦特罗 clenbuterol", 0.0, 0.0, "μg/kg"), _r("莱克多巴胺 ractopamine", 0.0, 0.0, "μg/kg"),
               _r("沙丁胺醇 salbutamol", 0.0, 0.0, "μg/kg")],
              "routine_monitoring", "222401", "beta-agonists")
    b.certify("gi", "AGI2012-0987", "yanbian_abattoir", "2012-09-01", "2032-08-31", "延边黄牛肉 地理标志",
              gtin_=G["tenderloin"]["gtin"])
    return d


def document(events: list[dict]) -> dict:
    """Wrap events in an EPCIS 2.0 document."""
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-20T00:00:00+08:00", "epcisBody": {"eventList": events}}


# --- loading ---------------------------------------------------------------------------------------------------
DEMO_TOKENS = (("admin", None), ("regulator", "regulator"), ("producer", "ginseng_plant"),
               ("producer", "shulan_mill"), ("producer", "meihekou_mill"), ("producer", "changchun_dc"),
               ("lab", "lab"))


class DemoLoadError(RuntimeError):
    """The app refused part of the demo data (a bug in the demo or in the app)."""


def load(app, only_if_empty: bool = False) -> dict | None:
    """Load the demo province through the app's own API, as a client would; return a summary (None if skipped).

    Idempotent: existing parties, products, inspections and certificates answer 409 and are left as they are;
    events carry fixed eventIDs, so re-capturing them is a no-op; the demo recall is opened only once. In a store
    holding an older version of the demo, events this version changed are conflicting resends: they stay as stored
    and are listed in the summary's `stale_events` (everything else still loads).
    """
    from app import audit
    from graph import epcis_query, tokens
    from graph import parties as party_store

    graph = app.extensions["graph"]
    # "Empty" means no events: a load that stopped half-way (master data only) is simply loaded again.
    if only_if_empty and epcis_query.has_events(graph):
        return None
    data = build(app.config["SECRET_KEY"])
    party_store.upsert_many(graph, data.parties)  # master data: created or refreshed
    created = {f"{role}:{name or '-'}": tokens.create(graph, role, P[name]["gln"] if name else None, "demo")
               for role, name in DEMO_TOKENS}
    made = {name: token["token"] for name, token in created.items()}
    # The two writes above bypass HTTP; what goes through the test client below is audited as HTTP requests.
    audit.record("demo.load", app=app, outcome="done", path="demo load", body={"parties": data.parties},
                 detail={"tokens": [{k: t[k] for k in ("token_id", "role", "party_gln")} for t in created.values()],
                         "products": len(data.products), "events": len(data.events)})
    client = app.test_client()
    admin = {"Authorization": f"Bearer {made['admin:-']}"}

    def post(path: str, body: dict, ok=(200, 201, 202, 409), headers=None) -> dict:
        response = client.post(path, json=body, headers=headers or admin)
        if response.status_code not in ok:
            raise DemoLoadError(f"POST {path} -> {response.status_code}: {response.get_data(as_text=True)[:500]}")
        return response.get_json(silent=True) or {}

    for product in data.products:
        answer = post("/api/v1/products", {k: v for k, v in product.items() if v is not None})
        facts = {k: product[k] for k in ("storage", "variety") if product.get(k)}
        if facts and (answer.get("error") or {}).get("status") == 409:
            # registered by an earlier load, perhaps before products carried these facts: set them as the owner would
            response = client.patch(f"/api/v1/products/{product['gtin']}", json=facts, headers=admin)
            if response.status_code != 200:
                raise DemoLoadError(f"PATCH product {product['gtin']} -> {response.status_code}")
    job = post("/epcis/capture", document(data.events))
    status = client.get(f"/epcis/capture/{job.get('captureID', '')}", headers=admin) if job.get("captureID") else None
    stale: list[str] = []
    if status is not None and status.status_code == 200 and not status.json.get("success", True):
        errors = status.json.get("errors") or []
        ids = {e["eventID"] for e in data.events}
        # An older demo in this store: its events keep their content (a stored event is never overwritten); what
        # else this load brings still goes in. Any other refusal is a bug in the demo or the app.
        stale = sorted({e.get("eventID") for e in errors})
        if not errors or any(e.get("code") != "conflict" or e.get("eventID") not in ids for e in errors):
            raise DemoLoadError(f"demo events refused: {errors}")
    for inspection in data.inspections:
        answer = post("/api/v1/inspections", {**inspection, "event_time": f"{inspection['date']}T16:00:00{TZ}"})
        if (answer.get("error") or {}).get("status") == 409:
            # recorded by an earlier load, perhaps before inspections carried a programme and region: (re)classify
            # it as a regulator would; a failure's holds and alert are raised at most once
            path = f"/api/v1/inspections/{inspection['lab_gln']}/{inspection['report_no']}/classification"
            response = client.put(path, json={k: inspection[k] for k in CLASSIFICATION}, headers=admin)
            if response.status_code != 200:
                raise DemoLoadError(f"PUT {path} -> {response.status_code}: {response.get_data(as_text=True)[:500]}")
    for cert in data.certificates:
        body = {k: cert[k] for k in ("type", "number", "issuer_gln", "valid_from", "valid_until")}
        body.update({"gtin": cert["gtin"]} if cert["gtin"] else {"party_gln": cert["party_gln"]})
        post("/api/v1/certificates", body)
    gtin_, lot = data.recall_lot
    milled = data.lots["MHM2026-1016"]
    if client.get(f"/api/v1/lots/{gtin_}/{lot}").json.get("status") != "recalled":
        reason = "镉超标 (GB 2762-2022: Cd 0.26 mg/kg > 0.2 mg/kg), report JL-NJ-2026-1017-043"
        post("/api/v1/recalls", {"lots": [{"gtin": milled[0], "lot": milled[1]}], "level": 2, "reason": reason},
             ok=(201,), headers={"Authorization": f"Bearer {made['regulator:regulator']}"})
    return {"data": data, "tokens": made, "base": app.config["PUBLIC_BASE_URL"], "stale_events": stale}


def describe(summary: dict) -> str:
    """The lines `flask demo load` prints: scan links, lots to try and tokens (shown once, only hashes are kept)."""
    data, base = summary["data"], summary["base"]
    box = data.items["box1"]
    sold = data.items["box4"]
    lines = ["Demo province loaded.", "", "Scan these (consumer pages):",
             f"  genuine ginseng gift box  {base}/01/{box[0]}/10/{box[1]}/21/{box[2]}",
             f"  box already sold          {base}/01/{sold[0]}/10/{sold[1]}/21/{sold[2]}"]
    for label, lot in (("Shulan rice 5 kg", "SL5K2026-1017"), ("recalled Meihekou rice", "MH10K2026-1018"),
                       ("Yanbian beef tenderloin", "YBT2026-1104"), ("dried ginseng", "CBS2026-D01")):
        gtin_, code = data.lots[lot]
        lines.append(f"  {label:<25} {base}/01/{gtin_}/10/{code}")
    if summary.get("stale_events"):
        lines += ["", f"An older demo is installed: {len(summary['stale_events'])} of its events differ from this "
                  "version's and were kept as stored (an eventID names one event); load into an empty store to see "
                  "this version's."]
    lines += ["", "Tokens (Authorization: Bearer ...):"]
    lines += [f"  {name:<26} {token}" for name, token in summary["tokens"].items()]
    return "\n".join(lines)
