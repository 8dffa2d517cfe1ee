"""FSMA 204 records (21 CFR 1.1325-1.1350) and the sortable spreadsheet of §1.1455(c)(3)(ii).

RULE below is the rule's text as read from the regulation (section, paragraph, element), typed here by hand: the
code's table (app/fsma.REQUIREMENTS) must say the same, element by element, in the same order.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from app import fsma
from tests.capture.helpers import commission, document, event_id, loc, lot_uri, ship
from tests.factories import auth, lot_code

# (CTE, section, [(paragraph, element as the rule names it)]) in the rule's order. Aquacultured-food containers
# (1.1325(a)(1)(vi), 1.1330(a)(6)) do not apply to ginseng, rice or beef.
RULE = [
    ("harvesting", "1.1325(a)", [
        ("(1)(i)", "Location description of the immediate subsequent recipient"),
        ("(1)(ii)", "Commodity and variety"), ("(1)(iii)", "Quantity"), ("(1)(iii)", "Unit of measure"),
        ("(1)(iv)", "Location description of the farm where harvested"), ("(1)(v)", "Field or other growing area"),
        ("(1)(vii)", "Date of harvesting"), ("(1)(viii)", "Reference document type"),
        ("(1)(viii)", "Reference document number"), ("(2)", "Harvester business name and phone number")]),
    ("cooling", "1.1325(b)", [
        ("(1)(i)", "Location description of the immediate subsequent recipient"),
        ("(1)(ii)", "Commodity and variety"), ("(1)(iii)", "Quantity"), ("(1)(iii)", "Unit of measure"),
        ("(1)(iv)", "Location description where cooled"), ("(1)(v)", "Date of cooling"),
        ("(1)(vi)", "Reference document type"), ("(1)(vi)", "Reference document number")]),
    ("initial_packing", "1.1330(a)", [
        ("(1)", "Commodity and variety received"), ("(2)", "Date received"), ("(3)", "Quantity received"),
        ("(3)", "Unit of measure received"), ("(4)", "Location description of the farm where harvested"),
        ("(5)", "Field or other growing area"), ("(7)", "Harvester business name and phone number"),
        ("(8)", "Date of harvesting"), ("(9)", "Location description where cooled"), ("(10)", "Date of cooling"),
        ("(11)", "Traceability lot code"), ("(12)", "Product description"), ("(13)", "Quantity"),
        ("(13)", "Unit of measure"),
        ("(14)", "Location description where initially packed (traceability lot code source)"),
        ("(15)", "Date of initial packing"), ("(16)", "Reference document type"),
        ("(16)", "Reference document number")]),
    ("first_land_based_receiving", "1.1335(a)", [
        ("(1)", "Traceability lot code"), ("(2)", "Product description"), ("(3)", "Quantity"),
        ("(3)", "Unit of measure"), ("(4)", "Harvest date range and locations of the trip"),
        ("(5)", "Location description of the first land-based receiver (traceability lot code source)"),
        ("(6)", "Date landed"), ("(7)", "Reference document type"), ("(7)", "Reference document number")]),
    ("shipping", "1.1340(a)", [
        ("(1)", "Traceability lot code"), ("(2)", "Quantity"), ("(2)", "Unit of measure"),
        ("(3)", "Product description"), ("(4)", "Location description of the immediate subsequent recipient"),
        ("(5)", "Location description of the place shipped from"), ("(6)", "Date shipped"),
        ("(7)", "Location description of the traceability lot code source"), ("(8)", "Reference document type"),
        ("(8)", "Reference document number")]),
    ("receiving", "1.1345(a)", [
        ("(1)", "Traceability lot code"), ("(2)", "Quantity"), ("(2)", "Unit of measure"),
        ("(3)", "Product description"), ("(4)", "Location description of the immediate previous source"),
        ("(5)", "Location description where received"), ("(6)", "Date received"),
        ("(7)", "Location description of the traceability lot code source"), ("(8)", "Reference document type"),
        ("(8)", "Reference document number")]),
    ("transformation", "1.1350(a)", [
        ("(1)(i)", "Traceability lot code used"), ("(1)(ii)", "Product description of the food used"),
        ("(1)(iii)", "Quantity used"), ("(1)(iii)", "Unit of measure used"), ("(2)(i)", "New traceability lot code"),
        ("(2)(ii)", "Location description where transformed (traceability lot code source)"),
        ("(2)(iii)", "Date transformation was completed"), ("(2)(iv)", "Product description"),
        ("(2)(v)", "Quantity"), ("(2)(v)", "Unit of measure"), ("(2)(vi)", "Reference document type"),
        ("(2)(vi)", "Reference document number")]),
]


def test_the_code_table_is_the_rule_element_by_element():
    code = [(c.key, c.section, [(para, fsma.KDES[k][0]) for k, para in c.kdes]) for c in fsma.REQUIREMENTS]
    assert code == RULE


def test_every_element_has_a_chinese_header():
    for cte in fsma.REQUIREMENTS:
        zh = fsma.headers(cte, "zh")
        assert all(h and h != en for h, en in zip(zh, fsma.headers(cte, "en"), strict=True))


PLACES = {g: {"gln": g, "name": n, "address": "吉林省舒兰市", "phone": "13900000000"}
          for g, n in (("6990000000015", "Farm"), ("6990000000022", "Mill"))}


def _row(**fields) -> dict:
    base = {"event_id": "urn:uuid:1", "event_type": "ObjectEvent", "event_time": "2026-10-04T23:00:00Z",
            "event_time_zone_offset": "+08:00", "key": "lot:06990000000010:L1", "lot": "L1", "gtin": "06990000000010",
            "product_zh": "稻谷", "product_en": "Paddy", "quantity": 100, "uom": "KGM",
            "location_gln": "6990000000015", "tlc_source_gln": "6990000000015", "documents": [],
            "role": "OBJECT"}
    return {**base, **fields}


def test_a_harvest_is_dated_on_its_own_clock_and_names_the_next_recipient():
    harvest = _row(biz_step="harvesting")
    shipped = _row(event_id="urn:uuid:2", biz_step="shipping", event_time="2026-10-05T02:00:00Z",
                   ship_to={"gln": "6990000000022"}, documents=[{"type": "desadv", "id": "DN-1"}])
    recs = fsma.records([shipped, harvest], PLACES, {"urn:uuid:1": "East field"})
    assert [r["cte"] for r in recs] == ["harvesting", "shipping"]
    values = recs[0]["values"]
    assert values["harvest_date"] == "2026-10-05T07:00:00+08:00"  # 23:00 UTC on the 4th is the 5th in Jilin
    assert values["recipient"].startswith("Mill; 吉林省舒兰市; 13900000000")
    assert values["field"] == "East field" and values["harvester"] == "Farm; 13900000000"
    # the harvest has no reference document: exactly those two elements are missing, with their paragraph
    gaps = fsma.gaps(recs)
    assert [(g["cte"], [m["paragraph"] for m in g["missing"]]) for g in gaps] == [
        ("harvesting", ["§1.1325(a)(1)(viii)", "§1.1325(a)(1)(viii)"])]


def test_a_location_description_without_a_phone_is_a_gap():
    places = {**PLACES, "6990000000022": {**PLACES["6990000000022"], "phone": None}}
    shipped = _row(biz_step="shipping", ship_to={"gln": "6990000000022"}, documents=[{"type": "desadv", "id": "D"}])
    (gap,) = fsma.gaps(fsma.records([shipped], places))
    assert [m["kde"] for m in gap["missing"]] == ["recipient"]
    assert fsma.gaps(fsma.records([shipped], PLACES)) == []


def test_a_transformation_gives_a_row_per_input_and_output():
    common = {"event_type": "TransformationEvent", "biz_step": "commissioning", "event_id": "urn:uuid:9",
              "documents": [{"type": "prodorder", "id": "PO-9"}]}
    rows = [_row(**common, role="INPUT", lot="A", quantity=10), _row(**common, role="INPUT", lot="B", quantity=5),
            _row(**common, role="OUTPUT", lot="M", quantity=14, product_en="Milled rice", product_zh="大米")]
    recs = fsma.records(rows, PLACES)
    assert [(r["values"]["input_tlc"], r["values"]["new_tlc"], r["values"]["input_quantity"]) for r in recs] == [
        ("A", "M", 10), ("B", "M", 5)]
    assert fsma.gaps(recs) == []


def test_each_cte_is_mapped_from_its_step():
    def kind(step, event_type="ObjectEvent"):
        return fsma.cte_of({"biz_step": step, "event_type": event_type})

    assert kind("harvesting") == kind("slaughtering") == "harvesting"
    assert kind("cooling") == "cooling" and kind("packing") == "initial_packing"
    assert kind("landing") == "first_land_based_receiving"
    assert kind("shipping") == "shipping" and kind("receiving") == "receiving"
    assert kind("packing", "TransformationEvent") == "transformation"
    assert kind("commissioning") is None and kind("retail_selling") is None


def test_the_workbook_has_a_sheet_per_cte_with_exactly_its_columns():
    recs = fsma.records([_row(biz_step="harvesting")], PLACES)
    for lang in ("en", "zh"):
        book = load_workbook(io.BytesIO(fsma.workbook(recs, lang)))
        assert len(book.sheetnames) == 1 + len(RULE)
        for cte, (_key, _, elements) in zip(fsma.REQUIREMENTS, RULE, strict=True):
            sheet = book[(cte.zh if lang == "zh" else cte.en)[:31]]
            header = [c.value for c in sheet[1]]
            assert len(header) == len(elements)
            if lang == "en":
                assert header == [name for _, name in elements]
        combined = book.worksheets[0]
        assert combined.max_row == 2


@pytest.fixture
def rice(client, factory):
    """A farm's harvest (with its field in the ILMD and a harvest log), its shipment to a mill with a despatch
    advice, the mill's receipt with a receiving advice, and the milling into a new lot with a production order."""
    farm = factory.party(address_zh="吉林省舒兰市平安镇")
    mill = factory.party(roles=("processor",), address_zh="吉林省舒兰市经济开发区")
    paddy, milled = factory.product(farm["gln"]), factory.product(mill["gln"])
    lot, new_lot = lot_code(), lot_code()

    def bt(kind, number):
        return [{"type": kind, "bizTransaction": f"urn:epcglobal:cbv:bt:{farm['gln']}:{number}"}]

    harvest = commission(farm["gln"], paddy["gtin"], lot, 1000, when="2026-10-05T07:00:00+08:00",
                         bizStep="harvesting", ilmd={"tg:plot": "东3号地"}, bizTransactionList=bt("prodorder", "HV1"))
    shipment = ship(farm["gln"], mill["gln"], paddy["gtin"], lot, 1000, when="2026-10-06T07:00:00+08:00",
                    bizTransactionList=bt("desadv", "DN1"))
    receipt = {**ship(farm["gln"], mill["gln"], paddy["gtin"], lot, 1000, when="2026-10-06T17:00:00+08:00",
                      bizTransactionList=bt("recadv", "RA1")),
               "bizStep": "receiving", "disposition": "in_progress", "readPoint": loc(mill["gln"]),
               "bizLocation": loc(mill["gln"])}
    milling = {"type": "TransformationEvent", "eventID": event_id(), "eventTime": "2026-10-07T08:00:00+08:00",
               "eventTimeZoneOffset": "+08:00", "bizStep": "commissioning",
               "inputQuantityList": [{"epcClass": lot_uri(paddy["gtin"], lot), "quantity": 1000, "uom": "KGM"}],
               "outputQuantityList": [{"epcClass": lot_uri(milled["gtin"], new_lot), "quantity": 700,
                                       "uom": "KGM"}],
               "readPoint": loc(mill["gln"]), "bizLocation": loc(mill["gln"]),
               "bizTransactionList": bt("prodorder", "MO1")}
    doc = document(harvest, shipment, receipt, milling)
    doc["@context"] = [*doc["@context"], {"tg": "https://tracegraph.example.cn/ns#"}]
    response = client.post("/epcis/capture", json=doc, headers=auth(factory.admin_token))
    assert response.status_code == 202 and response.json["success"], response.json
    return {"farm": farm, "mill": mill, "paddy": paddy, "milled": milled, "lot": lot, "new_lot": new_lot}


