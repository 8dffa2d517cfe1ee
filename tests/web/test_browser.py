"""The workbench in headless Chromium at phone size over real HTTP: log in, see home, switch to English.
Screenshots go to artifacts/ (git-ignored)."""

from __future__ import annotations

import pytest

from tests.browser import shot
from tests.web.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:
    shot(page, name)


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
    assert phone.locator("#go-batch").bounding_box()["height"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    _shot(phone, "work-home-zh")

    phone.locator("#lang").click()
    phone.wait_for_load_state()
    assert "Changbai Mountain ginseng" in phone.locator("#lots").inner_text()
    assert "250 kg" in phone.locator("#lots").inner_text()
    assert phone.locator("#go-batch").inner_text() == "Register a batch"
    _shot(phone, "work-home-en")

    phone.locator("#lots a.row").first.click()
    phone.wait_for_load_state()
    assert phone.locator("#lot h1").inner_text() == "Changbai Mountain ginseng"
    assert "250 kg" in phone.locator("#mine").inner_text()
    _shot(phone, "work-lot-en")
    phone.context.clear_cookies()
