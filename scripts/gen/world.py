"""Master data of a synthetic Jilin province: parties with GLNs, products with GTINs, labs, certificates."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from scripts.gen.ids import Keys

# name_zh, name_en, code for the regions of DOMAIN.md (administrative division codes).
SHULAN = ("舒兰市", "Shulan", "220283")
MEIHEKOU = ("梅河口市", "Meihekou", "220581")
FUSONG = ("抚松县", "Fusong", "220621")
JIAN = ("集安市", "Ji'an", "220582")
YANBIAN_COUNTIES = [("延吉市", "Yanji", "222401"), ("龙井市", "Longjing", "222405"), ("和龙市", "Helong", "222406"),
                    ("汪清县", "Wangqing", "222424"), ("安图县", "Antu", "222426")]
CITIES = [("长春市", "Changchun", "220100"), ("吉林市", "Jilin City", "220200"), ("四平市", "Siping", "220300"),
          ("辽源市", "Liaoyuan", "220400"), ("通化市", "Tonghua", "220500"), ("白山市", "Baishan", "220600"),
          ("松原市", "Songyuan", "220700"), ("白城市", "Baicheng", "220800"), ("延边州", "Yanbian", "222400")]
# Retail shoppers concentrate in the big cities: weights for CITIES.
CITY_WEIGHTS = [34, 18, 8, 4, 7, 5, 8, 5, 11]
CHAINS = [("欧亚超市", "Eurasia Supermarket"), ("大商超市", "Dashang Supermarket"), ("华润万家", "CR Vanguard"),
          ("永辉超市", "Yonghui Superstores"), ("沃尔玛", "Walmart"), ("中东超市", "Zhongdong Supermarket"),
          ("利客来", "Likelai"), ("红旗超市", "Hongqi Supermarket")]
LABS = [
    ("吉林省产品质量监督检验院", "Jilin Institute of Product Quality Supervision and Inspection", CITIES[0]),
    ("吉林省农产品质量安全监测中心", "Jilin Agricultural Product Quality and Safety Monitoring Center", CITIES[0]),
    ("长春海关技术中心", "Changchun Customs Technology Center", CITIES[0]),
    ("通化市检验检测中心", "Tonghua Inspection and Testing Center", CITIES[4]),
    ("白山市食品检验所", "Baishan Food Inspection Institute", CITIES[5]),
    ("延边州动物疫病预防控制中心", "Yanbian Animal Disease Prevention and Control Center", CITIES[8]),
]
BEEF_CUTS = [("西冷", "sirloin", 0.10), ("眼肉", "ribeye", 0.07), ("上脑", "chuck roll", 0.09),
             ("牛腩", "brisket", 0.14), ("牛腱", "shank", 0.08), ("牛里脊", "tenderloin", 0.03)]
CHILLED = {"min_c": 0.0, "max_c": 4.0, "note": "冷藏 0-4 °C"}  # chilled meat (GB/T 17238): the cuts' storage range
CERTIFIERS = [("green_food", "中国绿色食品发展中心", "China Green Food Development Center"),
              ("gi", "农业农村部农产品质量安全中心", "MARA Center for Agri-Food Quality and Safety"),
              ("organic", "吉林省有机产品认证中心", "Jilin Organic Product Certification Center")]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class Scale:
    """How big a network is: production units per chain and parties per role."""

    name: str
    rice_runs: int
    ginseng_runs: int
    beef_days: int
    rice_farms: int
    ginseng_growers: int
    cattle_farms: int
    mills: int
    processors: int
    slaughterhouses: int
    distributors: int
    sub_distributors: int
    retailers: int


# Lots per unit: rice ~8, ginseng ~5 (+ ~30 serialized items), beef day ~25; events per lot ~3-4.
SCALES = {
    "XS": Scale("XS", 60, 40, 12, 40, 20, 15, 3, 2, 1, 3, 6, 60),
    "S": Scale("S", 600, 400, 120, 300, 100, 80, 10, 5, 3, 6, 20, 500),
    "M": Scale("M", 6000, 4000, 1200, 2000, 600, 500, 40, 20, 8, 20, 100, 3000),
    "L": Scale("L", 60000, 40000, 12000, 9000, 3000, 2000, 150, 60, 20, 60, 300, 9000),
}


def uscc(rng: random.Random, region: str) -> str:
    """Return a well-formed 18-character unified social credit code (GB 32100 check character)."""
    body = "91" + region + "".join(rng.choice(USCC_CHARS[:10] + "ABCDEFGH") for _ in range(9))
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


@dataclass
class Party:
    """A party as the graph stores it, plus the company prefix its keys use."""

    gln: str
    name_zh: str
    name_en: str
    roles: list[str]
    region: tuple[str, str, str]
    prefix: str
    uscc: str = ""
    phone: str = ""
    products: dict[str, str] = field(default_factory=dict)  # role of product -> GTIN

    def record(self) -> dict:
        """The party's master-data record (graph/parties fields)."""
        zh, en, code = self.region
        return {"gln": self.gln, "name_zh": self.name_zh, "name_en": self.name_en, "roles": self.roles,
                "region_code": code, "region_zh": zh, "region_en": en, "address_zh": f"吉林省{zh}",
                "uscc": self.uscc, "contact_name": None, "contact_phone": self.phone, "contact_email": None}


