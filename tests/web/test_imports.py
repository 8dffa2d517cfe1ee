"""Spreadsheet import on the real app and Neo4j: templates downloaded from the page, filled with openpyxl as a
person fills them in Excel, uploaded; the chain they record is read back from the store. A problem is reported at
its cell and column and writes nothing (tests/fingerprint.py); importing the same file again changes nothing."""

from __future__ import annotations

import io
import re
import time

import pytest
from openpyxl import load_workbook

from app import imports as rules
from tests.factories import auth, bad_check_digit, lot_code
from tests.fingerprint import unchanged
from tests.web import test_browser as browser
from tests.web.helpers import PASSWORD, audit_entries, csrf, login, make_user


@pytest.fixture
def chain(graph, factory):
    """A rice farm, a mill and a shop, each with a logged-in user's client; the farm and mill own a product each."""
    farm = factory.party(roles=("farm",), name_zh="舒兰稻农", name_en="Shulan grower")
    mill = factory.party(roles=("processor",), name_zh="舒兰米业", name_en="Shulan mill")
    shop = factory.party(roles=("retailer",), name_zh="长春超市", name_en="Changchun shop")
    paddy = factory.product(farm["gln"], name_zh="舒兰稻谷", name_en="Shulan paddy", unit="KGM")
    rice = factory.product(mill["gln"], name_zh="舒兰大米", name_en="Shulan rice", unit="KGM")
    return {"farm": farm, "mill": mill, "shop": shop, "paddy": paddy, "rice": rice}


def _client(app, graph, gln, role="producer"):
    client = app.test_client()
    assert login(client, make_user(graph, role=role, party_gln=gln)["username"]).status_code == 303
    return client


def _filled(client, kind: str, rows: list[list]) -> bytes:
    """Download the kind's template from the page and fill its data rows as a person would."""
    got = client.get(f"/work/import/{kind}.xlsx")
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(got.data))
    sheet = book.worksheets[0]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, kind: str, data: bytes, action: str = "commit"):
    return client.post("/work/import", data={"kind": kind, "action": action, "csrf_token": csrf(client, "/work/import"),
                                             "file": (io.BytesIO(data), f"{kind}.xlsx")},
                       content_type="multipart/form-data")


def _events(client, admin_token, gtin: str, lot: str) -> list[tuple]:
    found = client.get(f"/epcis/events?MATCH_epcClass=https://id.gs1.org/01/{gtin}/10/{lot}&perPage=100",
                       headers=auth(admin_token))
    assert found.status_code == 200, found.get_data(as_text=True)
    out = []
    for e in found.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]:
        quantities = [*e.get("quantityList", []), *e.get("inputQuantityList", []), *e.get("outputQuantityList", [])]
        mine = [q["quantity"] for q in quantities if q["epcClass"].endswith(f"/01/{gtin}/10/{lot}")]
        step = e["bizStep"].rsplit(":", 1)[-1].rsplit("/", 1)[-1].removeprefix("BizStep-")  # a word or a URI
        out.append((e["eventTime"][:16], step, mine[0]))
    return sorted(out)


def _held(graph, gln: str, gtin: str, lot: str) -> tuple | None:
    rows = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {key: $k}) RETURN h.quantity AS q, "
                       "coalesce(h.pending, 0) AS p", read=True, g=gln, k=f"lot:{gtin}:{lot}")
    return (rows[0]["q"], rows[0]["p"]) if rows else None


