"""The batch pages on the real app and Neo4j: register a complete batch (harvest or slaughter, shelf life, farm
inputs), process, pack, sell/consume/destroy, hold my own lot, dispute a delivery. Each happy path is read back
from the store; each refusal answers the page in the user's language and writes nothing (tests/fingerprint.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.web.work import batch_rules as rules
from graph import batches, lots
from gs1.timezones import CHINA
from tests.factories import auth, check_digit, lot_code
from tests.fingerprint import unchanged
from tests.web import test_browser as browser
from tests.web.helpers import PASSWORD, csrf, login, make_user, post


@pytest.fixture
def beef(graph, factory):
    """A slaughterhouse with a beef product, a logged-in worker's client and a lot it holds (100 kg)."""
    house = factory.party(roles=("slaughterhouse",), name_zh="延边屠宰场", name_en="Yanbian Abattoir")
    carcass = factory.product(house["gln"], name_zh="延边黄牛胴体", name_en="Yanbian cattle carcass",
                              category="beef")
    cuts = factory.product(house["gln"], name_zh="延边黄牛分割肉", name_en="Yanbian beef cuts", category="beef")
    held = factory.lot(carcass["gtin"], house["gln"], quantity=100.0)
    return {"party": house, "carcass": carcass, "cuts": cuts, "lot": held}


# The phone walk's fixtures (base_url, phone) come from tests/browser.py, loaded as a plugin by tests/conftest.py.


def _logged_in(client, graph, gln):
    login(client, make_user(graph, party_gln=gln)["username"])
    return client


def _batch_form(gtin: str, lot: str, **fields) -> dict:
    form = {"origin": "harvest", "gtin": gtin, "lot": lot, "quantity": "300", "unit": "KGM",
            "production_date": "2026-09-18", "input_kind": [], "input_name": [], "input_dose": [],
            "input_applied": [], "input_safety_days": []}
    form.update(fields)
    return form


def _held(graph, gln: str, gtin: str, lot: str) -> float | None:
    rows = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {key: $k}) RETURN h.quantity AS q", read=True,
                       g=gln, k=f"lot:{gtin}:{lot}")
    return rows[0]["q"] if rows else None


# ---------------------------------------------------------------- register a batch


def test_a_slaughter_batch_keeps_its_animals_certificate_shelf_life_and_farm_inputs(client, graph, beef):
    house, carcass = beef["party"], beef["carcass"]
    _logged_in(client, graph, house["gln"])
    page = client.get("/work/batch?origin=slaughter").get_data(as_text=True)
    assert "延边黄牛胴体" in page and 'value="S' in page and "动物检疫合格证明编号" in page  # a lot number proposed
    lot = "S" + lot_code()[1:]
    form = _batch_form(carcass["gtin"], lot, origin="slaughter", ear_tags="CN2201001，CN2201002 CN2201001",
                       quarantine_certificate="2201-0099871", shelf_days="7",
                       input_kind=["veterinary_drug", "pesticide"], input_name=["伊维菌素", ""],
                       input_dose=["0.2 mg/kg", ""], input_applied=["2026-08-01", ""],
                       input_safety_days=["28", ""])
    made = post(client, "/work/batch", form, "/work/batch")
    assert made.status_code == 303, made.get_data(as_text=True)

    stored = lots.get(graph, carcass["gtin"], lot)
    assert (stored["production_date"], stored["expiry_date"]) == ("2026-09-18", "2026-09-25")  # 7 days' shelf life
    assert stored["holders"] == [{"gln": house["gln"], "quantity": 300.0, "unit": "KGM"}]
    record = batches.origin(graph, carcass["gtin"], lot)
    assert record["animals"] == ["CN2201001", "CN2201002"] and record["certificate"] == "2201-0099871"
    assert record["farm_inputs"] == [{"kind": "veterinary_drug", "name": "伊维菌素", "dose": "0.2 mg/kg",
                                      "applied": "2026-08-01", "safety_days": 28}]
    shown = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "伊维菌素" in shown and "兽药" in shown and "CN2201002" in shown and "2201-0099871" in shown
    assert "2026-09-25" in shown


