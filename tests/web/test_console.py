"""The regulator's console through the real app and Neo4j: who may open it, the overview's pass rates against the
plan's target, lists with filters and exports, the trace page, opening, acknowledging and closing a recall.

Each test makes its own parties, lots and inspections in a county and a month of a random past year, and filters
the console to that slice, so the shared test database does not disturb the figures. Expected figures are counted
here from what the test recorded, not read from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import uuid

import pytest
from openpyxl import load_workbook

from tests.factories import auth
from tests.web.helpers import audit_entries, csrf, login, make_user

COUNTIES = ("220581", "220283", "220621", "222405", "220182", "220284")
_rng = random.SystemRandom()


def _json_block(html: str, block_id: str):
    found = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', html, re.S)
    assert found, block_id
    return json.loads(found.group(1))


def make_cadmium_case(client, factory, county: str | None = None) -> dict:
    """A mill's rice lot shipped to a distribution centre and on to a shop, then one passing and one failing
    (cadmium) routine-monitoring inspection in a month of a random past year: 1 of 2 passed, 50% < 97%."""
    tag = uuid.uuid4().hex[:6]
    county = county or _rng.choice(COUNTIES)
    year, month = _rng.randint(1960, 1999), _rng.randint(1, 12)
    mill = factory.party(roles=("processor",), name_zh=f"镉测试米厂{tag}", name_en=f"Cadmium Test Mill {tag}",
                         region_code=county)
    dc = factory.party(roles=("distributor",), name_zh=f"测试配送中心{tag}", name_en=f"Test DC {tag}",
                       contact_name="王经理", contact_phone="13900000001")
    shop = factory.party(roles=("retailer",), name_zh=f"测试超市{tag}", name_en=f"Test Shop {tag}",
                         contact_phone="13900000002")
    lab = factory.party(roles=("lab",), role="lab", name_zh=f"测试检测所{tag}", name_en=f"Test Lab {tag}")
    product = factory.product(mill["gln"], category="rice", name_zh=f"测试大米{tag}", name_en=f"Test rice {tag}",
                              unit="KGM")
    lot = factory.lot(product["gtin"], mill["gln"], quantity=1000.0)
    other = factory.lot(product["gtin"], mill["gln"], quantity=500.0)
    moves = [("shipments", mill, {"destination_gln": dc["gln"]}, 600.0),
             ("receipts", dc, {"source_gln": mill["gln"]}, 600.0),
             ("shipments", dc, {"destination_gln": shop["gln"]}, 200.0),
             ("receipts", shop, {"source_gln": dc["gln"]}, 200.0)]
    for path, party, extra, quantity in moves:
        answer = client.post(f"/api/v1/{path}", headers=auth(party["token"]), json={
            "party_gln": party["gln"], **extra,
            "lots": [{"gtin": product["gtin"], "lot": lot["lot"], "quantity": quantity, "unit": "KGM"}]})
        assert answer.status_code in (200, 201, 202), answer.get_data(as_text=True)
    day = f"{year}-{month:02d}-15"
    reports = {}
    for verdict, target, value in (("pass", other, 0.05), ("fail", lot, 0.26)):
        report = f"JL-T-{tag}-{verdict}"
        answer = client.post("/api/v1/inspections", headers=auth(lab["token"]), json={
            "lab_gln": lab["gln"], "gtin": product["gtin"], "lot": target["lot"], "report_no": report,
            "sample_id": f"S-{tag}-{verdict}", "date": day, "standard": "GB 2762-2022", "verdict": verdict,
            "programme": "routine_monitoring", "region_code": county, "hazard": "cadmium",
            "results": [{"item": "镉 Cd", "value": value, "limit": 0.2, "unit": "mg/kg", "pass": value <= 0.2}]})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        reports[verdict] = report
    last_day = 28
    return {"mill": mill, "dc": dc, "shop": shop, "lab": lab, "product": product, "lot": lot, "other": other,
            "county": county, "from": f"{year}-{month:02d}-01", "to": f"{year}-{month:02d}-{last_day}",
            "reports": reports, "tag": tag}


def regulator_client(app, graph):
    client = app.test_client()
    user = make_user(graph, role="regulator")
    assert login(client, user["username"]).status_code == 303
    return client, user


def test_the_console_wants_a_regulator_account(app, client, graph, factory):
    page = client.get("/console/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/work/login?next=/console/")
    farm = factory.party()
    producer = make_user(graph, party_gln=farm["gln"])
    login(client, producer["username"])
    refused = client.get("/console/")
    assert refused.status_code == 403 and "此页面仅供监管人员使用" in refused.get_data(as_text=True)
    assert client.get("/console/trace").status_code == 403
    assert client.get("/console/inspections?format=csv").status_code == 403
    regulator, _ = regulator_client(app, graph)
    assert regulator.get("/console/").status_code == 200
    lab = factory.party(roles=("lab",), role="lab")
    lab_client = app.test_client()
    login(lab_client, make_user(graph, role="lab", party_gln=lab["gln"])["username"])
    assert lab_client.get("/console/recalls").status_code == 403


def test_the_overview_marks_the_cadmium_failure_below_the_97_percent_target(app, client, graph, factory):
    case = make_cadmium_case(client, factory)
    regulator, _ = regulator_client(app, graph)
    page = regulator.get(f"/console/?programme=routine_monitoring&category=rice&region={case['county']}"
                         f"&from={case['from']}&to={case['to']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    charts = _json_block(html, "chart-data")
    [rice] = charts["categories"]
    # counted here: one of the two inspections passed
    assert (rice["count"], rice["passed"], rice["rate"], rice["target"], rice["below"]) == (2, 1, 50.0, 97.0, True)
    [county] = charts["regions"]
    assert county["key"] == case["county"] and county["below"]
    assert [p["key"] for p in charts["programmes"]] == ["routine_monitoring"]
    assert 'id="below"' in html and "50.0%" in html
    assert "<script>" not in html  # the data is a JSON block, the code a file (CSP: script-src 'self')
    # the watch list (graph/credit.py keeps Party.credit_status): arranged directly here
    graph.query("MATCH (p:Party {gln: $gln}) SET p.credit_status = 'watch', p.credit_changed_at = datetime()",
                gln=case["mill"]["gln"])
    watch = regulator.get("/console/").get_data(as_text=True)
    assert case["mill"]["name_zh"] in watch.split('id="watch"')[1]
    watched = regulator.get(f"/console/parties?q={case['tag']}&credit=watch").get_data(as_text=True)
    assert "共 1 条" in watched and case["mill"]["name_zh"] in watched and "重点关注" in watched
    english = regulator.get(f"/console/?lang=en&programme=routine_monitoring&region={case['county']}"
                            f"&from={case['from']}&to={case['to']}").get_data(as_text=True)
    assert "Pass rates and risks" in english and "Rice" in english


def test_inspection_list_filters_sorts_pages_and_exports(app, client, graph, factory):
    case = make_cadmium_case(client, factory)
    regulator, _ = regulator_client(app, graph)
    query = f"region={case['county']}&from={case['from']}&to={case['to']}&programme=routine_monitoring"
    html = regulator.get(f"/console/inspections?{query}&sort=report_no&dir=asc").get_data(as_text=True)
    assert html.index(case["reports"]["fail"]) < html.index(case["reports"]["pass"])  # "...-fail" < "...-pass"
    desc = regulator.get(f"/console/inspections?{query}&sort=report_no&dir=desc").get_data(as_text=True)
    assert desc.index(case["reports"]["pass"]) < desc.index(case["reports"]["fail"])
    failed = regulator.get(f"/console/inspections?{query}&verdict=fail").get_data(as_text=True)
    assert case["reports"]["fail"] in failed and case["reports"]["pass"] not in failed and "共 1 条" in failed
    exported = regulator.get(f"/console/inspections?{query}&format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["日期", "报告编号"] and len(rows) == 3
    failed_row = next(r for r in rows if r[1] == case["reports"]["fail"])
    assert "镉 Cd" in failed_row[-1] and "不合格" in failed_row
    xlsx = regulator.get(f"/console/inspections?{query}&format=xlsx&lang=en")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["Date", "Report number"] and len(values) == 3
    lots = regulator.get(f"/console/lots?q={case['lot']['lot']}").get_data(as_text=True)
    assert case["product"]["name_zh"] in lots and "暂停销售" in lots  # the failed inspection held it
    parties = regulator.get(f"/console/parties?q={case['tag']}&sort=name&dir=asc").get_data(as_text=True)
    assert "共 4 条" in parties and "13900000001" in parties


def test_trace_page_names_parties_joins_movements_and_opens_a_recall(app, client, graph, factory):
    case = make_cadmium_case(client, factory)
    regulator, user = regulator_client(app, graph)
    lot = case["lot"]
    url = f"/console/trace?gtin={case['product']['gtin']}&lot={lot['lot']}"
    page = regulator.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and case["dc"]["name_zh"] in html and case["shop"]["name_zh"] in html
    drawn = _json_block(html, "graph-data")
    ids = {n["data"]["id"] for n in drawn["nodes"]}
    assert {"p:" + case["mill"]["gln"], "p:" + case["dc"]["gln"], "p:" + case["shop"]["gln"]} <= ids
    moves = {(e["data"]["source"], e["data"]["target"]) for e in drawn["edges"] if e["classes"] == "movement"}
    # shipping and receiving: one edge per hop, not two
    assert moves == {("p:" + case["mill"]["gln"], "p:" + case["dc"]["gln"]),
                     ("p:" + case["dc"]["gln"], "p:" + case["shop"]["gln"])}
    start = next(n for n in drawn["nodes"] if n["data"]["id"] == f"lot:{case['product']['gtin']}:{lot['lot']}")
    assert "failed" in start["classes"] and "on_hold" in start["classes"]

    refused = regulator.post("/console/recalls", data={"lot": f"{case['product']['gtin']}|{lot['lot']}",
                                                       "level": "2", "reason": "no token"})
    assert refused.status_code == 400  # no CSRF token
    opened = regulator.post("/console/recalls", data={
        "csrf_token": csrf(regulator, url), "lot": f"{case['product']['gtin']}|{lot['lot']}", "level": "2",
        "reason": f"镉超标 {case['reports']['fail']}"})
    assert opened.status_code == 303, opened.get_data(as_text=True)
    recall_id = opened.headers["Location"].split("/console/recalls/")[1].split("?")[0]
    status = graph.query("MATCH (l:Lot {key: $k}) RETURN l.status AS s", read=True,
                         k=f"lot:{case['product']['gtin']}:{lot['lot']}")[0]["s"]
    assert status == "recalled"
    opened_by = graph.query("MATCH (r:Recall {recall_id: $id}) RETURN r.opened_by AS by", read=True,
                            id=recall_id)[0]["by"]
    assert opened_by == f"user:{user['user_id']}"
    # the same path as the API: every holder gets its notices (graph/outbox.py)
    notified = graph.query("MATCH (n:Notification {recall_id: $id}) RETURN collect(DISTINCT n.party_gln) AS p",
                           read=True, id=recall_id)[0]["p"]
    assert sorted(notified) == sorted([case["mill"]["gln"], case["dc"]["gln"], case["shop"]["gln"]])
    [entry] = audit_entries(graph, "/console/recalls", f"token:user:{user['user_id']}")
    assert (entry["role"], entry["outcome"], entry["status"]) == ("regulator", "done", 303)

    case_page = regulator.get(opened.headers["Location"]).get_data(as_text=True)
    assert recall_id in case_page and "13900000001" in case_page and case["dc"]["name_zh"] in case_page
    assert "2级" in case_page and "剩余" in case_page
    # the DC held 400 (600 received, 200 sent on) and sent 200: acknowledging 300 recovered is within its 600
    ack = regulator.post(f"/console/recalls/{recall_id}/acknowledgements", data={
        "csrf_token": csrf(regulator, f"/console/recalls/{recall_id}"), "party_gln": case["dc"]["gln"],
        "quantity_removed": "400", "quantity_recovered": "300", "unit": "KGM"})
    assert ack.status_code == 303
    effect = _json_block(regulator.get(f"/console/recalls/{recall_id}").get_data(as_text=True), "effect-data")
    steps = effect["units"]["KGM"]
    assert steps[0][1] == 0.0 and len(steps) == 2 and steps[1][1] > 0
    too_much = regulator.post(f"/console/recalls/{recall_id}/acknowledgements", data={
        "csrf_token": csrf(regulator, f"/console/recalls/{recall_id}"), "party_gln": case["dc"]["gln"],
        "quantity_removed": "0", "quantity_recovered": "100000", "unit": "KGM"})
    assert too_much.status_code == 422 and 'id="problem"' in too_much.get_data(as_text=True)
    sheet = regulator.get(f"/console/recalls/{recall_id}/export?format=csv")
    assert sheet.status_code == 200 and case["dc"]["gln"] in sheet.get_data(as_text=True)
    closed = regulator.post(f"/console/recalls/{recall_id}/close", data={
        "csrf_token": csrf(regulator, f"/console/recalls/{recall_id}"), "summary": "已全部下架，300公斤已追回。"})
    assert closed.status_code == 303
    after = regulator.get(f"/console/recalls/{recall_id}").get_data(as_text=True)
    assert "已结案" in after and 'id="close-form"' not in after and "已全部下架，300公斤已追回。" in after
    listed = regulator.get(f"/console/recalls?q={recall_id}").get_data(as_text=True)
    assert recall_id in listed and "共 1 条" in listed


@pytest.mark.parametrize("name", ["echarts.min.js", "cytoscape.min.js"])
def test_front_end_libraries_are_served_from_our_own_files(client, name):
    answer = client.get(f"/console/vendor/{name}")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript" and len(answer.get_data()) > 100_000
    answer.close()
    assert client.get("/console/vendor/..%2Fpackage.json").status_code == 404


def test_an_alert_leads_to_the_held_lot_and_is_acknowledged_from_the_console(app, client, graph, factory):
    case = make_cadmium_case(client, factory)
    regulator, user = regulator_client(app, graph)
    key = f"lot:{case['product']['gtin']}:{case['lot']['lot']}"
    [alert_id] = [r["id"] for r in graph.query(
        "MATCH (a:Alert {kind: 'inspection_failed'}) WHERE $key IN a.subject_keys RETURN a.alert_id AS id",
        read=True, key=key)]
    listed = regulator.get("/console/alerts?state=open&kind=inspection_failed").get_data(as_text=True)
    assert f"/console/trace?gtin={case['product']['gtin']}&amp;lot={case['lot']['lot']}" in listed
    moved = regulator.post(f"/console/alerts/{alert_id}/state", data={
        "csrf_token": csrf(regulator, "/console/alerts"), "state": "acknowledged", "owner": "张科长",
        "back": "/console/alerts?state=open"})
    assert moved.status_code == 303 and moved.headers["Location"] == "/console/alerts?state=open"
    row = graph.query("MATCH (a:Alert {alert_id: $id})-[:CHANGED]->(c:AlertChange) "
                      "RETURN a.state AS state, a.owner AS owner, c.by AS by", read=True, id=alert_id)[0]
    assert row == {"state": "acknowledged", "owner": "张科长", "by": f"token:user:{user['user_id']}"}
    back = regulator.post(f"/console/alerts/{alert_id}/state", data={
        "csrf_token": csrf(regulator, "/console/alerts"), "state": "open"})
    assert back.status_code == 409 and 'id="problem"' in back.get_data(as_text=True)  # no way back to open


def test_consumer_reports_are_listed_newest_first_with_their_text(app, graph):
    from graph import consumer_reports

    text = f"买到的人参礼盒二维码扫出疑似仿冒 {uuid.uuid4().hex[:8]}"
    filed = consumer_reports.file_report(graph, {"code": "https://id.gs1.org/01/06990000000001/10/X",
                                                 "subject_key": None, "text": text, "phone": "13700000000",
                                                 "photo_sha256": None, "photo_type": None},
                                         "test-" + uuid.uuid4().hex)
    regulator, _ = regulator_client(app, graph)
    page = regulator.get("/console/reports?rstate=received").get_data(as_text=True)
    assert filed["report_no"] in page and text in page and "已受理" in page
    exported = regulator.get("/console/reports?rstate=received&format=csv").get_data(as_text=True)
    assert text in exported
    moved = regulator.post(f"/console/reports/{filed['report_no']}/state", data={
        "csrf_token": csrf(regulator, "/console/reports"), "state": "investigating", "reward": "yes"})
    assert moved.status_code == 303
    row = graph.query("MATCH (r:ConsumerReport {report_no: $no}) RETURN r.state AS state, r.reward AS reward",
                      read=True, no=filed["report_no"])[0]
    assert row == {"state": "investigating", "reward": True}


def test_a_recall_opened_with_a_contamination_window_keeps_it(app, client, graph, factory):
    case = make_cadmium_case(client, factory)
    regulator, _ = regulator_client(app, graph)
    url = (f"/console/trace?gtin={case['product']['gtin']}&lot={case['lot']['lot']}"
           f"&from=2026-10-15&to=2026-10-16")
    html = regulator.get(url).get_data(as_text=True)
    assert 'id="window-note"' in html and "2026-10-15 – 2026-10-16" in html
    opened = regulator.post("/console/recalls", data={
        "csrf_token": csrf(regulator, url), "lot": f"{case['product']['gtin']}|{case['lot']['lot']}", "level": "1",
        "reason": "窗口内加工的产品", "from": "2026-10-15", "to": "2026-10-16"})
    assert opened.status_code == 303
    recall_id = opened.headers["Location"].split("/console/recalls/")[1].split("?")[0]
    stored = graph.query("MATCH (r:Recall {recall_id: $id}) RETURN r.window_from AS f, r.window_to AS t, "
                         "r.level AS level", read=True, id=recall_id)[0]
    # whole China days: 2026-10-15 00:00 +08:00 is 2026-10-14 16:00 UTC; the 16th ends at 15:59:59.999999 UTC
    assert stored["f"].startswith("2026-10-14T16:00:00") and stored["t"].startswith("2026-10-16T15:59:59")
    assert stored["level"] == 1
    bad = regulator.post("/console/recalls", data={"csrf_token": csrf(regulator, url), "lot": "x|y", "level": "9",
                                                   "reason": "x"})
    assert bad.status_code == 422 and 'id="problem"' in bad.get_data(as_text=True)


def test_sampling_plans_are_listed(app, graph):
    from graph import sampling_plans

    regulator, user = regulator_client(app, graph)
    title = f"舒兰大米双随机抽查 {uuid.uuid4().hex[:6]}"
    plan = sampling_plans.create_plan(graph, {"title": title, "categories": ["rice"], "region_code": "220283",
                                              "target_count": 3, "per_target": 1,
                                              "inspector_ids": [user["user_id"]]}, "tests")
    page = regulator.get("/console/plans?pstate=draft").get_data(as_text=True)
    assert title in page and plan["plan_id"] in page and "舒兰市" in page and "草稿" in page


@pytest.mark.parametrize("name", ["inspections", "lots", "parties", "recalls", "alerts", "reports", "plans"])
def test_every_list_answers_in_both_languages_and_downloads(app, graph, name):
    regulator, _ = regulator_client(app, graph)
    for lang in ("zh", "en"):
        page = regulator.get(f"/console/{name}?lang={lang}&sort=nonsense&page=x&region=bad&from=never")
        assert page.status_code == 200 and 'id="rows"' in page.get_data(as_text=True)
    xlsx = regulator.get(f"/console/{name}?format=xlsx&q=no-such-{uuid.uuid4().hex[:6]}&verdict=fail&rstate=closed")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


def test_a_regulator_whose_password_an_admin_reset_changes_it_first(app, graph):
    from app.accounts import hash_password
    from graph import users

    regulator, user = regulator_client(app, graph)
    users.set_password(graph, user["user_id"], hash_password("reset by admin 42"), must_change=True)
    login(regulator, user["username"], "reset by admin 42")
    page = regulator.get("/console/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/work/password")