def test_a_chain_entered_from_filled_templates_gives_the_expected_events(app, graph, chain, admin_token):
    farm, mill, shop, paddy, rice = (chain[k] for k in ("farm", "mill", "shop", "paddy", "rice"))
    grower, miller, seller = (_client(app, graph, chain[k]["gln"]) for k in ("farm", "mill", "shop"))
    harvest, milled = lot_code(), lot_code()

    files = [
        (grower, "harvest", [[f"{paddy['gtin']} 舒兰稻谷", harvest, 500, "KGM 公斤 kg", "2026-10-01", "2027-10-01",
                              "东岗3号地", 12.5]]),
        (grower, "shipment", [[paddy["gtin"], harvest, 200, f"{mill['gln']} 舒兰米业", "2026-10-02", "08:00",
                               "DN-1"]]),
        (miller, "receipt", [[paddy["gtin"], harvest, 200, f"{farm['gln']} 舒兰稻农", "2026-10-02", "15:00", ""]]),
        (miller, "transformation", [["P-1", "input 投入", paddy["gtin"], harvest, 200, "", "2026-10-03", "09:00"],
                                    ["P-1", "output 产出", rice["gtin"], milled, 140, "KGM", "2026-10-03", "09:00"]]),
        (miller, "shipment", [[rice["gtin"], milled, 100, shop["gln"], "2026-10-04", "10:00", "DN-2"]]),
        (seller, "receipt", [[rice["gtin"], milled, 100, mill["gln"], "2026-10-05", "", ""]]),
    ]
    uploaded = []
    for client, kind, rows in files:
        data = _filled(client, kind, rows)
        checked = _upload(client, kind, data, action="check")
        assert checked.status_code == 200 and 'id="checked"' in checked.get_data(as_text=True), \
            checked.get_data(as_text=True)
        done = _upload(client, kind, data)
        text = done.get_data(as_text=True)
        assert done.status_code == 200 and 'id="stopped"' not in text, text
        assert f"已处理 {len(rows)} / {len(rows)} 行" in text and "新写入 1 条记录" in text
        uploaded.append((client, kind, data))

    assert _events(grower, admin_token, paddy["gtin"], harvest) == [
        ("2026-10-01T00:00", "harvesting", 500.0), ("2026-10-02T08:00", "shipping", 200.0),
        ("2026-10-02T15:00", "receiving", 200.0), ("2026-10-03T09:00", "commissioning", 200.0)]
    assert _events(grower, admin_token, rice["gtin"], milled) == [
        ("2026-10-03T09:00", "commissioning", 140.0), ("2026-10-04T10:00", "shipping", 100.0),
        ("2026-10-05T00:00", "receiving", 100.0)]
    assert _held(graph, farm["gln"], paddy["gtin"], harvest) == (300.0, 0)
    assert _held(graph, mill["gln"], paddy["gtin"], harvest) == (0.0, 0)
    assert _held(graph, mill["gln"], rice["gtin"], milled) == (40.0, 0)
    assert _held(graph, shop["gln"], rice["gtin"], milled) == (100.0, 0)
    trace = grower.get(f"/api/v1/lots/{rice['gtin']}/{milled}/trace", headers=auth(admin_token))
    assert trace.status_code == 200 and harvest in trace.get_data(as_text=True)  # the rice comes from the harvest

    # Every file again: each row is a duplicate, the graph as it was.
    lots = [{"gtin": paddy["gtin"], "lot": harvest}, {"gtin": rice["gtin"], "lot": milled}]
    with unchanged(graph, lots=lots, parties=[farm["gln"], mill["gln"], shop["gln"]]):
        for client, kind, data in uploaded:
            again = _upload(client, kind, data)
            text = again.get_data(as_text=True)
            assert again.status_code == 200, text
            assert "新写入 0 条记录" in text and "已存在（重复上传）1 条" in text


def test_a_bad_gtin_check_digit_is_reported_at_its_cell_and_nothing_is_written(app, graph, chain):
    farm, paddy = chain["farm"], chain["paddy"]
    grower = _client(app, graph, farm["gln"])
    good, bad = lot_code(), lot_code()
    wrong = bad_check_digit(paddy["gtin"])
    data = _filled(grower, "harvest", [[paddy["gtin"], good, 100, "KGM", "2026-10-01"],
                                       [paddy["gtin"], good + "X", "many", "KGM", "2026-10-01"],
                                       [wrong, bad, 100, "KGM", "2026-10-01"]])
    lots = [{"gtin": paddy["gtin"], "lot": good}, {"gtin": paddy["gtin"], "lot": good + "X"},
            {"gtin": wrong, "lot": bad}]
    with unchanged(graph, lots=lots, parties=[farm["gln"]], products=[paddy["gtin"]]):
        answer = _upload(grower, "harvest", data)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "未写入任何数据" in text
    rows = re.findall(r'<tr><td class="mono">([A-Z]+\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', text)
    assert ("A4", "产品 GTIN", f"GTIN {wrong} 的校验位错误，应为 {paddy['gtin'][-1]}") in rows
    assert ("C3", "数量", "应为大于 0 的数字") in rows and len(rows) == 2
    assert 'id="result"' not in text

    english = grower.post("/work/import?lang=en", data={"kind": "harvest", "action": "check",
                                                        "csrf_token": csrf(grower, "/work/import"),
                                                        "file": (io.BytesIO(data), "h.xlsx")})
    assert f"GTIN {wrong} has a wrong check digit; it should be {paddy['gtin'][-1]}" in english.get_data(as_text=True)
    assert "Product GTIN" in english.get_data(as_text=True)