def test_the_origin_event_carries_the_farm_inputs_as_ilmd(client, graph, factory, admin_token):
    farm = factory.party()
    ginseng = factory.product(farm["gln"], name_zh="长白山人参")
    _logged_in(client, graph, farm["gln"])
    lot = lot_code()
    form = _batch_form(ginseng["gtin"], lot, plot="抚松县东岗镇3号地", area_mu="12.5", expiry_date="2027-09-18",
                       input_kind=["fertiliser"], input_name=["腐熟农家肥"], input_dose=["2000 kg/亩"],
                       input_applied=["2026-04-20"], input_safety_days=["0"])
    assert post(client, "/work/batch", form, "/work/batch").status_code == 303
    found = client.get(f"/epcis/events?EQ_bizStep=harvesting&MATCH_epcClass=https://id.gs1.org/01/"
                       f"{ginseng['gtin']}/10/{lot}", headers=auth(admin_token))
    assert found.status_code == 200, found.get_data(as_text=True)
    [event] = found.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["ilmd"]["tracegraph:farmInputs"][0]["name"] == "腐熟农家肥"
    assert event["ilmd"]["tracegraph:plot"] == "抚松县东岗镇3号地" and event["ilmd"]["tracegraph:areaMu"] == 12.5
    assert event["ilmd"]["cbvmda:itemExpirationDate"] == "2027-09-18"


def test_a_harvest_inside_a_safety_interval_is_written_only_once_confirmed(client, graph, factory):
    farm = factory.party()
    rice = factory.product(farm["gln"], name_zh="舒兰大米稻谷")
    _logged_in(client, graph, farm["gln"])
    lot = lot_code()
    form = _batch_form(rice["gtin"], lot, input_kind=["pesticide"], input_name=["吡虫啉"], input_dose=["10 g/亩"],
                       input_applied=["2026-09-15"], input_safety_days=["14"])
    with unchanged(graph, lots=[{"gtin": rice["gtin"], "lot": lot}], parties=[farm["gln"]]):
        warned = post(client, "/work/batch", form, "/work/batch")
    text = warned.get_data(as_text=True)
    assert warned.status_code == 422 and "安全间隔期" in text and "吡虫啉" in text and "2026-09-29" in text
    confirmed = post(client, "/work/batch", {**form, "confirm_interval": "yes"}, "/work/batch")
    assert confirmed.status_code == 303
    assert batches.origin(graph, rice["gtin"], lot)["farm_inputs"][0]["name"] == "吡虫啉"


@pytest.mark.parametrize(("fields", "message"), [
    ({"input_kind": ["pesticide"], "input_name": ["多菌灵"], "input_dose": ["1"], "input_applied": ["2026-09-20"],
      "input_safety_days": ["7"]}, "晚于采收或屠宰日期"),
    ({"shelf_days": "30", "expiry_date": "2026-12-01"}, "保质期和到期日只填一个"),
    ({"origin": "slaughter", "ear_tags": "", "quarantine_certificate": "Q1"}, "请填写屠宰牲畜的耳标号"),
    ({"origin": "slaughter", "ear_tags": "CN1", "quarantine_certificate": ""}, "动物检疫合格证明编号"),
])
def test_a_wrong_batch_form_is_answered_in_chinese_and_writes_nothing(client, graph, factory, fields, message):
    farm = factory.party()
    product = factory.product(farm["gln"])
    _logged_in(client, graph, farm["gln"])
    lot = lot_code()
    with unchanged(graph, lots=[{"gtin": product["gtin"], "lot": lot}], parties=[farm["gln"]]):
        refused = post(client, "/work/batch", _batch_form(product["gtin"], lot, **fields), "/work/batch")
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)


def test_another_brands_product_is_refused_in_english_when_english_is_chosen(client, graph, factory):
    farm, brand = factory.party(), factory.party()
    theirs = factory.product(brand["gln"], name_zh="别人的人参")
    _logged_in(client, graph, farm["gln"])
    client.set_cookie("lang", "en")
    lot = lot_code()
    with unchanged(graph, lots=[{"gtin": theirs["gtin"], "lot": lot}], parties=[farm["gln"], brand["gln"]]):
        refused = post(client, "/work/batch", _batch_form(theirs["gtin"], lot), "/work/batch")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "This was not accepted; nothing changed." in text
    assert "Register a batch" in text and "登记批次" not in text


# ---------------------------------------------------------------- process and pack


def _transform_form(held: dict, out_gtin: str, out_lot: str, used: str, made: str, action: str = "save") -> dict:
    return {"in_key": [f"{held['gtin']}|{held['lot']}"], "in_quantity": [used], "out_gtin": [out_gtin],
            "out_lot": [out_lot], "out_quantity": [made], "out_unit": ["KGM"], "action": action}


