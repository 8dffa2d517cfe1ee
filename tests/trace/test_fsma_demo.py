"""The demo rice chain (Shulan rice 5 kg, lot SL5K2026-1017, both directions) checked against FSMA 204's table.

The demo's events are fixed (fixed eventIDs in every installed store: a changed event would be a conflicting
resend), so this test states what the chain has and lacks as loaded; docs/epcis.md says why.
"""

from __future__ import annotations

import pytest

from app import demo
from tests.factories import auth


@pytest.fixture(scope="module")
def province(app):
    return demo.load(app, only_if_empty=False)


def test_the_demo_rice_chain_has_every_element_but_receipt_and_milling_documents(client, province):
    regulator = auth(province["tokens"]["regulator:regulator"])
    gtin, lot = province["data"].lots["SL5K2026-1017"]
    response = client.get(f"/api/v1/lots/{gtin}/{lot}/trace/kde-gaps", headers=regulator)
    assert response.status_code == 200, response.json
    missing = {(g["cte"], tuple(m["kde"] for m in g["missing"])) for g in response.json}
    assert missing == {("receiving", ("doc_type", "doc_number")), ("transformation", ("doc_type", "doc_number"))}
    # every shipment of the chain is complete: 6 farm -> mill, mill -> DC, DC -> 2 stores (lots on this trace only)
    sheet = client.get(f"/api/v1/lots/{gtin}/{lot}/trace/fsma", headers=regulator)
    assert sheet.status_code == 200
