"""The old regulator trace page's address sends people to the console's trace page (an account, no pasted token)."""

from __future__ import annotations


def test_the_old_trace_page_redirects_to_the_console_keeping_the_lot(client):
    page = client.get("/regulator/trace?gtin=06901234567892&lot=L1&token=x")
    assert page.status_code == 301
    assert page.headers["Location"] == "/console/trace?gtin=06901234567892&lot=L1"