def test_processing_consumes_what_i_hold_and_makes_my_new_lot(client, graph, beef):
    house, held, cuts = beef["party"], beef["lot"], beef["cuts"]
    _logged_in(client, graph, house["gln"])
    page = client.get(f"/work/transform?lot={held['gtin']}|{held['lot']}").get_data(as_text=True)
    assert "延边黄牛分割肉" in page and "最多 100 公斤" in page
    out = lot_code()
    checked = post(client, "/work/transform", _transform_form(held, cuts["gtin"], out, "60", "42", "check"),
                   "/work/transform")
    assert checked.status_code == 200 and "出成率 70%" in checked.get_data(as_text=True)
    assert lots.get(graph, held["gtin"], held["lot"])["holders"][0]["quantity"] == 100  # a check writes nothing
    made = post(client, "/work/transform", _transform_form(held, cuts["gtin"], out, "60", "42"), "/work/transform")
    assert made.status_code == 303, made.get_data(as_text=True)
    assert _held(graph, house["gln"], held["gtin"], held["lot"]) == 40
    assert _held(graph, house["gln"], cuts["gtin"], out) == 42
    assert graph.query("MATCH (:Lot {key: $a})-[:TRANSFORMED_INTO]->(:Lot {key: $b}) RETURN count(*) AS n",
                       read=True, a=f"lot:{held['gtin']}:{held['lot']}", b=f"lot:{cuts['gtin']}:{out}")[0]["n"] == 1


@pytest.mark.parametrize(("used", "made", "message"), [
    ("10", "20", "超过投入 10 公斤 的允许出成率"),  # beyond TRANSFORM_MAX_YIELD
    ("101", "50", "超过了您的在库数量（100 公斤）"),  # more than held
])
def test_processing_beyond_the_tolerance_or_what_i_hold_is_refused_and_writes_nothing(client, graph, beef, used,
                                                                                     made, message):
    house, held, cuts = beef["party"], beef["lot"], beef["cuts"]
    _logged_in(client, graph, house["gln"])
    out = lot_code()
    with unchanged(graph, lots=[held, {"gtin": cuts["gtin"], "lot": out}], parties=[house["gln"]]):
        refused = post(client, "/work/transform", _transform_form(held, cuts["gtin"], out, used, made),
                       "/work/transform")
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)


def test_another_partys_lot_cannot_be_processed_packed_or_sold(client, graph, factory, beef):
    other = factory.party()
    theirs = factory.lot(factory.product(other["gln"])["gtin"], other["gln"])
    house, cuts = beef["party"], beef["cuts"]
    _logged_in(client, graph, house["gln"])
    out = lot_code()
    with unchanged(graph, lots=[theirs, {"gtin": cuts["gtin"], "lot": out}], parties=[house["gln"], other["gln"]]):
        processed = post(client, "/work/transform", _transform_form(theirs, cuts["gtin"], out, "5", "4"),
                         "/work/transform")
        packed = post(client, "/work/pack", {"sscc": rules.propose_sscc(house["gln"]),
                                             "child_key": [f"{theirs['gtin']}|{theirs['lot']}"],
                                             "child_quantity": ["5"]}, "/work/pack")
        sold = post(client, f"/work/dispose/{theirs['gtin']}/{theirs['lot']}", {"kind": "sold", "quantity": "5"})
    assert processed.status_code == 422 and "请选择您持有的批次" in processed.get_data(as_text=True)
    assert packed.status_code == 422 and "请选择您持有的批次" in packed.get_data(as_text=True)
    assert sold.status_code == 404


