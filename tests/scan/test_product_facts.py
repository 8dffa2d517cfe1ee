"""The product facts a shopper looks for (issue 19): beef's storage temperature, ginseng's root age (年限), rice's
variety (品种). Recorded through the API (product master data, a lot registered at origin), shown on the consumer
page's first card in Chinese and English, absent when not recorded, and the page is still one round trip."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from neo4j import READ_ACCESS

from graph import scan
from tests import factories
from tests.factories import auth

JSON = {"Accept": "application/json"}


def _facts_card(client, gtin: str, lot: str, lang: str) -> dict[str, str]:
    """The product card's facts as {term: description}, read from the page's HTML."""
    page = client.get(f"/01/{gtin}/10/{lot}?lang={lang}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    card = body[body.index('id="product"'):]
    card = card[card.index('<dl class="facts">'):card.index("</dl>")]
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", card, re.S)
    return {htmllib.unescape(t).strip(): htmllib.unescape(re.sub(r"<[^>]+>", "", d)).strip() for t, d in pairs}


def _product(client, owner: dict, category: str, **fields) -> str:
    gtin = factories.gtin()
    body = {"gtin": gtin, "name_zh": "测试产品", "name_en": "Test product", "category": category, "unit": "KGM",
            "owner_gln": owner["gln"], **fields}
    answer = client.post("/api/v1/products", json=body, headers=auth(owner["token"]))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return gtin


def _lot(client, owner: dict, gtin: str, **fields) -> str:
    lot = factories.lot_code()
    body = {"gtin": gtin, "lot": lot, "quantity": 50, "unit": "KGM", "production_date": "2026-09-20",
            "expiry_date": "2026-10-10", "owner_gln": owner["gln"], **fields}
    answer = client.post("/api/v1/lots", json=body, headers=auth(owner["token"]))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return lot


@pytest.fixture(scope="module")
def owner(graph, admin_token):
    return factories.Factory(graph, admin_token).party(roles=("farm", "processor"))


# ---------------------------------------------------------------- the API


def test_storage_and_variety_are_stored_and_returned(client, owner):
    gtin = _product(client, owner, "beef", storage={"min_c": 0, "max_c": 4, "note": "冷藏"}, variety="延边黄牛")
    got = client.get(f"/api/v1/products/{gtin}").json
    assert got["storage"] == {"min_c": 0.0, "max_c": 4.0, "note": "冷藏"}
    assert got["variety"] == "延边黄牛"
    plain = _product(client, owner, "rice")
    got = client.get(f"/api/v1/products/{plain}").json
    assert got["storage"] is None and got["variety"] is None


@pytest.mark.parametrize("storage, field", [
    ({"min_c": 4, "max_c": 0}, "max_c"),          # upside down
    ({"min_c": -300, "max_c": 4}, "min_c"),       # colder than anything kept
    ({"min_c": 0, "max_c": 400}, "max_c"),        # hotter than any store
    ({"min_c": "cold", "max_c": 4}, "min_c"),     # not a number
    ({}, "min_c"),                                # nothing said
])
def test_a_bad_temperature_range_is_refused_naming_the_field(client, owner, storage, field):
    body = {"gtin": factories.gtin(), "name_zh": "牛肉", "category": "beef", "owner_gln": owner["gln"],
            "storage": storage}
    answer = client.post("/api/v1/products", json=body, headers=auth(owner["token"]))
    assert answer.status_code == 422
    assert field in answer.json["error"]["errors"]["json"]["storage"]
    assert client.get(f"/api/v1/products/{body['gtin']}").status_code == 404  # nothing written


def test_the_owner_sets_facts_on_a_registered_product_and_a_bad_range_changes_nothing(client, owner):
    gtin = _product(client, owner, "rice")
    answer = client.patch(f"/api/v1/products/{gtin}", json={"variety": "稻花香2号"}, headers=auth(owner["token"]))
    assert answer.status_code == 200 and answer.json["variety"] == "稻花香2号"
    bad = client.patch(f"/api/v1/products/{gtin}", json={"storage": {"min_c": 10, "max_c": 2}},
                       headers=auth(owner["token"]))
    assert bad.status_code == 422
    assert client.get(f"/api/v1/products/{gtin}").json["storage"] is None


def test_a_lot_age_out_of_range_is_refused(client, owner):
    gtin = _product(client, owner, "ginseng")
    body = {"gtin": gtin, "lot": factories.lot_code(), "quantity": 5, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": owner["gln"], "origin": "harvest", "age_years": 0}
    answer = client.post("/api/v1/lots", json=body, headers=auth(owner["token"]))
    assert answer.status_code == 422 and "age_years" in answer.json["error"]["errors"]["json"]


# ---------------------------------------------------------------- the page


def test_beef_shows_its_storage_temperature_in_both_languages(client, owner):
    gtin = _product(client, owner, "beef", storage={"min_c": 0, "max_c": 4, "note": "冷藏"})
    lot = _lot(client, owner, gtin)
    assert _facts_card(client, gtin, lot, "zh")["贮存条件"] == "0–4 °C · 冷藏"
    en = _facts_card(client, gtin, lot, "en")
    assert en["Storage"] == "0–4 °C · 冷藏"
    assert en["Shelf life"] == "20 days"


def test_a_frozen_product_with_only_a_ceiling_shows_it(client, owner):
    gtin = _product(client, owner, "beef", storage={"max_c": -18})
    lot = _lot(client, owner, gtin)
    assert _facts_card(client, gtin, lot, "zh")["贮存条件"] == "≤ -18 °C"


def test_ginseng_shows_its_root_age_from_the_harvest_record(client, owner):
    gtin = _product(client, owner, "ginseng")
    lot = _lot(client, owner, gtin, origin="harvest", age_years=6)
    assert client.get(f"/api/v1/lots/{gtin}/{lot}").json["age_years"] == 6
    assert _facts_card(client, gtin, lot, "zh")["年限"] == "6 年"
    assert _facts_card(client, gtin, lot, "en")["Root age"] == "6 years"


def test_rice_shows_its_variety(client, owner):
    gtin = _product(client, owner, "rice", variety="稻花香2号")
    lot = _lot(client, owner, gtin, origin="harvest")
    assert _facts_card(client, gtin, lot, "zh")["品种"] == "稻花香2号"
    assert _facts_card(client, gtin, lot, "en")["Variety"] == "稻花香2号"


@pytest.mark.parametrize("category", ["beef", "ginseng", "rice"])
def test_nothing_recorded_shows_no_row(client, owner, category):
    gtin = _product(client, owner, category)
    lot = _lot(client, owner, gtin, origin="harvest")
    zh, en = _facts_card(client, gtin, lot, "zh"), _facts_card(client, gtin, lot, "en")
    assert not {"贮存条件", "年限", "品种"} & set(zh)
    assert not {"Storage", "Root age", "Variety"} & set(en)
    assert "生产日期" in zh  # the card itself is there


def test_the_page_with_its_new_facts_is_still_one_round_trip(graph, client, owner, monkeypatch):
    gtin = _product(client, owner, "ginseng", storage={"min_c": 0, "max_c": 10})
    lot = _lot(client, owner, gtin, origin="harvest", age_years=5)
    opened = []
    real = graph.driver.session

    def counting(*args, **kwargs):  # the real driver's session, counted (reads only: the scan writer may write)
        if kwargs.get("default_access_mode") == READ_ACCESS:
            opened.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(graph.driver, "session", counting)
    facts = scan.page(graph, gtin, lot)
    monkeypatch.undo()
    assert len(opened) == 1
    assert facts["root_ages"] == [5] and facts["storage"] == {"min_c": "0", "max_c": "10", "note": None}


# ---------------------------------------------------------------- the workbench's batch page


def test_the_batch_page_records_the_root_age_and_refuses_a_wrong_one_in_chinese(client, graph, admin_token):
    from tests.web.helpers import login, make_user, post

    farm = factories.Factory(graph, admin_token).party()
    gtin = factories.Factory(graph, admin_token).product(farm["gln"], name_zh="长白山人参")["gtin"]
    login(client, make_user(graph, party_gln=farm["gln"])["username"])
    lot, bad_lot = factories.lot_code(), factories.lot_code()

    def form(lot_, age):
        return {"origin": "harvest", "gtin": gtin, "lot": lot_, "quantity": "30", "unit": "KGM",
                "production_date": "2026-09-18", "age_years": age, "input_kind": [], "input_name": [],
                "input_dose": [], "input_applied": [], "input_safety_days": []}

    refused = post(client, "/work/batch", form(bad_lot, "六"), "/work/batch")
    assert refused.status_code == 422 and "年限请填 1 到 100 之间的整数" in refused.get_data(as_text=True)
    assert client.get(f"/api/v1/lots/{gtin}/{bad_lot}").status_code == 404
    assert post(client, "/work/batch", form(lot, "5"), "/work/batch").status_code == 303
    assert client.get(f"/api/v1/lots/{gtin}/{lot}").json["age_years"] == 5
    assert _facts_card(client, gtin, lot, "zh")["年限"] == "5 年"
