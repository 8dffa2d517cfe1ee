"""The Digital Link resolver and the consumer page: HTML and JSON, verdicts, recall, friendly errors, privacy."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from graph import lots
from labels.serials import ALPHABET, make_serial
from tests import factories
from tests.scan import arrange
from tests.scan.conftest import item_path

JSON = {"Accept": "application/json"}


def test_browser_gets_the_chinese_page_with_the_whole_story(client, chain):
    page = client.get(item_path(chain, chain.serials[0]))
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert 'data-verdict="genuine"' in html and "正品" in html
    assert "长白山人参礼盒" in html and chain.box_lot in html
    # the chain back to the farm, with place names, in time order
    places = ["抚松县万良镇参园", "长白山人参加工有限公司", "长春农产品物流中心", "长春人参专卖店"]
    chain_html = html[html.index('class="timeline"'):html.index('id="inspections"')]
    positions = [chain_html.index(p) for p in places]
    assert positions == sorted(positions)
    assert "采收" in html and "加工" in html and "发货" in html
    # inspections with lab and a failing result shown honestly; certificates with the expired one marked
    assert "吉林省农产品质量安全检测中心" in html and "不合格" in html and "镉 Cd" in html
    # the valid certificate is a credential; the expired green food one is not shown as one
    assert "badge-gi" in html and "badge-green_food" not in html
    assert "召回通知" not in html


def test_json_gets_the_same_facts(client, chain):
    facts = client.get(item_path(chain, chain.serials[0]), headers=JSON).json
    assert facts["authenticity"] == {"verdict": "genuine", "level": "item", "reason": None}
    assert facts["product"]["name_zh"] == "长白山人参礼盒"
    assert facts["lot"]["lot"] == chain.box_lot and facts["lot"]["expiry_date"] == "2028-10-07"
    assert [o["region_zh"] for o in facts["origin"]] == ["吉林省白山市抚松县"]
    stages = [e["stage"] for e in facts["timeline"]]
    assert stages[0] == "farm" and stages[-1] == "retail"
    assert facts["timeline"][0]["time"] == "2026-09-15T08:30:00+08:00"
    verdicts = {i["report_no"]: i["verdict"] for i in facts["inspections"]}
    assert verdicts == {f"OK-{chain.farm_lot}": "pass", f"BAD-{chain.box_lot}": "fail"}
    expired = {c["type"]: c["expired"] for c in facts["certificates"]}
    assert expired == {"gi": False, "green_food": True}
    assert facts["recall"]["recalled"] is False


def test_the_page_shows_no_private_data(client, chain):
    for headers in ({}, JSON):
        body = client.get(item_path(chain, chain.serials[0]), headers=headers).get_data(as_text=True)
        assert arrange.PHONE not in body
        assert "@example.cn" not in body and "张三" not in body
        assert "contact" not in body and "quantity" not in body and "token" not in body
        assert "price" not in body.lower()


def test_english_switch(client, chain):
    page = client.get(item_path(chain, chain.serials[0]) + "?lang=en")
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html and "Genuine" in html and "Wanliang Ginseng Farm" in html
    assert page.headers["Content-Language"] == "en"
    # the switch leads back to Chinese, keeping the code
    assert f'href="{item_path(chain, chain.serials[0])}?lang=zh"' in html


def test_lot_code_is_registered_but_not_proof_of_a_single_pack(client, chain):
    facts = client.get(f"/01/{chain.box_gtin}/10/{chain.box_lot}?17=281007", headers=JSON).json
    assert facts["authenticity"] == {"verdict": "genuine", "level": "lot", "reason": None}
    assert facts["code"]["query"] == {"17": "281007"}
    assert facts["item"] is None
    html = client.get(f"/01/{chain.box_gtin}/10/{chain.box_lot}?17=281007").get_data(as_text=True)
    assert "批次已登记" in html and "(01)" + chain.box_gtin + "(17)281007(10)" + chain.box_lot in html


def test_forged_signature_is_called_invalid(client, chain):
    good = chain.serials[0]
    forged = good[:-1] + next(c for c in ALPHABET if c != good[-1])
    facts = client.get(item_path(chain, forged), headers=JSON).json
    assert facts["authenticity"]["verdict"] == "invalid_signature"
    html = client.get(item_path(chain, forged)).get_data(as_text=True)
    assert "疑似假冒" in html and 'href="tel:12315"' in html
    # none of the genuine lot's credentials on a forged code
    assert 'id="inspections"' not in html and 'id="certificates"' not in html and "抚松县万良镇参园" not in html


@pytest.mark.parametrize("kind", ["signed_but_never_printed", "not_our_format", "other_lots_item"])
def test_unregistered_serials_are_unknown_codes(client, chain, secret, kind):
    if kind == "signed_but_never_printed":
        path = item_path(chain, make_serial(secret, chain.box_gtin, chain.box_lot))
    elif kind == "not_our_format":
        path = item_path(chain, "12345")
    else:  # a real serial of this product presented with the wrong lot
        path = f"/01/{chain.box_gtin}/10/{chain.farm_lot}/21/{chain.serials[0]}"
        lots.create(client.application.extensions["graph"], {
            "gtin": chain.box_gtin, "lot": chain.farm_lot, "quantity": 1.0, "unit": "EA",
            "production_date": "2026-10-01", "expiry_date": None, "owner_gln": chain.parties["plant"]["gln"]})
    facts = client.get(path, headers=JSON).json
    assert facts["authenticity"]["verdict"] in ("unknown_code", "invalid_signature")
    if kind != "other_lots_item":
        assert facts["authenticity"]["verdict"] == "unknown_code"


def test_recall_upstream_shows_a_banner_on_every_box(client, graph, secret):
    recalled = arrange.ginseng_chain(graph, secret, boxes=1, farm_status="recalled")
    facts = client.get(item_path(recalled, recalled.serials[0]), headers=JSON).json
    assert facts["recall"]["recalled"] is True
    assert facts["recall"]["lots"] == [{"lot": recalled.farm_lot, "name_zh": "鲜人参", "name_en": "Fresh ginseng root"}]
    html = client.get(item_path(recalled, recalled.serials[0])).get_data(as_text=True)
    assert 'id="recall"' in html and "召回通知" in html and recalled.farm_lot in html


def test_on_hold_lot_shows_a_notice(client, graph, secret):
    held = arrange.ginseng_chain(graph, secret, boxes=1)
    arrange.set_status(graph, held.box_gtin, held.box_lot, "on_hold")
    html = client.get(f"/01/{held.box_gtin}/10/{held.box_lot}").get_data(as_text=True)
    assert 'id="hold"' in html and "暂停销售" in html and "召回通知" not in html


def test_lot_with_a_slash_resolves_from_its_percent_encoded_uri(client, graph, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = "A/B%C-" + factories.lot_code()[:6]
    lots.create(graph, {"gtin": product["gtin"], "lot": lot, "quantity": 5.0, "unit": "KGM",
                        "production_date": "2026-09-01", "expiry_date": None, "owner_gln": farm["gln"]})
    facts = client.get(f"/01/{product['gtin']}/10/{quote(lot, safe='')}", headers=JSON).json
    assert facts["lot"]["lot"] == lot


def test_unknown_lot_walks_up_to_its_product_with_a_warning(client, chain):
    page = client.get(f"/01/{chain.box_gtin}/10/NOSUCHLOT")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "疑似假冒：批次未登记" in html and "长白山人参礼盒" in html and "Traceback" not in html
    error = client.get(f"/01/{chain.box_gtin}/10/NOSUCHLOT", headers=JSON)
    assert error.status_code == 404
    assert error.json["error"]["code"] == "not_found" and "NOSUCHLOT" in error.json["error"]["message"]


def test_unknown_product_gets_a_friendly_404(client):
    page = client.get(f"/01/{factories.gtin()}/10/L1?lang=en")
    assert page.status_code == 404 and "Code not found" in page.get_data(as_text=True)


@pytest.mark.parametrize(("path", "word"), [
    ("/01/{bad}/10/L1", "check digit"),
    ("/01/{gtin}/10/L1?17=991399", "17"),
    ("/01/{gtin}/21/S1/10/L1", "order"),
    ("/01/{gtin}/10/L1?lang=fr", "lang"),
    ("/01/{gtin}/10/L1?geo=north", "geo"),
])
def test_malformed_codes_get_a_friendly_400_naming_the_problem(client, chain, path, word):
    path = path.format(bad=factories.bad_check_digit(chain.box_gtin), gtin=chain.box_gtin)
    page = client.get(path)
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "HTTP" not in page.get_data(as_text=True)  # every word of the Chinese page is Chinese
    if word != "lang":  # the technical detail is shown on the English page
        english = client.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert english.status_code == 400 and word in english.get_data(as_text=True)
    error = client.get(path, headers=JSON)
    assert error.status_code == 400 and error.json["error"]["status"] == 400
    assert word in error.json["error"]["message"] or word in str(error.json["error"].get("errors"))


def test_pages_need_no_inline_script_or_style_and_no_cdn(client, chain):
    page = client.get(item_path(chain, chain.serials[0]))
    html = page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
    for asset in re.findall(r"(?:src|href)=\"(/static/scan/[^\"]+)\"", html):
        with client.get(asset) as response:
            assert response.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"


def test_database_down_is_a_friendly_503(chain):
    from app import create_app

    down = create_app({"TESTING": True, "NEO4J_URI": "bolt://127.0.0.1:9", "MIGRATE_ON_START": False,
                       "SECRET_KEY": "test-secret-key-" + "x" * 20})
    try:
        page = down.test_client().get(item_path(chain, chain.serials[0]))
        assert page.status_code == 503 and "服务暂时不可用" in page.get_data(as_text=True)
        assert page.headers["Retry-After"]
    finally:
        down.extensions["graph"].close()