def test_packing_puts_some_of_my_lot_into_a_proposed_case(client, graph, beef):
    house, held = beef["party"], beef["lot"]
    _logged_in(client, graph, house["gln"])
    page = client.get(f"/work/pack?lot={held['gtin']}|{held['lot']}").get_data(as_text=True)
    sscc = page.split('id="sscc" name="sscc" value="')[1][:18]
    assert sscc[1:10] == house["gln"][:9] and sscc[-1] == check_digit(sscc[:-1])
    packed = post(client, "/work/pack", {"sscc": sscc, "child_key": [f"{held['gtin']}|{held['lot']}"],
                                         "child_quantity": ["12.5"]}, "/work/pack")
    assert packed.status_code == 303, packed.get_data(as_text=True)
    rows = graph.query("MATCH (:Lot {key: $k})-[:PACKED_IN]->(u:LogisticUnit) RETURN u.sscc AS sscc", read=True,
                       k=f"lot:{held['gtin']}:{held['lot']}")
    assert [r["sscc"] for r in rows] == [sscc]
    assert sscc in client.get(packed.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("sscc_ok", "quantity", "message"), [
    (False, "5", "箱码应为18位数字"),
    (True, "100.5", "超过了您的在库数量（100 公斤）"),
])
def test_a_wrong_case_code_or_more_than_held_is_refused_and_writes_nothing(client, graph, beef, sscc_ok, quantity,
                                                                          message):
    house, held = beef["party"], beef["lot"]
    _logged_in(client, graph, house["gln"])
    sscc = rules.propose_sscc(house["gln"])
    if not sscc_ok:
        sscc = sscc[:-1] + str((int(sscc[-1]) + 1) % 10)
    with unchanged(graph, keys=[f"sscc:{sscc}"], lots=[held], parties=[house["gln"]]):
        refused = post(client, "/work/pack", {"sscc": sscc, "child_key": [f"{held['gtin']}|{held['lot']}"],
                                              "child_quantity": [quantity]}, "/work/pack")
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)


# ---------------------------------------------------------------- sell, consume, destroy; hold


def test_selling_and_destroying_from_the_lot_page_reduce_what_i_hold(client, graph, beef):
    house, held = beef["party"], beef["lot"]
    _logged_in(client, graph, house["gln"])
    page = f"/work/lots/{held['gtin']}/{held['lot']}"
    assert 'id="dispose-form"' in client.get(page).get_data(as_text=True)
    sold = post(client, f"/work/dispose/{held['gtin']}/{held['lot']}", {"kind": "sold", "quantity": "10"}, page)
    assert sold.status_code == 303 and "销售已记录" in client.get(sold.headers["Location"]).get_data(as_text=True)
    destroyed = post(client, f"/work/dispose/{held['gtin']}/{held['lot']}", {"kind": "destroyed", "quantity": "5"},
                     page)
    assert destroyed.status_code == 303
    assert _held(graph, house["gln"], held["gtin"], held["lot"]) == 85
    steps = [r["s"] for r in graph.query(
        "MATCH (:Lot {key: $k})<-[:OBJECT]-(e:Event) RETURN e.biz_step AS s ORDER BY e.event_time", read=True,
        k=f"lot:{held['gtin']}:{held['lot']}")]
    assert "retail_selling" in steps and "destroying" in steps
    with unchanged(graph, lots=[held], parties=[house["gln"]]):
        refused = post(client, f"/work/dispose/{held['gtin']}/{held['lot']}", {"kind": "consumed",
                                                                                "quantity": "86"}, page)
    assert refused.status_code == 422 and "超过了您的在库数量（85 公斤）" in refused.get_data(as_text=True)


def test_i_may_hold_and_release_my_own_lot_and_a_held_lot_is_not_sold(client, graph, beef):
    house, held = beef["party"], beef["lot"]
    _logged_in(client, graph, house["gln"])
    page = f"/work/lots/{held['gtin']}/{held['lot']}"
    assert 'id="hold-form"' in client.get(page).get_data(as_text=True)
    on_hold = post(client, f"/work/hold/{held['gtin']}/{held['lot']}", {"action": "hold", "reason": "疑似药残"}, page)
    assert on_hold.status_code == 303
    assert lots.get(graph, held["gtin"], held["lot"])["status"] == "on_hold"
    with unchanged(graph, lots=[held], parties=[house["gln"]]):
        refused = post(client, f"/work/dispose/{held['gtin']}/{held['lot']}", {"kind": "sold", "quantity": "1"}, page)
    assert refused.status_code == 422 and "只能销毁" in refused.get_data(as_text=True)
    released = post(client, f"/work/hold/{held['gtin']}/{held['lot']}", {"action": "release"}, page)
    assert released.status_code == 303 and lots.get(graph, held["gtin"], held["lot"])["status"] == "active"


