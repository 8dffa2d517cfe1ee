"""The issue's walk in real headless Chromium at phone size, over real HTTP against the real app and Neo4j: a grower
registers a harvest with its farm inputs and issues its 合格证, ships it to a mill; the mill confirms it from its
inbound list, mills it (a transformation with the new lot's production date and shelf life), bags it into cases,
ships to a shop that confirms from its own inbound list; the mill prints a 10-label sheet and a 合格证. The QR
codes on the label PNG, the sheet PDF and the 合格证 decode (zxing-cpp) to Digital Links which, opened in the
browser, show the new dates (生产日期/保质期) and the certificate. Screenshots of each step go to artifacts/."""

from __future__ import annotations

import io
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image

from gs1.timezones import CHINA
from tests import browser
from tests.browser import ARTIFACTS
from tests.labels.test_sheet import _pages
from tests.web.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

PHONE = {**browser.PHONE, "locale": "zh-CN"}
HARVEST_DAY = date(2026, 10, 1)
PADDY_SHELF_DAYS = 365
RICE_SHELF_DAYS = 180


@pytest.fixture
def walk(graph, factory):
    """Fresh parties, products and users: a rice grower, a mill and a shop.

    The ship page lists the first 200 parties by name, and the kept test store holds thousands: these names start
    with a number that falls as time goes on ("0" sorts before every name the store holds), so each run's parties
    come first in the list, ahead of those of earlier runs.
    """
    tag = f"0{10**10 - int(time.time()):010d}"
    farm = factory.party(roles=("farm",), name_zh=f"{tag}舒兰稻农", name_en=f"{tag} Shulan grower",
                         region_zh="舒兰市", region_code="220283")
    mill = factory.party(roles=("processor",), name_zh=f"{tag}舒兰米业", name_en=f"{tag} Shulan mill",
                         region_zh="舒兰市", region_code="220283")
    shop = factory.party(roles=("retailer",), name_zh=f"{tag}长春超市", name_en=f"{tag} Changchun shop")
    paddy = factory.product(farm["gln"], name_zh="舒兰稻谷", name_en="Shulan paddy", category="paddy")
    rice = factory.product(mill["gln"], name_zh="舒兰大米", name_en="Shulan rice", category="rice")
    return {"farm": farm, "mill": mill, "shop": shop, "paddy": paddy, "rice": rice,
            "grower": make_user(graph, party_gln=farm["gln"]), "miller": make_user(graph, party_gln=mill["gln"]),
            "clerk": make_user(graph, party_gln=shop["gln"])}


