"""The regulator trace page: served by us with its own script and style, nothing inline, nothing external."""

from __future__ import annotations

import re


def test_trace_page_loads_its_script_and_style_from_our_static_files(client):
    page = client.get("/regulator/trace")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html
    sources = [s for s in re.findall(r'(?:src|href)="([^"]+)"', html) if s != "#"]
    assert sources and all(s.startswith("/") for s in sources)
    for path in sources:
        asset = client.get(path)
        assert asset.status_code == 200, path
        asset.close()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
