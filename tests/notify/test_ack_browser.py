"""The holder's one-time link in headless Chromium at phone size: Chinese first, English switch, confirm once.
Screenshots in artifacts/ (git-ignored)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.notify import run_worker
from tests.factories import auth
from tests.notify.test_ack_link import _link_of

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_a_shop_confirms_removal_on_its_phone(served, client, graph, notify_app, mailbox, chain, regulator):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    opened = client.post("/api/v1/recalls", json={"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}],
                                                  "reason": "镉超标", "level": 1}, headers=auth(regulator))
    recall_id = opened.json["recall_id"]
    run_worker(notify_app, recall_id=recall_id, once=True)
    path = _link_of(mailbox, graph, recall_id, chain["retailers"][1]["gln"])
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        try:
            assert page.goto(served + path).status == 200
            assert page.locator("h1").inner_text() == "召回确认"
            assert page.locator("#reason").inner_text() == "镉超标"
            assert "公斤" in page.locator("#held").inner_text()  # a unit's name, not its code (KGM)
            # it fits the phone: no sideways scrolling
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=str(ARTIFACTS / "recall-ack-zh.png"), full_page=True)
            page.click("#lang")
            assert page.locator("h1").inner_text() == "Recall confirmation"
            page.fill("#quantity_removed", "2")
            page.click("#confirm")
            assert page.locator("#done h1").inner_text() == "Confirmed"
            page.screenshot(path=str(ARTIFACTS / "recall-ack-done-en.png"), full_page=True)
            page.goto(served + path)
            assert page.locator("#used").count() == 1
        finally:
            context.close()
            browser.close()
    case = client.get(f"/api/v1/recalls/{recall_id}", headers=auth(regulator)).json
    shop = next(h for h in case["holders"] if h["party"]["gln"] == chain["retailers"][1]["gln"])
    assert [a["quantity_removed"] for a in shop["acknowledgements"]] == [2.0]


def test_a_shopper_reads_the_recall_notice_on_a_phone(served, client, chain, regulator):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    opened = client.post("/api/v1/recalls", json={"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}],
                                                  "reason": "黄曲霉毒素超标", "level": 1,
                                                  "refund_contact": "吉林参业 400-800-1234"}, headers=auth(regulator))
    recall_id = opened.json["recall_id"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        try:
            assert page.goto(f"{served}/recall/{recall_id}").status == 200
            assert page.locator("h1").inner_text() == "⚠ 食品召回公告"
            assert page.locator("#reason").inner_text() == "黄曲霉毒素超标"
            assert chain["lot"]["lot"] in page.locator("#lots").inner_text()
            assert page.locator("#refund").inner_text() == "吉林参业 400-800-1234"
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            # the first screen says what it is, why and what to do without scrolling
            assert page.locator("#todo").bounding_box()["y"] < 844 * 1.5
            page.screenshot(path=str(ARTIFACTS / "recall-notice-zh.png"), full_page=True)
            page.click("#lang")
            assert page.locator("h1").inner_text() == "⚠ Food recall notice"
            page.screenshot(path=str(ARTIFACTS / "recall-notice-en.png"), full_page=True)
        finally:
            context.close()
            browser.close()