def test_a_dry_run_writes_nothing_and_says_what_an_import_would_do(app, graph, chain):
    farm, paddy = chain["farm"], chain["paddy"]
    grower = _client(app, graph, farm["gln"])
    lot = lot_code()
    data = _filled(grower, "harvest", [[paddy["gtin"], lot, 100, "KGM", "2026-10-01"]])
    with unchanged(graph, lots=[{"gtin": paddy["gtin"], "lot": lot}], parties=[farm["gln"]]):
        checked = _upload(grower, "harvest", data, action="check")
    assert checked.status_code == 200
    assert "检查通过：1 行，可以导入（新记录 1 条，已导入过 0 条）" in checked.get_data(as_text=True)


def test_shipping_more_than_held_or_an_unknown_party_is_refused_by_cell(app, graph, chain, factory):
    farm, mill, paddy = chain["farm"], chain["mill"], chain["paddy"]
    held = factory.lot(paddy["gtin"], farm["gln"], quantity=50.0)
    grower = _client(app, graph, farm["gln"])
    stranger = "6999999999994"
    data = _filled(grower, "shipment", [[paddy["gtin"], held["lot"], 30, mill["gln"], "2026-10-02"],
                                        [paddy["gtin"], held["lot"], 30, mill["gln"], "2026-10-02"],
                                        [paddy["gtin"], held["lot"], 1, stranger, "2026-10-02"]])
    with unchanged(graph, lots=[held], parties=[farm["gln"], mill["gln"]]):
        answer = _upload(grower, "shipment", data)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "C3" in text and "超过可用数量 20" in text and "D4" in text and "收货方" in text


def test_a_template_has_both_languages_and_drop_downs_from_my_master_data(app, graph, chain, factory):
    farm, paddy = chain["farm"], chain["paddy"]
    # The receivers' list is the first few hundred by name: this one's name sorts first among the tests' parties.
    mill = factory.party(roles=("processor",), name_zh="一一米业", name_en="Yiyi mill")
    held = factory.lot(paddy["gtin"], farm["gln"], quantity=50.0)
    grower = _client(app, graph, farm["gln"])
    book = load_workbook(io.BytesIO(grower.get("/work/import/shipment.xlsx").data))
    sheet, lists = book.worksheets[0], book["lists"]
    assert [c.value for c in sheet[1]][:4] == ["产品 GTIN / Product GTIN", "批号 / Lot number", "数量 / Quantity",
                                               "收货方 / Receiver"]
    assert lists.sheet_state == "hidden"
    listed = {c.value for row in lists.iter_rows() for c in row if c.value}
    assert any(v.startswith(paddy["gtin"]) and "舒兰稻谷" in v for v in listed)
    assert held["lot"] in listed and f"{mill['gln']} 一一米业 Yiyi mill" in listed
    assert farm["gln"] not in {v.split()[0] for v in listed}
    ranges = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert set(ranges) >= {"A2:A501", "B2:B501", "D2:D501"}
    assert grower.get("/work/import/inspection.xlsx").status_code == 404  # a producer is no lab
    page = grower.get("/work/import").get_data(as_text=True)
    assert "/work/import/harvest.xlsx" in page and "/work/import/inspection.xlsx" not in page


def test_a_lab_imports_its_reports_once(app, graph, chain, factory):
    farm, paddy = chain["farm"], chain["paddy"]
    lab = factory.party(roles=("lab",), role="lab", name_zh="吉林省农产品检测中心", name_en="Jilin lab")
    held = factory.lot(paddy["gtin"], farm["gln"], quantity=50.0)
    analyst = _client(app, graph, lab["gln"], role="lab")
    report = "R-" + lot_code()
    rows = [[report, "S-1", paddy["gtin"], held["lot"], "2026-10-06", "GB 2762-2022", "pass 合格", "镉 cadmium",
             0.05, "max", 0.2, "mg/kg", 0.01],
            [report, "S-1", paddy["gtin"], held["lot"], "2026-10-06", "GB 2763-2021", "pass 合格", "吡虫啉",
             "ND", "max", 0.05, "mg/kg", 0.01]]
    data = _filled(analyst, "inspection", rows)
    differs = _upload(analyst, "inspection", data)
    assert differs.status_code == 422 and "F3" in differs.get_data(as_text=True)  # the standard differs by row
    rows[1][5] = "GB 2762-2022"
    data = _filled(analyst, "inspection", rows)
    done = _upload(analyst, "inspection", data)
    assert done.status_code == 200 and "新写入 1 条记录" in done.get_data(as_text=True), done.get_data(as_text=True)
    stored = graph.query("MATCH (i:Inspection {key: $k})-[:OF_LOT]->(l:Lot) RETURN i.verdict AS v, "
                         "i.results AS r, l.lot AS lot", read=True, k=f"{lab['gln']}:{report}")
    assert stored[0]["v"] == "pass" and stored[0]["lot"] == held["lot"] and '"detected": false' in stored[0]["r"]
    again = _upload(analyst, "inspection", data)
    assert "已存在（重复上传）1 条" in again.get_data(as_text=True)


