"""The workbench in headless Chromium at phone size over real HTTP: log in, see home, switch to English.
Screenshots go to artifacts/ (git-ignored)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.scan.test_browser import ARGS, ARTIFACTS, CHROMIUM
from tests.web.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(app):
    """The real app over HTTP (werkzeug's server in a thread)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def phone():
    """A headless Chromium page the size of a phone (390 x 844 CSS pixels), Chinese by default."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_grower_logs_in_on_a_phone_and_sees_home(phone, base_url, graph, factory):
    farm = factory.party(name_zh="抚松县手机参园", name_en="Fusong Phone Ginseng Farm")
    product = factory.product(farm["gln"], name_zh="长白山人参", name_en="Changbai Mountain ginseng")
    lot = factory.lot(product["gtin"], farm["gln"], quantity=250.0)
    user = make_user(graph, party_gln=farm["gln"])
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    response = phone.goto(base_url + "/work/")
    assert response.status == 200 and phone.url.startswith(base_url + "/work/login")
    assert phone.locator("h1").inner_text() == "登录"
    _shot(phone, "work-login-zh")
    phone.fill("#login", user["username"])
    phone.fill("#password", PASSWORD)
    phone.click("#login-form button")
    phone.wait_for_load_state()
    assert phone.url == base_url + "/work/"
    assert "抚松县手机参园" in phone.locator("#who").inner_text()
    lots = phone.locator("#lots").inner_text()
    assert "长白山人参" in lots and lot["lot"] in lots and "250 公斤" in lots
    # the stylesheet applied (CSP allows only our own files): touch targets are at least 44 px high
    assert phone.locator("#go-harvest").bounding_box()["height"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    _shot(phone, "work-home-zh")

    phone.locator("#lang").click()
    phone.wait_for_load_state()
    assert "Changbai Mountain ginseng" in phone.locator("#lots").inner_text()
    assert "250 kg" in phone.locator("#lots").inner_text()
    assert phone.locator("#go-harvest").inner_text() == "Register a harvest"
    _shot(phone, "work-home-en")

    phone.locator("#lots a.row").first.click()
    phone.wait_for_load_state()
    assert phone.locator("#lot h1").inner_text() == "Changbai Mountain ginseng"
    assert "250 kg" in phone.locator("#mine").inner_text()
    _shot(phone, "work-lot-en")
    phone.context.clear_cookies()