def test_a_lot_i_hold_but_do_not_own_is_not_mine_to_hold(app, client, graph, factory, beef):
    house, held = beef["party"], beef["lot"]
    shop = factory.party(roles=("retailer",))
    body = {"party_gln": house["gln"], "destination_gln": shop["gln"],
            "lots": [{"gtin": held["gtin"], "lot": held["lot"], "quantity": 10, "unit": "KGM"}]}
    assert client.post("/api/v1/shipments", json=body, headers=auth(house["token"])).status_code == 201
    receipt = {"party_gln": shop["gln"], "source_gln": house["gln"], "lots": body["lots"]}
    assert client.post("/api/v1/receipts", json=receipt, headers=auth(shop["token"])).status_code == 201
    _logged_in(client, graph, shop["gln"])
    page = f"/work/lots/{held['gtin']}/{held['lot']}"
    assert 'id="hold-form"' not in client.get(page).get_data(as_text=True)
    with unchanged(graph, lots=[held], parties=[house["gln"], shop["gln"]]):
        refused = post(client, f"/work/hold/{held['gtin']}/{held['lot']}", {"action": "hold", "reason": "x"}, page)
        # the API's hold stays for regulators and admins
        api = client.post(f"/api/v1/lots/{held['gtin']}/{held['lot']}/hold", json={"reason": "x"},
                          headers=auth(house["token"]))
    assert refused.status_code == 403 and "只有批次所属单位" in refused.get_data(as_text=True)
    assert api.status_code == 403


# ---------------------------------------------------------------- dispute a delivery


def test_a_disputed_delivery_stays_pending_and_both_parties_see_the_dispute(app, client, graph, factory, beef):
    house, held = beef["party"], beef["lot"]
    shop = factory.party(roles=("retailer",), name_zh="延吉超市")
    body = {"party_gln": house["gln"], "destination_gln": shop["gln"],
            "lots": [{"gtin": held["gtin"], "lot": held["lot"], "quantity": 10, "unit": "KGM"}]}
    assert client.post("/api/v1/shipments", json=body, headers=auth(house["token"])).status_code == 201
    _logged_in(client, graph, shop["gln"])
    home = client.get("/work/").get_data(as_text=True)
    assert "/work/dispute?" in home
    form = {"gtin": held["gtin"], "lot": held["lot"], "source_gln": house["gln"]}
    disputed = post(client, "/work/dispute", {**form, "reason": "少了2公斤"}, "/work/")
    assert disputed.status_code == 303
    pending = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {key: $k}) RETURN h.pending AS p", read=True,
                          g=shop["gln"], k=f"lot:{held['gtin']}:{held['lot']}")[0]["p"]
    assert pending == 10
    assert "少了2公斤" in client.get(f"/work/lots/{held['gtin']}/{held['lot']}").get_data(as_text=True)
    sender = _logged_in(app.test_client(), graph, house["gln"])
    assert "少了2公斤" in sender.get(f"/work/lots/{held['gtin']}/{held['lot']}").get_data(as_text=True)


# ---------------------------------------------------------------- CSRF


def test_every_batch_form_needs_its_csrf_token(client, graph, beef):
    house, held, cuts = beef["party"], beef["lot"], beef["cuts"]
    _logged_in(client, graph, house["gln"])
    csrf(client, "/work/")  # a session with a token, which the posts below leave out
    out = lot_code()
    with unchanged(graph, lots=[held, {"gtin": cuts["gtin"], "lot": out}], parties=[house["gln"]]):
        answers = [
            client.post("/work/batch", data=_batch_form(cuts["gtin"], out)),
            client.post("/work/transform", data=_transform_form(held, cuts["gtin"], out, "10", "5")),
            client.post("/work/pack", data={"sscc": rules.propose_sscc(house["gln"]),
                                            "child_key": [f"{held['gtin']}|{held['lot']}"], "child_quantity": ["1"]}),
            client.post(f"/work/dispose/{held['gtin']}/{held['lot']}", data={"kind": "sold", "quantity": "1"}),
            client.post(f"/work/hold/{held['gtin']}/{held['lot']}", data={"action": "hold", "reason": "x"}),
        ]
    assert [a.status_code for a in answers] == [400] * 5
    assert all("页面已过期" in a.get_data(as_text=True) for a in answers)


# ---------------------------------------------------------------- pure rules