def test_a_lab_names_the_programme_a_sample_was_taken_under(app, graph, chain, factory):
    """The regulator's pass rates count an inspection under its programme (抽检类别): a lab names it in the last
    columns; a value not from the list is refused at its cell; a file from before those columns still reads."""
    farm, paddy = chain["farm"], chain["paddy"]
    lab = factory.party(roles=("lab",), role="lab", name_zh="吉林省农产品质量安全监测中心", name_en="Jilin monitor")
    held = factory.lot(paddy["gtin"], farm["gln"], quantity=50.0)
    analyst = _client(app, graph, lab["gln"], role="lab")
    routine, commissioned = "R-" + lot_code(), "C-" + lot_code()
    row = [paddy["gtin"], held["lot"], "2026-10-06", "GB 2762-2022", "pass 合格", "镉 cadmium", 0.05, "max", 0.2,
           "mg/kg", 0.01]
    wrong = _upload(analyst, "inspection", _filled(analyst, "inspection", [
        [routine, "S-1", *row, "monitoring", "吉林省农产品质量安全监测中心"]]))
    assert wrong.status_code == 422 and "N2" in wrong.get_data(as_text=True)
    assert "抽检类别应从下拉列表中选择" in wrong.get_data(as_text=True)
    done = _upload(analyst, "inspection", _filled(analyst, "inspection", [
        [routine, "S-1", *row, "routine_monitoring 例行监测 Routine monitoring", "吉林省农产品质量安全监测中心"]]))
    assert done.status_code == 200 and "新写入 1 条记录" in done.get_data(as_text=True), done.get_data(as_text=True)
    # a file filled from the template as it was before the two columns: its header stops at the detection limit
    book = load_workbook(io.BytesIO(_filled(analyst, "inspection", [[commissioned, "S-2", *row]])))
    sheet = book.worksheets[0]
    sheet.cell(row=1, column=14, value=None)
    sheet.cell(row=1, column=15, value=None)
    out = io.BytesIO()
    book.save(out)
    old = _upload(analyst, "inspection", out.getvalue())
    assert old.status_code == 200 and "新写入 1 条记录" in old.get_data(as_text=True), old.get_data(as_text=True)
    stored = dict((r["no"], (r["programme"], r["body"])) for r in graph.query(
        "MATCH (:Party {gln: $lab})-[:PERFORMED]->(i:Inspection) RETURN i.report_no AS no, i.programme AS programme, "
        "i.sampling_body AS body", read=True, lab=lab["gln"]))
    assert stored == {routine: ("routine_monitoring", "吉林省农产品质量安全监测中心"),
                      commissioned: ("commissioned_test", None)}


@pytest.mark.parametrize(("body", "message"), [
    (b"not a workbook", "不是 Excel 工作簿"),
    (b"x" * 5000, "文件太大"),
])
def test_a_file_that_is_no_template_is_refused_whole(app, graph, chain, body, message, monkeypatch):
    # A small bound: the test client spools a body over 500 kB to a temporary file it never closes.
    monkeypatch.setattr(rules, "MAX_BYTES", 4000)
    grower = _client(app, graph, chain["farm"]["gln"])
    answer = _upload(grower, "harvest", body)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)


def test_another_kinds_template_is_refused_by_its_headers(app, graph, chain):
    grower = _client(app, graph, chain["farm"]["gln"])
    data = _filled(grower, "shipment", [[chain["paddy"]["gtin"], "L1", 1, chain["mill"]["gln"], "2026-10-02"]])
    answer = _upload(grower, "harvest", data)
    assert answer.status_code == 422 and "表头与“采收”模板不同" in answer.get_data(as_text=True)


# The phone walk's fixtures (base_url, phone) come from tests/browser.py, loaded as a plugin by tests/conftest.py.


