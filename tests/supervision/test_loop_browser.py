"""The supervision loop's public pages in real headless Chromium at phone size: a blacklisted producer's consumer
page warns and links the report form; a report is filed like a person would (typing, waiting, tapping) and its
number followed; a published 双随机 plan fits the screen. Screenshots in artifacts/ (loop-*)."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from graph import users
from tests.browser import shot
from tests.factories import auth
from tests.supervision.helpers import regulator_token

pytestmark = pytest.mark.browser


def test_a_consumer_sees_the_warning_and_files_a_report(phone, base_url, client, graph, factory):
    farm = factory.party(name_zh="浏览器失信农场")
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"])
    regulator = regulator_token(graph)
    r = client.post(f"/api/v1/credit/{farm['gln']}/changes", headers=auth(regulator),
                    json={"status": "blacklist", "event_kind": "counterfeit", "reason": "制售假冒产品"})
    assert r.status_code == 201
    errors = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    phone.goto(f"{base_url}/page/01/{product['gtin']}/10/{lot['lot']}")
    banner = phone.locator('[data-credit="blacklist"]')
    assert "严重违法失信名单" in banner.inner_text() and "浏览器失信农场" in banner.inner_text()
    assert banner.bounding_box()["y"] < 844  # on the first screen
    shot(phone, "loop-scan-blacklist-phone-zh", fold=True)
    phone.click("#report-violation")
    phone.fill("textarea[name=text]", "二维码扫出的产地与包装不符")
    phone.fill("input[name=phone]", "139" + f"{random.randrange(10**8):08d}")
    trap = phone.locator("input[name=website]").bounding_box()
    assert trap is None or trap["x"] + trap["width"] <= 0  # the honeypot is off-screen: not for people
    shot(phone, "loop-report-form-phone-zh")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # the long code wraps
    phone.wait_for_timeout(3500)  # a person takes longer than the form's minimum
    phone.click("button[type=submit]")
    number = phone.locator("#report-no").inner_text()
    assert re.fullmatch(r"JB-\d{8}-[0-9A-Z]{8}", number)
    assert "已受理" in phone.locator("#report-state").inner_text()
    shot(phone, "loop-report-status-phone-zh")
    phone.click("#lang")
    assert "Received" in phone.locator("#report-state").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []


def test_a_published_plan_fits_a_phone(phone, base_url, client, graph, factory):
    parties = [factory.party(region_code="220723", region_zh="乾安县", name_zh=f"乾安食用菌{n}") for n in range(3)]
    for p in parties:
        factory.product(p["gln"], category="fungi")
    pool = [users.create(graph, {"username": f"b{uuid.uuid4().hex[:10]}", "role": "regulator",
                                 "display_name": f"执法员{n}"}, "h")["user_id"] for n in range(2)]
    regulator = regulator_token(graph)
    plan = client.post("/api/v1/sampling-plans", headers=auth(regulator), json={
        "title": "乾安县食用菌双随机抽查", "categories": ["fungi"], "region_code": "220723", "target_count": 2,
        "per_target": 1, "inspector_ids": pool}).get_json()
    drawn = client.post(f"/api/v1/sampling-plans/{plan['plan_id']}/draw", headers=auth(regulator), json={}).get_json()
    phone.goto(f"{base_url}/public/sampling-plans/{plan['plan_id']}")
    assert drawn["seed"] in phone.inner_text("main") and "乾安县" in phone.inner_text("dl")
    assert phone.locator("tbody tr").count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "loop-plan-phone-zh")
    phone.click("#lang")
    assert "Random inspection plan" in phone.inner_text("main") and "Qian'an" in phone.inner_text("dl")
