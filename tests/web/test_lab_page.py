"""The lab's page on the real app and Neo4j: an inspection with its items (maximum, minimum, not detected), verdict,
report number and report PDF; the PDF is stored by its SHA-256 outside Neo4j and served to consumers from the
lot's page. Refusals write nothing (tests/fingerprint.py) and store no file."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.factories import auth, lot_code
from tests.fingerprint import unchanged
from tests.web import test_browser as browser
from tests.web.helpers import PASSWORD, csrf, login, make_user

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def reports(app, tmp_path, monkeypatch):
    """A reports directory of the test's own."""
    monkeypatch.setitem(app.config, "REPORTS_DIR", str(tmp_path / "reports"))
    return tmp_path / "reports"


@pytest.fixture
def rice(graph, factory):
    """A farm's rice lot and a lab with a logged-in analyst."""
    farm = factory.party(name_zh="舒兰稻农", name_en="Shulan grower")
    product = factory.product(farm["gln"], name_zh="舒兰大米", name_en="Shulan rice")
    lot = factory.lot(product["gtin"], farm["gln"], quantity=100.0)
    lab = factory.party(roles=("lab",), role="lab", name_zh="吉林省农产品检测中心", name_en="Jilin agri-food lab")
    return {"farm": farm, "product": product, "lot": lot, "lab": lab}


def _analyst(app, graph, gln, role="lab"):
    client = app.test_client()
    assert login(client, make_user(graph, role=role, party_gln=gln)["username"]).status_code == 303
    return client


def _form(rice, report_no, **fields) -> dict:
    form = {"gtin": rice["product"]["gtin"], "lot": rice["lot"]["lot"], "report_no": report_no, "sample_id": "S-7",
            "date": "2026-10-06", "standard": "GB 2762-2022", "verdict": "pass",
            "item_item": ["镉", "蛋白质", "吡虫啉"], "item_value": ["0.05", "7.2", "ND"],
            "item_limit_kind": ["max", "min", "max"], "item_limit": ["0.2", "7", "0.05"],
            "item_unit": ["mg/kg", "g/100g", "mg/kg"], "item_lod": ["", "", "0.01"]}
    form.update(fields)
    return form


def _post(client, form, pdf: bytes | None = PDF, name: str = "report.pdf"):
    import io

    data = {**form, "csrf_token": csrf(client, "/work/lab")}
    if pdf is not None:
        data["report"] = (io.BytesIO(pdf), name)
    return client.post("/work/lab", data=data, content_type="multipart/form-data")


