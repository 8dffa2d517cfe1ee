"""The FSMA 204 records of the demo's Shulan rice 5 kg lot as a person reads them (every sheet, both header
languages, and the KDE gap list), compared with reviewed files (`make golden` rewrites them)."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from app import demo
from tests.factories import auth
from tests.golden.golden import check


@pytest.fixture(scope="module")
def province(app):
    return demo.load(app, only_if_empty=False)


@pytest.fixture(scope="module")
def rice_lot(province):
    gtin, lot = province["data"].lots["SL5K2026-1017"]
    return f"/api/v1/lots/{gtin}/{lot}/trace", auth(province["tokens"]["regulator:regulator"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_demo_fsma_workbook(client, rice_lot, lang):
    url, regulator = rice_lot
    response = client.get(f"{url}/fsma?lang={lang}", headers=regulator)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    lines = []
    for sheet in book.worksheets:
        lines.append(f"## {sheet.title} (filter {sheet.auto_filter.ref}, frozen {sheet.freeze_panes})")
        for row in sheet.iter_rows(values_only=True):
            lines.append("\t".join("" if v is None else str(v) for v in row))
    check(f"fsma_SL5K2026-1017_{lang}.txt", "\n".join(lines) + "\n")


def test_demo_kde_gaps(client, rice_lot):
    url, regulator = rice_lot
    response = client.get(f"{url}/kde-gaps", headers=regulator)
    assert response.status_code == 200
    check("fsma_SL5K2026-1017_kde_gaps.json", json.dumps(response.json, ensure_ascii=False, indent=1) + "\n")
