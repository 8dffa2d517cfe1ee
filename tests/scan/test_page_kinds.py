"""Each kind of consumer page in real headless Chromium at phone size (390 x 844): what the first screen shows, in
Chinese and in English, with screenshots kept under artifacts/ (scan-kind-<kind>-<lang>.png and -fold.png).

Kinds: a genuine item, an item already sold, a forged serial, a recalled lot, beef, ginseng, rice (the demo
province's own codes, as `flask demo load` prints them), an unknown lot and a malformed code.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import demo

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
FOLD = 844  # the phone's first screen, CSS pixels


@pytest.fixture(scope="module")
def served(app):
    """The real app over HTTP (werkzeug's server in a thread)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (never a browser Playwright downloads), one for the module."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def links(app):
    """The demo's consumer links by kind (the demo is loaded idempotently into the shared test database)."""
    province = demo.load(app, only_if_empty=False)
    found = {}
    for line in demo.describe(province).splitlines():
        m = re.match(r"\s+(.+?)\s+https?://[^/]+(/01/\S+)$", line)
        if m:
            found[m.group(1).strip()] = m.group(2)
    genuine = found["genuine ginseng gift box"]
    gtin = genuine.split("/")[2]
    return {
        "genuine": genuine,
        "sold": found["box already sold"],
        "forged": genuine.rsplit("/", 1)[0] + "/FAKE0000FAKE",
        "recalled": found["recalled Meihekou rice"],
        "beef": found["Yanbian beef tenderloin"],
        "ginseng": found["dried ginseng"],
        "rice": found["Shulan rice 5 kg"],
        "unknown_lot": f"/01/{gtin}/10/NOSUCHLOT2026",
        "malformed": f"/01/{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}/10/X1",
    }


def _open(browser, served: str, path: str, lang: str, kind: str):
    """Open a page at phone size in a fresh context; keep full-page and first-screen screenshots."""
    context = browser.new_context(viewport={"width": 390, "height": FOLD}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    response = page.goto(served + path + ("?lang=en" if lang == "en" else ""))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scan-kind-{kind}-{lang}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"scan-kind-{kind}-{lang}-fold.png"))
    return context, page, response