@pytest.mark.browser
def test_a_grower_imports_a_harvest_sheet_on_a_phone(phone, base_url, graph, chain, tmp_path):
    farm, paddy = chain["farm"], chain["paddy"]
    user = make_user(graph, party_gln=farm["gln"])
    phone.goto(base_url + "/work/login")
    phone.fill("#login", user["username"])
    phone.fill("#password", PASSWORD)
    phone.click("#login-form button")
    phone.wait_for_load_state()
    phone.click("#go-import")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "表格导入"
    with phone.expect_download() as got:
        phone.click("#templates a[href$='harvest.xlsx']")
    book = load_workbook(io.BytesIO(got.value.path().read_bytes()))
    sheet = book.worksheets[0]
    lot = lot_code()
    for c, value in enumerate([bad_check_digit(paddy["gtin"]), lot, 300, "KGM", "2026-10-01"], start=1):
        sheet.cell(row=2, column=c, value=value)
    bad = tmp_path / "harvest-bad.xlsx"
    book.save(bad)
    phone.select_option("#kind", "harvest")
    phone.set_input_files("#file", str(bad))
    phone.click("button[value=check]")
    phone.wait_for_load_state()
    assert "A2" in phone.locator("#problems").inner_text() and "校验位错误" in phone.locator("#problems").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    browser._shot(phone, "work-import-problems-zh")

    sheet.cell(row=2, column=1, value=paddy["gtin"])
    good = tmp_path / "harvest.xlsx"
    book.save(good)
    phone.select_option("#kind", "harvest")
    phone.set_input_files("#file", str(good))
    phone.click("button[value=commit]")
    phone.wait_for_load_state()
    assert "已处理 1 / 1 行" in phone.locator("#result").inner_text()
    browser._shot(phone, "work-import-done-zh")
    held = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {key: $k}) RETURN h.quantity AS q", read=True,
                       g=farm["gln"], k=f"lot:{paddy['gtin']}:{lot}")
    assert held == [{"q": 300.0}]


def test_an_import_is_recorded_and_audited_under_the_user(app, graph, chain):
    farm, mill, paddy = chain["farm"], chain["mill"], chain["paddy"]
    user = make_user(graph, party_gln=farm["gln"])
    grower = app.test_client()
    login(grower, user["username"])
    lot = lot_code()
    assert "新写入 1 条记录" in _upload(grower, "harvest", _filled(grower, "harvest", [
        [paddy["gtin"], lot, 80, "KGM", "2026-10-01"]])).get_data(as_text=True)
    assert "新写入 1 条记录" in _upload(grower, "shipment", _filled(grower, "shipment", [
        [paddy["gtin"], lot, 30, mill["gln"], "2026-10-02"]])).get_data(as_text=True)
    stored = graph.query("MATCH (e:Event)-[:OBJECT]->(:Lot {key: $k}) RETURN e.biz_step AS step, e.token_id AS t "
                         "ORDER BY e.event_time", read=True, k=f"lot:{paddy['gtin']}:{lot}")
    assert [(r["step"], r["t"]) for r in stored] == [("harvesting", f"user:{user['user_id']}"),
                                                     ("shipping", f"user:{user['user_id']}")]
    entries = audit_entries(graph, "/work/import", f"token:user:{user['user_id']}")
    assert len(entries) == 2 and {(e["role"], e["party_gln"]) for e in entries} == {("producer", farm["gln"])}


def test_a_large_file_is_written_in_the_background_with_a_progress_page(app, graph, chain, monkeypatch):
    from app.web.work import imports as page

    monkeypatch.setattr(page, "BACKGROUND_ROWS", 20)  # the same path as 200+ rows, in a test's time
    farm, paddy = chain["farm"], chain["paddy"]
    grower = _client(app, graph, farm["gln"])
    lots = [lot_code() for _ in range(25)]
    data = _filled(grower, "harvest", [[paddy["gtin"], lot, 10, "KGM", "2026-10-01"] for lot in lots])
    started = _upload(grower, "harvest", data)
    assert started.status_code == 303 and "/work/import/jobs/" in started.headers["Location"]
    job = started.headers["Location"]
    deadline = time.monotonic() + 120
    while True:
        progress = grower.get(job)
        text = progress.get_data(as_text=True)
        assert progress.status_code == 200 and re.search(r"已处理 \d+ / 25 行", text), text
        if "Refresh" not in progress.headers:
            break
        assert "正在导入" in text and time.monotonic() < deadline
        time.sleep(0.5)
    assert "导入完成" in text and "已处理 25 / 25 行" in text and "新写入 25 条记录" in text
    held = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(l:Lot) WHERE l.lot IN $lots RETURN count(h) AS n",
                       read=True, g=farm["gln"], lots=lots)
    assert held == [{"n": 25}]
    other = _client(app, graph, farm["gln"])
    assert other.get(job).status_code == 404  # another user's import is not theirs to read
    again = _upload(grower, "harvest", data)
    assert again.status_code == 200 and "已存在（重复上传）25 条" in again.get_data(as_text=True)