class World:
    """Every party and product of one network, allocated deterministically from the seed."""

    def __init__(self, scale: Scale, seed: int, namespace: int = 0):
        """Allocate parties and products for ``scale``."""
        self.scale = scale
        self.keys = Keys(namespace)
        self.rng = random.Random(f"{seed}:world")
        self._firm = 0
        self.parties: list[Party] = []
        self.products: list[dict] = []
        self.certificates: list[dict] = []
        s = scale
        self.rice_farms = self._members("rice_coop", "稻谷", "paddy", s.rice_farms, [SHULAN, MEIHEKOU],
                                        "{r}{n}号稻米种植家庭农场", "{r} rice family farm {n}", ["farm"])
        self.ginseng_growers = self._members("ginseng_coop", "鲜人参", "fresh ginseng", s.ginseng_growers,
                                             [FUSONG, JIAN], "{r}{n}号人参种植户", "{r} ginseng grower {n}", ["farm"])
        self.cattle_farms = self._members("cattle_coop", "活牛", "live cattle", s.cattle_farms, YANBIAN_COUNTIES,
                                          "{r}{n}号黄牛养殖场", "{r} yellow cattle farm {n}", ["farm"])
        self.mills = [self._firm_party(f"{r[0]}{i + 1}号米业有限公司", f"{r[1]} Rice Mill {i + 1} Co., Ltd.",
                                       ["processor", "packer"], r)
                      for i, r in self._regions(s.mills, [SHULAN, MEIHEKOU])]
        for m in self.mills:
            self._product(m, "milled", "大米(散装)", "Milled rice, bulk", "rice", "KGM", "GB/T 1354")
            self._product(m, "bag5", "吉林大米 5kg", "Jilin rice, 5 kg bag", "rice", None, "GB/T 1354")
            self._product(m, "bag10", "吉林大米 10kg", "Jilin rice, 10 kg bag", "rice", None, "GB/T 1354")
        self.processors = [self._firm_party(f"{r[0]}{i + 1}号参业有限公司", f"{r[1]} Ginseng Co. {i + 1}",
                                            ["processor", "packer"], r) for i, r in self._regions(s.processors,
                                                                                                   [FUSONG, JIAN])]
        for p in self.processors:
            gi = "长白山人参" if p.region == FUSONG else "集安人参"
            self._product(p, "dried", f"{gi} 生晒参(散装)", "Dried ginseng root, bulk", "ginseng", "KGM", "GB/T 29343")
            self._product(p, "giftbox", f"{gi} 生晒参礼盒 五年根", "Dried ginseng gift box, 5-year root", "ginseng",
                          None, "GB/T 29343")
            self._product(p, "bulkbag", f"{gi} 生晒参 250g", "Dried ginseng, 250 g bag", "ginseng", None, "GB/T 29343")
        self.slaughterhouses = [self._firm_party(f"{r[0]}{i + 1}号肉牛屠宰加工厂",
                                                 f"{r[1]} Beef Processing Plant {i + 1}",
                                                 ["processor", "slaughterhouse"], r)
                                for i, r in self._regions(s.slaughterhouses, YANBIAN_COUNTIES)]
        for h in self.slaughterhouses:
            self._product(h, "carcass", "延边黄牛 胴体", "Yanbian yellow cattle carcass", "beef", "KGM", "GB/T 17238")
            for zh, en, _ in BEEF_CUTS:
                self._product(h, f"cut:{en}", f"延边黄牛 {zh}", f"Yanbian beef {en}", "beef", "KGM", "GB/T 17238",
                              CHILLED)
        self.distributors = [self._firm_party(f"{c[0]}{i + 1}号农产品配送有限公司", f"{c[1]} Agri Distribution {i + 1}",
                                              ["distributor"], c) for i, c in self._regions(s.distributors,
                                                                                              CITIES[:2] + CITIES[4:5])]
        self.cold_chain = [self._firm_party(f"{c[0]}{i + 1}号冷链物流有限公司", f"{c[1]} Cold Chain Logistics {i + 1}",
                                            ["distributor", "cold_chain"], c)
                           for i, c in self._regions(max(1, s.distributors // 3), [CITIES[0], CITIES[8]])]
        self.sub_distributors = [self._firm_party(f"{c[0]}{i + 1}号商贸有限公司", f"{c[1]} Trading {i + 1}",
                                                  ["distributor"], c)
                                 for i, c in self._regions(s.sub_distributors, CITIES)]
        self.retailers = self._retailers(s.retailers)
        self.labs = [self._firm_party(zh, en, ["lab"], region) for zh, en, region in LABS]
        self.certifiers = {key: self._firm_party(zh, en, ["certifier"], CITIES[0]) for key, zh, en in CERTIFIERS}
        self._certificates()

    # --- allocation ---------------------------------------------------------------------------------------------

    def _next_prefix(self) -> str:
        self._firm += 1
        return self.keys.company_prefix(self._firm)

    def _regions(self, n: int, regions: list) -> list[tuple[int, tuple]]:
        return [(i, regions[i % len(regions)]) for i in range(n)]

    def _phone(self) -> str:
        return "1" + self.rng.choice("3589") + "".join(self.rng.choice("0123456789") for _ in range(9))

    def _firm_party(self, zh: str, en: str, roles: list[str], region: tuple, prefix: str | None = None,
                    ref: int = 0) -> Party:
        prefix = prefix or self._next_prefix()
        party = Party(self.keys.gln(prefix, ref), zh, en, roles, region, prefix, uscc(self.rng, region[2]),
                      self._phone())
        self.parties.append(party)
        return party

    def _product(self, owner: Party, role: str, zh: str, en: str, category: str, unit: str | None,
                 standard: str, storage: dict | None = None) -> str:
        gtin = self.keys.gtin(owner.prefix, len(owner.products) + 1)
        owner.products[role] = gtin
        product = {"gtin": gtin, "name_zh": zh, "name_en": en, "category": category, "standard": standard,
                   "unit": unit or "EA", "owner_gln": owner.gln}
        if storage:
            product["storage"] = storage
        self.products.append(product)
        return gtin

    def _members(self, kind: str, product_zh: str, product_en: str, n: int, regions: list, zh: str, en: str,
                 roles: list[str]) -> list[Party]:
        """Small farms: GLNs under their cooperative's company prefix (up to 999 members per cooperative)."""
        out: list[Party] = []
        coops: dict[str, Party] = {}
        members: dict[str, int] = {}
        for i in range(n):
            region = regions[i % len(regions)]
            slot = f"{region[2]}:{i // (999 * len(regions))}"
            coop = coops.get(slot)
            if coop is None:
                coop = self._firm_party(f"{region[0]}{product_zh}专业合作社{len(coops) + 1}",
                                        f"{region[1]} {product_en} cooperative {len(coops) + 1}", ["cooperative"],
                                        region)
                self._product(coop, "raw", f"{region[0]}{product_zh}", f"{region[1]} {product_en}",
                              kind.split("_")[0], "KGM" if kind != "cattle_coop" else None, "")
                coops[slot] = coop
            ref = members[coop.prefix] = members.get(coop.prefix, 0) + 1
            farm = self._firm_party(zh.format(r=region[0], n=i + 1), en.format(r=region[1], n=i + 1), roles, region,
                                    coop.prefix, ref)
            farm.products["raw"] = coop.products["raw"]
            out.append(farm)
        return out

    def _retailers(self, n: int) -> list[Party]:
        out: list[Party] = []
        per_chain = -(-n // len(CHAINS))
        prefixes: dict[tuple[int, int], str] = {}
        for i in range(n):
            chain = i % len(CHAINS)
            number = i // len(CHAINS)
            block = (chain, number // 999)
            if block not in prefixes:
                prefixes[block] = self._next_prefix()
            city = self.rng.choices(CITIES, CITY_WEIGHTS)[0]
            zh, en = CHAINS[chain]
            out.append(self._firm_party(f"{zh}{city[0]}{number + 1}号店", f"{en} {city[1]} store {number + 1}",
                                        ["retailer"], city, prefixes[block], number % 999 + 1))
        assert len(out) <= per_chain * len(CHAINS)
        return out

    def _certificates(self) -> None:
        """Green-food labels on mills' bagged rice, GI on ginseng gift boxes, organic on some farms."""
        for i, mill in enumerate(self.mills):
            if i % 2 == 0:
                self._certificate("green_food", f"LB-18-25{i + 1:06d}", "吉林大米 绿色食品", gtin=mill.products["bag5"])
        for proc in self.processors:
            gi, name = ("AGI00472", "长白山人参") if proc.region[2] == "220621" else ("AGI01322", "集安人参")
            self._certificate("gi", f"{gi}-{proc.gln[-5:]}", f"{name} 农产品地理标志", gtin=proc.products["giftbox"])
        for i, farm in enumerate(self.rice_farms + self.ginseng_growers):
            if i % 17 == 0:
                self._certificate("organic", f"227OP25{i:07d}", "有机产品认证", party_gln=farm.gln)

    def _certificate(self, kind: str, number: str, name_zh: str, party_gln: str | None = None,
                     gtin: str | None = None) -> None:
        self.certificates.append({"type": kind, "number": number, "issuer_gln": self.certifiers[kind].gln,
                                  "name_zh": name_zh, "party_gln": party_gln, "gtin": gtin, "lot": None,
                                  "valid_from": "2025-01-01", "valid_until": "2027-12-31"})

    def master(self) -> dict:
        """The master data: parties, products, certificates."""
        return {"parties": [p.record() for p in self.parties], "products": list(self.products),
                "certificates": list(self.certificates)}