def _first_screen(page, selector: str) -> str:
    """The text of an element that must be on the first screen (its top above the fold, not hidden)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["y"] < FOLD, f"{selector} starts at {box['y']:.0f}px, below the first screen"
    return page.locator(selector).first.inner_text()


WORDS = {
    "zh": {"genuine": "正品", "fake": "疑似假冒", "lot": "批次已登记", "made": "生产日期", "until": "保质期至",
           "origin": "产地", "brand": "品牌方", "recall": "召回通知", "todo": "停止食用", "reason": "召回原因",
           "sold": "售出", "slaughter": "屠宰", "quarantine": "动物检疫合格证明", "ear": "耳标号",
           "unknown_lot": "疑似假冒：批次未登记", "bad": "无法识别此编码", "call": "12315", "producer": "生产者",
           "shelf": "保质期"},
    "en": {"genuine": "Genuine", "fake": "Suspected counterfeit", "lot": "Lot registered", "made": "Produced",
           "until": "Best before", "origin": "Origin", "brand": "Brand owner", "recall": "Recall",
           "todo": "Stop eating", "reason": "Reason", "sold": "sold on", "slaughter": "Slaughter",
           "quarantine": "Animal quarantine certificate",
           "ear": "Ear tags", "unknown_lot": "Suspected counterfeit: lot not registered", "bad": "Code not recognised",
           "call": "12315", "producer": "Producer", "shelf": "Shelf life"},
}
LANGS = ("zh", "en")


@pytest.mark.parametrize("lang", LANGS)
def test_genuine_item(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["genuine"], lang, "genuine")
    try:
        assert response.status == 200
        assert _first_screen(page, "#verdict h1") == w["genuine"]
        product = _first_screen(page, "#product")
        # the demo's lots carry no expiry date (tests/scan/test_resolver.py shows one that does)
        for word in (w["made"], w["origin"], w["brand"], w["producer"]):
            assert word in product, word
        assert page.locator("#recall").count() == 0 and page.locator("#sold").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_sold_item_says_so_first(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["sold"], lang, "sold")
    try:
        assert response.status == 200
        assert w["sold"] in _first_screen(page, "#sold")
        assert page.locator("#sold").bounding_box()["y"] < page.locator("#verdict").bounding_box()["y"]
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_forged_serial_is_a_suspected_counterfeit_without_credentials(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["forged"], lang, "forged")
    try:
        assert response.status == 200
        assert _first_screen(page, "#verdict h1") == w["fake"]
        assert page.locator("#verdict a[href='tel:12315']").is_visible()
        for section in ("#chain", "#inspections", "#certificates", ".badges", ".commitment", "#sold"):
            assert page.locator(section).count() == 0, section
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_recalled_lot_banner_says_why_when_how_serious_and_what_to_do(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["recalled"], lang, "recalled")
    try:
        assert response.status == 200
        banner = _first_screen(page, "#recall")
        for word in (w["recall"], w["reason"], w["todo"]):
            assert word in banner, word
        assert re.search(r"\d{4}-\d{2}-\d{2}", banner)  # the day the recall was issued
        assert page.locator("#recall a.recall-notice").first.get_attribute("href").startswith("/recall/")
        # no green "registered" card right under the recall banner
        assert not page.locator("#verdict").is_visible()
        assert page.locator(".verdict-genuine").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_beef_shows_slaughter_quarantine_and_ear_tags(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["beef"], lang, "beef")
    try:
        assert response.status == 200
        product = _first_screen(page, "#product")
        assert w["quarantine"] in product and "动检A2207-0001234" in product
        assert w["ear"] in product and "222401000120001" in product
        chain = page.locator("#chain").inner_text()
        assert w["slaughter"] in chain
        assert ("采收" if lang == "zh" else "Harvested") not in page.content()
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_ginseng_shows_origin_and_grower(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["ginseng"], lang, "ginseng")
    try:
        assert response.status == 200
        product = _first_screen(page, "#product")
        assert w["origin"] in product and w["producer"] in product
        growers = page.locator("#product .growers dd").inner_text()
        assert ("抚松县万良镇参园" if lang == "zh" else "Wanliang") in growers  # the grower, on the first screen
        assert ("抚松" if lang == "zh" else "Fusong") in product
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_a_blend_names_its_growers_apart_in_each_language(browser, served, links, lang):
    # The demo's gift box blends two farms' roots. English names carry commas ("Wanliang Ginseng Farm, Fusong"), so
    # names are listed with "、" in Chinese and "; " in English, as the origin line does; never "、" in English.
    context, page, response = _open(browser, served, links["sold"], lang, "blend")
    try:
        assert response.status == 200
        growers = page.locator("#product .growers dd").inner_text()
        if lang == "zh":
            assert growers == "抚松县万良镇参园、集安市清河镇参场"
        else:
            assert growers == "Wanliang Ginseng Farm, Fusong; Qinghe Ginseng Farm, Ji'an"
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_rice_shows_origin_once_and_the_chain_in_short(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["rice"], lang, "rice")
    try:
        assert response.status == 200
        product = _first_screen(page, "#product")
        assert w["made"] in product and w["origin"] in product
        milled = page.locator("#product .milled dd").inner_text()
        assert milled == "2026-10-15" and ("碾米日期" if lang == "zh" else "Milled") in product  # the mill's run
        origin = page.locator("#product dt", has_text=w["origin"]).locator("xpath=../dd").inner_text()
        parts = [p.strip() for p in re.split("[、;]", origin) if p.strip()]
        assert len(parts) == len(set(parts)), origin
        assert page.locator("#chain .summary li").count() >= 2
        assert not page.locator("#chain ol.timeline").is_visible()  # the details are folded away
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_lot_walks_up_to_the_product_and_warns(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["unknown_lot"], lang, "unknown-lot")
    try:
        assert response.status == 200
        assert _first_screen(page, "#verdict h1") == w["unknown_lot"]
        assert page.locator("a[href='tel:12315']").first.is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_malformed_code_page_is_in_the_users_language(browser, served, links, lang):
    w = WORDS[lang]
    context, page, response = _open(browser, served, links["malformed"], lang, "malformed")
    try:
        assert response.status == 400
        assert _first_screen(page, "h1") == w["bad"]
        body = page.locator("body").inner_text()
        assert "HTTP" not in body
        if lang == "zh":
            # every word but the hotline number, the code's digits and the switch is Chinese
            latin = re.findall(r"[A-Za-z]{3,}", body.replace("English", ""))
            assert latin == [] or set(latin) <= {"GS", "EPCIS"}, latin
    finally:
        context.close()