def test_safety_intervals_shelf_life_and_case_codes():
    inputs, problems = rules.farm_inputs([{"kind": "pesticide", "name": "A", "applied": "2026-09-01",
                                           "safety_days": "10"}, {}], date(2026, 9, 11))
    assert not problems and rules.inside_safety_interval(inputs, date(2026, 9, 11)) == []
    assert rules.inside_safety_interval(inputs, date(2026, 9, 10))[0]["safe_from"] == "2026-09-11"
    assert rules.expiry(date(2026, 9, 18), "7", "") == (date(2026, 9, 25), None)
    assert rules.ear_tags("A1，A2、A3\nA1") == ["A1", "A2", "A3"]
    assert rules.propose_sscc("6991234567893", 3, 42) == "3699123456" + "0000042" + check_digit(
        "3699123456" + "0000042")
    assert rules.over_tolerance(rules.yields([{"unit": "KGM", "quantity": 10.0}],
                                             [{"unit": "KGM", "quantity": 10.6}]), 1.05)


# ---------------------------------------------------------------- in a real browser at phone size


@pytest.mark.browser
def test_a_slaughterhouse_worker_registers_processes_and_packs_on_a_phone(phone, base_url, graph, factory):
    house = factory.party(roles=("slaughterhouse",), name_zh="延边手机屠宰场", name_en="Yanbian Phone Abattoir")
    carcass = factory.product(house["gln"], name_zh="延边黄牛胴体", name_en="Yanbian cattle carcass")
    cuts = factory.product(house["gln"], name_zh="延边黄牛分割肉", name_en="Yanbian beef cuts")
    user = make_user(graph, party_gln=house["gln"])
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(base_url + "/work/login")
    phone.fill("#login", user["username"])
    phone.fill("#password", PASSWORD)
    phone.click("#login-form button")
    phone.wait_for_load_state()

    phone.click("#go-batch")
    phone.click("#kind-slaughter")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "登记批次"
    lot = phone.input_value("#lot")
    assert lot.startswith("S")
    phone.select_option("#gtin", carcass["gtin"])
    phone.fill("#quantity", "320")
    phone.fill("#ear_tags", "CN22010001, CN22010002")
    phone.fill("#quarantine_certificate", "2201-7788")
    phone.fill("#shelf_days", "10")
    phone.fill("#input_name_0", "伊维菌素注射液")
    phone.select_option("#input_kind_0", "veterinary_drug")
    phone.fill("#input_dose_0", "0.2 mg/kg")
    phone.fill("#input_applied_0", (rules_today() - timedelta(days=60)).isoformat())
    phone.fill("#input_safety_days_0", "35")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    browser._shot(phone, "work-batch-slaughter-zh")
    phone.click("#save")
    phone.wait_for_load_state()
    assert "伊维菌素注射液" in phone.locator("#farm-inputs").inner_text()
    assert "CN22010002" in phone.locator("#animals").inner_text()
    assert "320 公斤" in phone.locator("#mine").inner_text()
    browser._shot(phone, "work-batch-lot-zh")

    phone.click("#actions #go-transform")
    phone.wait_for_load_state()
    phone.fill("#in_quantity_0", "300")
    phone.select_option("#out_gtin_0", cuts["gtin"])
    out_lot = phone.input_value("#out_lot_0")
    phone.fill("#out_quantity_0", "210")
    phone.click("#check")
    phone.wait_for_load_state()
    assert "出成率 70%" in phone.locator("#yield").inner_text()
    browser._shot(phone, "work-transform-zh")
    phone.click("#save")
    phone.wait_for_load_state()
    assert out_lot in phone.locator("#lot").inner_text() and "210 公斤" in phone.locator("#mine").inner_text()

    phone.click("#actions #go-pack")
    phone.wait_for_load_state()
    sscc = phone.input_value("#sscc")
    phone.fill("#child_quantity_0", "20")
    browser._shot(phone, "work-pack-zh")
    phone.click("#save")
    phone.wait_for_load_state()
    assert sscc in phone.locator("#packed").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    browser._shot(phone, "work-packed-zh")
    assert _held(graph, house["gln"], carcass["gtin"], lot) == 20
    assert graph.query("MATCH (:Lot {key: $k})-[:PACKED_IN]->(u:LogisticUnit {sscc: $s}) RETURN count(*) AS n",
                       read=True, k=f"lot:{cuts['gtin']}:{out_lot}", s=sscc)[0]["n"] == 1
    phone.context.clear_cookies()


def rules_today() -> date:
    """Today in Jilin (the pages propose dates in China time)."""
    return datetime.now(UTC).astimezone(CHINA).date()
