"""The consumer page in headless Chromium on a phone-sized screen over real HTTP; screenshots go to artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import PHONE, browser_page, shot
from tests.scan import arrange
from tests.scan.conftest import item_path

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def phone():
    """One phone-sized page for the module's tests (the scan page keeps no session between them)."""
    with browser_page(PHONE) as page:
        yield page


def _shot(page, name: str) -> None:
    shot(page, name, fold=True)


def test_demo_box_page_on_a_phone(phone, base_url, chain):
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = phone.goto(base_url + item_path(chain, chain.serials[0]))
    assert response.status == 200
    assert phone.locator("#verdict h1").inner_text() == "正品"
    assert "长白山人参礼盒" in phone.locator("#product").inner_text()
    timeline = phone.locator("#chain li")
    assert timeline.count() >= 8
    assert "抚松县万良镇参园" in timeline.first.inner_text()
    assert "不合格" in phone.locator("#inspections").inner_text()
    # valid certificates only: the expired green food one is not shown as a credential
    assert "地理标志" in phone.locator("#certificates").inner_text()
    assert phone.locator("#certificates .badge-green_food").count() == 0
    # the stylesheet applied (CSP allows only our own files): the verdict card is green-bordered
    border = phone.locator("#verdict").evaluate("e => getComputedStyle(e).borderTopColor")
    assert border == "rgb(31, 111, 74)"
    # nothing overflows the phone's width
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    _shot(phone, "scan-genuine-zh")

    phone.locator("a.lang").click()
    phone.wait_for_load_state()
    assert phone.locator("#verdict h1").inner_text() == "Genuine"
    assert "lang=en" in phone.evaluate("document.cookie")
    _shot(phone, "scan-genuine-en")
    phone.context.clear_cookies()


def test_recalled_lot_page_on_a_phone(phone, base_url, graph, secret):
    recalled = arrange.ginseng_chain(graph, secret, boxes=1, farm_status="recalled")
    phone.goto(base_url + f"/01/{recalled.box_gtin}/10/{recalled.box_lot}")
    banner = phone.locator("#recall")
    assert banner.is_visible() and "召回通知" in banner.inner_text() and recalled.farm_lot in banner.inner_text()
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(179, 38, 30)"
    assert "停止食用" in banner.inner_text()
    # no green "registered" card right under the recall banner
    assert not phone.locator("#verdict").is_visible()
    _shot(phone, "scan-recalled-zh")


def test_forged_and_unknown_codes_on_a_phone(phone, base_url, chain):
    forged = chain.serials[0][:-1] + ("Z" if chain.serials[0][-1] != "Z" else "Y")
    phone.goto(base_url + item_path(chain, forged))
    assert phone.locator("#verdict h1").inner_text() == "疑似假冒"
    _shot(phone, "scan-forged-zh")
    response = phone.goto(base_url + f"/01/{chain.box_gtin}/10/NOSUCHLOT")
    assert response.status == 200 and phone.locator("#verdict h1").inner_text() == "疑似假冒：批次未登记"
    _shot(phone, "scan-unknown-zh")


def test_no_browser_download_was_needed():
    # Playwright must use Debian's chromium: its own browser cache stays empty.
    cache = Path.home() / ".cache" / "ms-playwright"
    assert not cache.exists() or not any(cache.glob("chromium-*")), shutil.which("chromium")
