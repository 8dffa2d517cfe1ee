"""A temperature excursion on the owner's workbench lot page, in headless Chromium at phone size over real HTTP: the
slaughterhouse that owns a lot on an over-warm pallet logs in and reads the warning (Chinese, then English); the
lot left at home shows none. Screenshots go to artifacts/ (git-ignored)."""

from __future__ import annotations

import pytest

from tests.browser import shot
from tests.capture.test_cold_chain import _alerts_of, _capture, _excursion_shipment, beef  # noqa: F401 - fixture
from tests.supervision.helpers import regulator_token
from tests.web.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_the_owner_reads_the_excursion_on_its_lot_page(phone, base_url, client, graph, beef):  # noqa: F811
    event = _excursion_shipment(beef, [(None, 3.0, "CEL"), (None, 6.5, "CEL")])
    assert _capture(client, beef["dist"]["token"], event)["success"]
    alert = _alerts_of(client, regulator_token(graph), event["eventID"])[0]
    owner = make_user(graph, role="producer", party_gln=beef["house"]["gln"])
    a = f"/work/lots/{beef['gtin_of']['A']}/{beef['lots']['A']}"
    phone.goto(base_url + a)
    phone.fill("#login", owner["username"])
    phone.fill("#password", PASSWORD)
    phone.click("#login-form button")
    phone.wait_for_load_state()
    assert phone.url == base_url + a
    warning = phone.locator(f"#warnings [data-alert='{alert['alert_id']}']")
    assert warning.is_visible()
    text = warning.inner_text()
    assert "温度超标" in text and "6.5 °C" in text and "0–4 °C" in text and "发货" in text
    assert event["eventID"] in text
    # the first screen of a phone: the section is no wider than the screen
    assert phone.locator("#warnings").bounding_box()["width"] <= 390
    shot(phone, "cold-chain-lot-zh")
    phone.goto(base_url + a + "?lang=en")
    text = phone.locator("#warnings").inner_text()
    assert "Temperature excursion" in text and "6.5 °C" in text and "0–4 °C" in text
    assert "Shipped (" in text and "1 reading outside" in text and "readings outside" not in text
    shot(phone, "cold-chain-lot-en")
    # a lot that never left the slaughterhouse shows no warning
    phone.goto(base_url + f"/work/lots/{beef['gtin_of']['E']}/{beef['lots']['E']}")
    assert phone.locator("#lot").is_visible() and phone.locator("#warnings").count() == 0
