"""The console in headless Chromium at desktop size over real HTTP: a regulator logs in, sees the cadmium failure
below target on the overview (ECharts drew it), opens the trace (Cytoscape.js drew it), opens a recall from the
selected lots and lands on the case page; a producer is refused. Screenshots go to artifacts/ (git-ignored)."""

from __future__ import annotations

import pytest

from tests.browser import browser_page, shot
from tests.web.helpers import PASSWORD, make_user
from tests.web.test_console import make_cadmium_case

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def console_url(base_url):
    """The real app over HTTP (tests/browser.py)."""
    return base_url


@pytest.fixture
def desk():
    """A headless Chromium page the size of an office screen (1440 x 900), Chinese by default, that keeps the
    browser's console errors and page errors in page.errors."""
    with browser_page({"viewport": {"width": 1440, "height": 900}}) as page:
        page.errors = []
        page.on("console", lambda m: page.errors.append((page.url, m.text)) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page


def _shot(page, name: str) -> None:
    shot(page, name)


def _login(page, base: str, target: str, username: str) -> None:
    page.goto(base + target)
    assert "/work/login" in page.url
    page.fill("#login", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button")
    page.wait_for_load_state()


def test_a_regulator_sees_the_failure_traces_it_and_opens_a_recall(desk, console_url, client, graph, factory):
    case = make_cadmium_case(client, factory)
    user = make_user(graph, role="regulator")
    query = (f"/console/?programme=routine_monitoring&category=rice&region={case['county']}"
             f"&from={case['from']}&to={case['to']}")
    _login(desk, console_url, query, user["username"])
    assert desk.url == console_url + query
    desk.wait_for_selector("#chart-categories[data-ready] svg")
    assert "50%" in desk.locator("#tile-rate").inner_text() or "50.0%" in desk.locator("#tile-rate").inner_text()
    assert "bad" in desk.locator("#tile-rate").get_attribute("class")
    below = desk.locator("#below").inner_text()
    assert "大米" in below and "50.0%" in below and "97.0%" in below
    # the chart's bar for rice is drawn red (below target)
    assert desk.locator("#chart-categories svg path[fill='#b3261e']").count() >= 1
    _shot(desk, "console-overview-zh")

    # the failed inspection's alert leads to the lot it put on hold
    desk.goto(f"{console_url}/console/alerts?state=open&kind=inspection_failed")
    desk.locator("#rows a", has_text=case["reports"]["fail"]).first.click()
    desk.wait_for_selector("#trace-graph[data-ready] canvas")
    assert desk.url.startswith(f"{console_url}/console/trace?gtin={case['product']['gtin']}")
    assert int(desk.locator("#trace-graph").get_attribute("data-ready")) == 4  # the lot and its 3 parties
    legend = desk.locator("#legend").inner_text()
    assert "已召回" in legend and "暂停销售" in legend and "检验不合格" in legend
    moves = desk.locator("#movements").inner_text()
    assert case["dc"]["name_zh"] in moves and case["shop"]["name_zh"] in moves
    picked = desk.locator("#trace-lots input[type=checkbox]:checked")
    assert picked.count() == 1  # the failed lot comes selected
    _shot(desk, "console-trace-zh")
    desk.fill("#r-reason", f"镉超标 报告 {case['reports']['fail']}")
    desk.click("#open-recall")
    desk.wait_for_selector("#recall-id")
    assert "/console/recalls/RC-" in desk.url
    assert desk.locator("#opened").is_visible()
    holders = desk.locator("#holders").inner_text()
    assert case["dc"]["name_zh"] in holders and "13900000001" in holders
    assert "剩余" in desk.locator("#due-complete_by").inner_text()
    desk.wait_for_selector("#chart-effect[data-ready]")
    assert "0/1000 公斤" in desk.locator("#case-effect").inner_text()
    # an acknowledgement the officer records moves the case's effectiveness: 300 of 1000 kg recovered
    desk.select_option("#ack-party", case["dc"]["gln"])
    desk.fill("#ack-removed", "400")
    desk.fill("#ack-recovered", "300")
    desk.click("#ack-go")
    desk.wait_for_selector("#acked")
    assert "300/1000 公斤 (30%)" in desk.locator("#case-effect").inner_text()
    desk.wait_for_selector("#chart-effect[data-ready]")
    _shot(desk, "console-recall-zh")
    desk.click("#lang")
    desk.wait_for_load_state()
    assert "Holders" in desk.locator("#holders").inner_text()
    _shot(desk, "console-recall-en")
    assert desk.errors == []


def test_a_producer_is_refused_the_console(desk, console_url, graph, factory):
    farm = factory.party()
    producer = make_user(graph, party_gln=farm["gln"])
    _login(desk, console_url, "/console/", producer["username"])
    assert desk.locator("#problem h1").inner_text() == "无权访问"
    assert desk.locator("#menu").count() == 0 and "监管" in desk.locator("#problem").inner_text()
    _shot(desk, "console-refused-zh")


def test_the_overview_fits_a_phone(phone, console_url, client, graph, factory):
    """Desktop first, usable on a phone: nothing wider than the screen but the tables, which scroll in place."""
    case = make_cadmium_case(client, factory)
    user = make_user(graph, role="regulator")
    page = phone
    query = f"/console/?programme=routine_monitoring&region={case['county']}&from={case['from']}&to={case['to']}"
    _login(page, console_url, query, user["username"])
    page.wait_for_selector("#chart-categories[data-ready] svg")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#chart-categories").bounding_box()["width"] <= 390
    _shot(page, "console-overview-phone-zh")
    page.goto(console_url + query + "&lang=en")
    page.wait_for_selector("#chart-categories[data-ready] svg")
    assert page.locator("h1").inner_text() == "Pass rates and risks"
    assert "Routine monitoring" in page.locator("#tile-rate").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "console-overview-phone-en")