def test_a_lab_records_an_inspection_whose_report_the_consumer_page_links_and_serves(app, graph, rice, reports,
                                                                                      admin_token):
    analyst = _analyst(app, graph, rice["lab"]["gln"])
    page = analyst.get("/work/lab").get_data(as_text=True)
    assert "录入检测报告" in page and 'type="file"' in page
    report_no = "JL-" + lot_code()
    done = _post(analyst, _form(rice, report_no))
    assert done.status_code == 303, done.get_data(as_text=True)
    shown = analyst.get(done.headers["Location"]).get_data(as_text=True)
    digest = hashlib.sha256(PDF).hexdigest()
    assert f"检测报告 {report_no} 已保存" in shown and f"/reports/{digest}.pdf" in shown

    stored = graph.query("MATCH (:Party {gln: $lab})-[:PERFORMED]->(i:Inspection {report_no: $no})-[:OF_LOT]->(l) "
                         "RETURN i {.*} AS i, l.lot AS lot", read=True, lab=rice["lab"]["gln"], no=report_no)
    [row] = stored
    assert row["lot"] == rice["lot"]["lot"] and row["i"]["report_sha256"] == digest
    assert row["i"]["verdict"] == "pass" and row["i"]["standard"] == "GB 2762-2022"
    results = json.loads(row["i"]["results"])
    assert [(r["item"], r["limit_kind"], r["detected"], r["lod"], r["pass"]) for r in results] == [
        ("镉", "max", True, None, True), ("蛋白质", "min", True, None, True), ("吡虫啉", "max", False, 0.01, True)]
    assert (reports / f"{digest}.pdf").read_bytes() == PDF
    event = analyst.get(f"/epcis/events?EQ_bizStep=inspecting&MATCH_epcClass=https://id.gs1.org/01/"
                        f"{rice['product']['gtin']}/10/{rice['lot']['lot']}", headers=auth(admin_token))
    [inspecting] = event.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert inspecting["disposition"].endswith("conformant") and report_no in json.dumps(inspecting)

    consumer = app.test_client()
    text = consumer.get(f"/01/{rice['product']['gtin']}/10/{rice['lot']['lot']}").get_data(as_text=True)
    assert f'href="/reports/{digest}.pdf"' in text and "检测报告（PDF）" in text
    assert "未检出 (&lt; 0.01)" in text and "≥ 7.0 g/100g" in text
    served = consumer.get(f"/reports/{digest}.pdf")
    assert served.status_code == 200 and served.mimetype == "application/pdf" and served.data == PDF
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_lab_names_the_programme_and_sampling_body_of_a_regulators_sample(app, graph, rice, reports):
    """The programme (抽检类别) classifies the inspection for the regulator's pass rates; left as offered, a test is
    one a producer commissioned (委托检验), which has no target."""
    analyst = _analyst(app, graph, rice["lab"]["gln"])
    page = analyst.get("/work/lab").get_data(as_text=True)
    assert '<option value="commissioned_test" selected>委托检验</option>' in page and "例行监测" in page
    sampled, commissioned = "JL-" + lot_code(), "JL-" + lot_code()
    assert _post(analyst, _form(rice, sampled, programme="food_safety_sampling",
                                sampling_body="长春市市场监督管理局")).status_code == 303
    assert _post(analyst, _form(rice, commissioned, programme="commissioned_test")).status_code == 303
    with unchanged(graph, lots=[rice["lot"]], parties=[rice["lab"]["gln"]]):
        refused = _post(analyst, _form(rice, "JL-" + lot_code(), programme="made_up"))
    assert refused.status_code == 422 and "抽检类别应从下拉列表中选择" in refused.get_data(as_text=True)
    stored = {r["no"]: (r["programme"], r["body"]) for r in graph.query(
        "MATCH (:Party {gln: $lab})-[:PERFORMED]->(i:Inspection) RETURN i.report_no AS no, i.programme AS programme, "
        "i.sampling_body AS body", read=True, lab=rice["lab"]["gln"])}
    assert stored == {sampled: ("food_safety_sampling", "长春市市场监督管理局"),
                      commissioned: ("commissioned_test", None)}


def test_only_a_cited_report_is_served(app, graph, reports):
    reports.mkdir(parents=True, exist_ok=True)
    stray = b"%PDF-1.4 not cited by any inspection"
    digest = hashlib.sha256(stray).hexdigest()
    (reports / f"{digest}.pdf").write_bytes(stray)
    client = app.test_client()
    assert client.get(f"/reports/{digest}.pdf").status_code == 404
    assert client.get("/reports/../../etc/passwd.pdf").status_code == 404
    assert client.get(f"/reports/{digest.upper()}.pdf").status_code == 404


@pytest.mark.parametrize(("fields", "pdf", "message"), [
    ({"item_value": ["0.3", "7.2", "ND"]}, PDF, "项目“镉”不合格，结论应为不合格"),
    ({"item_lod": ["", "", ""]}, PDF, "未检出时请填写检出限"),
    ({}, b"<html>not a pdf</html>", "请附上 PDF 格式的报告"),
    ({"lot": "NOSUCHLOT1"}, PDF, "没有这个批次"),
    ({"gtin": "06901234567890"}, PDF, "GTIN"),
])
def test_a_refused_inspection_writes_nothing_and_stores_no_file(app, graph, rice, reports, fields, pdf, message):
    analyst = _analyst(app, graph, rice["lab"]["gln"])
    report_no = "JL-" + lot_code()
    form = _form(rice, report_no, **fields)
    with unchanged(graph, lots=[rice["lot"]], parties=[rice["lab"]["gln"], rice["farm"]["gln"]]):
        refused = _post(analyst, form, pdf)
    text = refused.get_data(as_text=True)
    assert refused.status_code in (409, 422) and message in text, text
    assert not graph.query("MATCH (i:Inspection {report_no: $no}) RETURN i", read=True, no=report_no)
    if "lot" not in fields:
        assert not reports.exists() or not any(reports.iterdir())