def test_a_complete_rice_chain_has_no_gaps_and_every_sheet(client, factory, rice):
    url = f"/api/v1/lots/{rice['milled']['gtin']}/{quote(rice['new_lot'])}/trace"
    gaps = client.get(f"{url}/kde-gaps", headers=auth(factory.admin_token))
    assert gaps.status_code == 200, gaps.json
    assert gaps.json == []
    sheet = client.get(f"{url}/fsma?lang=en", headers=auth(factory.admin_token))
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.get_data()))
    harvest = [[c.value for c in row] for row in book["Harvesting"].iter_rows(min_row=2)]
    assert len(harvest) == 1
    assert harvest[0][5] == "东3号地" and harvest[0][6] == "2026-10-05T07:00:00+08:00"
    assert [r[0].value for r in book["Shipping"].iter_rows(min_row=2)] == [rice["lot"]]
    assert [r[4].value for r in book["Transformation"].iter_rows(min_row=2)] == [rice["new_lot"]]
    zh = load_workbook(io.BytesIO(client.get(f"{url}/fsma?lang=zh", headers=auth(factory.admin_token)).get_data()))
    assert "收获" in zh.sheetnames and zh["收获"]["G1"].value == "收获日期"


def test_a_receipt_without_a_document_is_listed_with_its_section(client, factory):
    farm = factory.party(address_zh="吉林省舒兰市平安镇")
    mill = factory.party(roles=("processor",), address_zh="吉林省舒兰市经济开发区")
    paddy = factory.product(farm["gln"])
    lot = lot_code()
    doc = [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{farm['gln']}:DN2"}]
    harvest = commission(farm["gln"], paddy["gtin"], lot, 10, bizStep="harvesting", ilmd={"tg:plot": "A"},
                         bizTransactionList=doc)
    shipment = ship(farm["gln"], mill["gln"], paddy["gtin"], lot, 10, bizTransactionList=doc)
    receipt = {**ship(farm["gln"], mill["gln"], paddy["gtin"], lot, 10, when="2026-09-22T08:00:00+08:00"),
               "bizStep": "receiving", "readPoint": loc(mill["gln"]), "bizLocation": loc(mill["gln"])}
    body = document(harvest, shipment, receipt)
    body["@context"] = [*body["@context"], {"tg": "https://tracegraph.example.cn/ns#"}]
    assert client.post("/epcis/capture", json=body, headers=auth(factory.admin_token)).json["success"]
    url = f"/api/v1/lots/{paddy['gtin']}/{quote(lot)}/trace/kde-gaps?lang=zh"
    gaps = client.get(url, headers=auth(factory.admin_token)).json
    assert [(g["cte"], g["eventID"], [m["paragraph"] for m in g["missing"]]) for g in gaps] == [
        ("receiving", receipt["eventID"], ["§1.1345(a)(8)", "§1.1345(a)(8)"])]
    assert gaps[0]["missing"][0]["name"] == "参考文件类型" and gaps[0]["eventTime"] == "2026-09-22T08:00:00+08:00"


def test_a_producer_outside_the_chain_reads_no_records(client, factory, rice):
    stranger = factory.party()
    url = f"/api/v1/lots/{rice['milled']['gtin']}/{quote(rice['new_lot'])}/trace/kde-gaps"
    response = client.get(url, headers=auth(stranger["token"]))
    assert response.status_code in (200, 403, 404)
    assert response.status_code != 200 or response.json == []


def test_a_date_range_of_one_food_as_the_fda_requests_it(client, factory, rice):
    window = {"from": "2026-10-05T00:00:00+08:00", "to": "2026-10-06T23:59:59+08:00", "gtin": rice["paddy"]["gtin"]}
    farm = auth(rice["farm"]["token"])
    gaps = client.get("/api/v1/fsma/kde-gaps", query_string=window, headers=farm)
    assert gaps.status_code == 200, gaps.json
    assert gaps.json == []
    sheet = client.get("/api/v1/fsma/export", query_string={**window, "lang": "zh"}, headers=farm)
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.get_data()))
    # the harvest (5 Oct), the shipment and the receipt (6 Oct); the milling on 7 Oct is outside the range
    assert [book[name].max_row - 1 for name in ("收获", "发货", "收货", "加工转化")] == [1, 1, 1, 0]
    backwards = client.get("/api/v1/fsma/kde-gaps", query_string={**window, "to": "2026-10-01T00:00:00Z"},
                           headers=farm)
    assert backwards.status_code == 422