class Phone:
    """One person's phone: a browser context of their own, logged in, that keeps each step's screenshot."""

    def __init__(self, chromium, base: str, user: dict | None, errors: list):
        self.context = chromium.new_context(**PHONE)
        self.page = self.context.new_page()
        self.base = base
        self.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        if user is not None:
            self.go("/work/login")
            self.page.fill("#login", user["username"])
            self.page.fill("#password", PASSWORD)
            self.click("#login-form button")
            assert self.page.url == base + "/work/"

    def go(self, path: str):
        response = self.page.goto(path if path.startswith("http") else self.base + path)
        assert response.status == 200, (path, response.status)
        return response

    def click(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()

    def shot(self, n: int, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"walk-{n:02d}-{name}.png"), full_page=True)
        wide = self.page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .map(e => e.tagName + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert self.page.evaluate("document.documentElement.scrollWidth") <= 390, wide  # no sideways scrolling

    def fetch(self, path: str) -> bytes:
        """A file as this logged-in browser downloads it (its cookies)."""
        answer = self.context.request.get(self.base + path)
        assert answer.status == 200, (path, answer.status)
        return answer.body()


def _qr(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def test_a_harvest_goes_from_farm_to_shop_on_phones_and_its_codes_scan(chromium, app, base_url, graph, walk,
                                                                       tmp_path, monkeypatch):
    # The codes printed in this walk must lead back to this server, as PUBLIC_BASE_URL does in a deployment.
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base_url)
    farm, mill, shop, paddy, rice = (walk[k] for k in ("farm", "mill", "shop", "paddy", "rice"))
    errors: list[str] = []
    tag = uuid.uuid4().hex[:4].upper()
    harvest_lot, rice_lot = f"H20261001-{tag}", f"P-{tag}"
    today = datetime.now(UTC).astimezone(CHINA).date()

    # 1. The grower registers a harvest with its plot, shelf life and two farm inputs (投入品).
    grower = Phone(chromium, base_url, walk["grower"], errors)
    grower.click("#go-batch")
    p = grower.page
    p.select_option("#gtin", paddy["gtin"])
    p.fill("#lot", harvest_lot)
    p.fill("#quantity", "500")
    p.fill("#plot", "东岗3号地")
    p.fill("#area_mu", "12.5")
    p.fill("#production_date", HARVEST_DAY.isoformat())
    p.fill("#shelf_days", str(PADDY_SHELF_DAYS))
    p.select_option("#input_kind_0", "pesticide")
    p.fill("#input_name_0", "吡虫啉")
    p.fill("#input_dose_0", "10克/亩")
    p.fill("#input_applied_0", "2026-08-20")
    p.fill("#input_safety_days_0", "14")
    p.select_option("#input_kind_1", "fertiliser")
    p.fill("#input_name_1", "复合肥")
    p.fill("#input_dose_1", "40公斤/亩")
    p.fill("#input_applied_1", "2026-05-10")
    p.fill("#input_safety_days_1", "0")
    grower.shot(1, "grower-registers-harvest")
    grower.click("#save")
    assert f"/work/lots/{paddy['gtin']}/{harvest_lot}" in p.url
    assert "吡虫啉" in grower.text("#farm-inputs") and "复合肥" in grower.text("#farm-inputs")
    paddy_expiry = HARVEST_DAY + timedelta(days=PADDY_SHELF_DAYS)
    assert paddy_expiry.isoformat() in grower.text("#lot")
    grower.shot(2, "harvest-lot-page")

    # 2. The grower issues the harvest's 合格证 (the mill's rice will cite it).
    grower.click("#certificate-link")
    grower.click("#certificate-form button[type=submit]")
    paddy_certificate = grower.text("#issued").split()[-1]
    assert paddy_certificate.startswith("HGZ-")
    grower.shot(3, "grower-issues-certificate")

    # 3. The grower ships 300 kg to the mill, picked by name.
    grower.go("/work/")
    grower.click("#go-ship")
    p.select_option("#lot_key", f"{paddy['gtin']}|{harvest_lot}")
    p.select_option("#destination_gln", mill["gln"])
    p.fill("#quantity", "300")
    p.fill("#document", f"DN-{tag}-1")
    grower.shot(4, "grower-ships-to-mill")
    grower.click("#ship-form button[type=submit]")
    assert p.locator("#done").count() == 1

    # 4. The mill confirms the delivery from its own inbound list.
    miller = Phone(chromium, base_url, walk["miller"], errors)
    m = miller.page
    inbound = miller.text("#inbound")
    assert "舒兰稻谷" in inbound and harvest_lot in inbound and "300 公斤" in inbound
    miller.shot(5, "mill-inbound-list")
    miller.click("#inbound button.small-button")
    assert harvest_lot in miller.text("#lots") and "300 公斤" in miller.text("#lots")
    miller.shot(6, "mill-received")

    # 5. The mill mills the paddy into rice: yield checked first, the new lot dated with its shelf life.
    miller.click("#go-transform")
    m.select_option("#in_key_0", f"{paddy['gtin']}|{harvest_lot}")
    m.fill("#in_quantity_0", "300")
    m.select_option("#out_gtin_0", rice["gtin"])
    m.fill("#out_lot_0", rice_lot)
    m.fill("#out_quantity_0", "210")
    m.fill("#production_date", today.isoformat())
    m.fill("#shelf_days", str(RICE_SHELF_DAYS))
    miller.click("#check")
    assert "70%" in miller.text("#yield")
    miller.shot(7, "mill-checks-yield")
    miller.click("#save")
    assert f"/work/lots/{rice['gtin']}/{rice_lot}" in m.url
    rice_expiry = today + timedelta(days=RICE_SHELF_DAYS)
    facts = miller.text("#lot")
    assert today.isoformat() in facts and rice_expiry.isoformat() in facts and "210 公斤" in miller.text("#mine")
    miller.shot(8, "rice-lot-page")

    # 6. Bagging: two cases of rice (aggregation into SSCC-numbered cases).
    cases = []
    for n, kilos in enumerate(("100", "60"), start=1):
        miller.go(f"/work/lots/{rice['gtin']}/{rice_lot}")
        miller.click("#actions #go-pack")
        sscc = m.input_value("#sscc")
        m.fill("#child_quantity_0", kilos)
        if n == 1:
            miller.shot(9, "mill-bags-into-a-case")
        miller.click("#save")
        assert sscc in miller.text("#packed")
        cases.append(sscc)
    miller.shot(10, "mill-bagged")
    packed = graph.query("MATCH (:Lot {key: $k})-[:PACKED_IN]->(u:LogisticUnit) RETURN u.sscc AS s", read=True,
                         k=f"lot:{rice['gtin']}:{rice_lot}")
    assert sorted(r["s"] for r in packed) == sorted(cases)

    # 7. The mill ships 100 kg of rice to the shop; the shop confirms from its inbound list.
    miller.go("/work/")
    miller.click("#go-ship")
    m.select_option("#lot_key", f"{rice['gtin']}|{rice_lot}")
    m.select_option("#destination_gln", shop["gln"])
    m.fill("#quantity", "100")
    miller.click("#ship-form button[type=submit]")
    clerk = Phone(chromium, base_url, walk["clerk"], errors)
    assert rice_lot in clerk.text("#inbound") and "100 公斤" in clerk.text("#inbound")
    clerk.shot(11, "shop-inbound-list")
    clerk.click("#inbound button.small-button")
    assert rice_lot in clerk.text("#lots") and "100 公斤" in clerk.text("#lots")
    assert rice_lot not in clerk.text("#inbound")
    clerk.shot(12, "shop-received")

    # 8. The mill prints labels: the single label's PNG preview, then a 10-label sheet (a print run).
    miller.go(f"/work/lots/{rice['gtin']}/{rice_lot}")
    miller.click("#labels-link")
    assert m.evaluate("document.querySelector('#preview').naturalWidth") > 0
    miller.shot(13, "mill-labels-page")
    preview = m.get_attribute("#preview", "src")
    [lot_link] = _qr(Image.open(io.BytesIO(miller.fetch(preview))))
    m.fill("#count", "10")
    with m.expect_download() as got:
        m.click("#run-form button[type=submit]")
    sheet = Path(got.value.path()).read_bytes()
    assert sheet.startswith(b"%PDF")
    item_links = [link for page in _pages(sheet, tmp_path) for link in _qr(page)]
    assert len(item_links) == 10 and len(set(item_links)) == 10

    # 9. The mill issues the rice's 合格证, citing the grower's; printed as PNG and PDF.
    miller.go(f"/work/lots/{rice['gtin']}/{rice_lot}")
    miller.click("#certificate-link")
    assert paddy_certificate in miller.text("#inputs")
    miller.click("#certificate-form button[type=submit]")
    rice_certificate = miller.text("#issued").split()[-1]
    miller.shot(14, "mill-issues-certificate")
    certificate_png = miller.fetch(f"/work/certificate/{rice_certificate}.png")
    assert _qr(Image.open(io.BytesIO(certificate_png))) == [lot_link]
    (ARTIFACTS / "walk-15-certificate.png").write_bytes(certificate_png)
    certificate_pdf = miller.fetch(f"/work/certificate/{rice_certificate}.pdf")
    (tmp_path / "certificate").mkdir()
    assert [link for page in _pages(certificate_pdf, tmp_path / "certificate") for link in _qr(page)] == [lot_link]

    # Every code names the rice lot with its dates (AI 11 production, AI 17 expiry), the sheet's with a serial.
    for link in (lot_link, *item_links):
        parts = urlsplit(link)
        assert link.startswith(base_url + f"/01/{rice['gtin']}/10/{rice_lot}")
        assert parse_qs(parts.query) == {"11": [_yymmdd(today)], "17": [_yymmdd(rice_expiry)]}
    assert all("/21/" in link for link in item_links) and "/21/" not in lot_link

    # 10. Scanned: the codes, opened in a shopper's browser, show the dates and the certificate.
    shopper = Phone(chromium, base_url, None, errors)
    for n, link in ((16, item_links[0]), (17, lot_link)):
        shopper.go(link)
        product = shopper.text("#product")
        assert "生产日期" in product and today.isoformat() in product
        assert "保质期至" in product and rice_expiry.isoformat() in product
        assert rice_certificate in product and "承诺达标合格证" in product
        shopper.shot(n, "shopper-scans-" + ("item" if n == 16 else "lot"))
    shopper.go(item_links[1])
    assert shopper.text("#verdict h1") == "正品"

    assert errors == []
    for person in (grower, miller, clerk, shopper):
        person.context.close()