def test_the_same_report_number_twice_is_refused(app, graph, rice, reports):
    analyst = _analyst(app, graph, rice["lab"]["gln"])
    report_no = "JL-" + lot_code()
    assert _post(analyst, _form(rice, report_no)).status_code == 303
    again = _post(analyst, _form(rice, report_no))
    assert again.status_code == 409 and "本实验室已录入过这个报告编号" in again.get_data(as_text=True)


def test_only_a_lab_account_records_inspections(app, graph, rice, reports):
    grower = _analyst(app, graph, rice["farm"]["gln"], role="producer")
    page = grower.get("/work/lab")
    assert page.status_code == 403 and "只有检测机构的账户可以录入检测报告" in page.get_data(as_text=True)
    home = grower.get("/work/").get_data(as_text=True)
    assert 'id="go-lab"' not in home and 'id="go-import"' in home


# The phone walk's fixtures (base_url, phone) come from tests/browser.py, loaded as a plugin by tests/conftest.py.


@pytest.mark.browser
def test_an_analyst_records_a_report_on_a_phone_and_a_shopper_opens_it(phone, base_url, graph, rice, reports,
                                                                        tmp_path):
    user = make_user(graph, role="lab", party_gln=rice["lab"]["gln"])
    pdf = PDF + lot_code().encode()  # a report of its own, so its hash is this test's
    (tmp_path / "report.pdf").write_bytes(pdf)
    phone.goto(base_url + "/work/login")
    phone.fill("#login", user["username"])
    phone.fill("#password", PASSWORD)
    phone.click("#login-form button")
    phone.wait_for_load_state()
    phone.click("#go-lab")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "录入检测报告"
    report_no = "JL-" + lot_code()
    for field, value in (("#gtin", rice["product"]["gtin"]), ("#lot", rice["lot"]["lot"]), ("#report_no", report_no),
                         ("#sample_id", "S-1"), ("#date", "2026-10-06"), ("#standard", "GB 2762-2022"),
                         ("#item_item_0", "镉"), ("#item_value_0", "0.05"), ("#item_limit_0", "0.2"),
                         ("#item_unit_0", "mg/kg"), ("#item_item_1", "吡虫啉"), ("#item_value_1", "ND"),
                         ("#item_lod_1", "0.01"), ("#item_limit_1", "0.05")):
        phone.fill(field, value)
    phone.set_input_files("#report", str(tmp_path / "report.pdf"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    browser._shot(phone, "work-lab-form-zh")
    phone.click("#save")
    phone.wait_for_load_state()
    assert report_no in phone.locator("#done").inner_text()
    browser._shot(phone, "work-lab-recorded-zh")

    digest = hashlib.sha256(pdf).hexdigest()
    assert (reports / f"{digest}.pdf").read_bytes() == pdf  # the server's app is this app: the test's directory
    phone.goto(f"{base_url}/01/{rice['product']['gtin']}/10/{rice['lot']['lot']}")
    link = phone.locator("a.report-pdf")
    assert link.inner_text() == "检测报告（PDF）" and link.get_attribute("href") == f"/reports/{digest}.pdf"
    browser._shot(phone, "scan-inspection-report-link-zh")
    served = phone.request.get(f"{base_url}/reports/{digest}.pdf")
    assert served.status == 200 and served.headers["content-type"] == "application/pdf" and served.body() == pdf
