"""The demo province as a person reads it, compared with files a person checked (tests/golden/files).

Inputs are the demo's own objects only: the demo is loaded (idempotently) into the shared test database, and each
answer starts from a demo lot or item; the recall is the demo's own cadmium case (the first one opened on the
Meihekou milled rice lot). `make golden` rewrites the files; see tests/golden/golden.py and docs/testing.md.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from app import demo
from app.web.resolver import TEXT
from graph import recalls
from graph import scan as scan_store
from gs1.identifiers import lot_key
from gs1.timezones import CHINA
from tests.factories import auth
from tests.golden.golden import as_json, check, normalise, visible_text

# The day the consumer pages are read on: certificates and expiry dates are judged against it (the demo's own
# document date), not against the day the tests run.
DEMO_TODAY = date(2026, 11, 20)
BOM = "\ufeff"


@pytest.fixture(scope="module")
def province(app):
    """The demo province, loaded (or found loaded) through the app's API: its data and tokens."""
    return demo.load(app, only_if_empty=False)


@pytest.fixture(scope="module")
def regulator(province):
    return auth(province["tokens"]["regulator:regulator"])


@pytest.fixture(scope="module")
def cadmium_recall(graph, province):
    """The demo's own recall case: the first opened on the Meihekou milled rice lot (failed cadmium test)."""
    gtin, lot = province["data"].lots["MHM2026-1016"]
    cases = recalls.implicating(graph, lot_key(gtin, lot))
    assert cases, "the demo opens a recall on MHM2026-1016"
    return cases[0]


def test_demo_recall_spreadsheet_csv(client, regulator, cadmium_recall):
    response = client.get(f"/api/v1/recalls/{cadmium_recall}/export?format=csv", headers=regulator)
    assert response.status_code == 200
    body = response.get_data().decode("utf-8")
    # the bytes exactly: a byte-order mark, CRLF line ends; the golden file keeps the text with LF for reading
    assert body.startswith(BOM) and "\n" not in body.replace("\r\n", "")
    check("recall_cadmium.csv", body[1:].replace("\r\n", "\n"))


def test_demo_recall_spreadsheet_xlsx_cells(client, regulator, cadmium_recall):
    response = client.get(f"/api/v1/recalls/{cadmium_recall}/export?format=xlsx", headers=regulator)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.active
    lines = [f"sheet: {normalise(sheet.title)}"]
    # one JSON array per row: cell values with their types (a number stays a number, an empty cell is null)
    lines += [json.dumps(list(row), ensure_ascii=False) for row in sheet.iter_rows(values_only=True)]
    check("recall_cadmium.xlsx.txt", "\n".join(lines) + "\n")
    # and they are the CSV's cells, row for row
    csv_text = client.get(f"/api/v1/recalls/{cadmium_recall}/export?format=csv", headers=regulator).data
    cells = list(csv.reader(io.StringIO(csv_text.decode("utf-8-sig"))))
    assert [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)] == cells
    assert zipfile.ZipFile(io.BytesIO(response.data)).testzip() is None


def test_demo_trace_answer(client, regulator, province):
    """A regulator's trace of the Shulan 5 kg rice bags, back to the three paddy fields and forward to both
    supermarkets."""
    gtin, lot = province["data"].lots["SL5K2026-1017"]
    response = client.get(f"/api/v1/lots/{gtin}/{lot}/trace?direction=both", headers=regulator)
    assert response.status_code == 200, response.json
    check("trace_SL5K2026-1017_both.json", as_json(normalise(response.json)))


def _scan_links(province) -> list[tuple[str, str]]:
    """(name, path) of each consumer page link `flask demo load` prints (app/demo.describe)."""
    links = []
    for line in demo.describe(province).splitlines():
        m = re.match(r"\s+(.+?)\s+https?://[^/]+(/01/\S+)$", line)
        if m:
            links.append((re.sub(r"\W+", "_", m.group(1)).strip("_"), m.group(2)))
    return links


def _scrub_scans(text: str) -> str:
    """The line saying how often the code was scanned (and since when) depends on every scan before this one."""
    out = []
    for line in text.splitlines(keepends=True):
        for t in TEXT.values():
            said = re.escape(t["scans"]).replace(re.escape("{n}"), r"\d+")
            if re.match(said, line) or line.strip() == t["first_time"]:
                line = "[scan count and first scan date: scrubbed]\n"
        out.append(line)
    return "".join(out)


def _scrub_recall_time(text: str, opened_at: str) -> str:
    """The recall's own observation on the timeline is dated when the case opened (the day the demo was loaded)."""
    local = datetime.fromisoformat(opened_at.replace("Z", "+00:00")).astimezone(CHINA)
    text = text.replace(f"{local:%Y-%m-%d %H:%M}", "<recall opened at, local>")
    return text.replace(f"{local:%Y-%m-%d}", "<recall opened on, local>")  # the banner's day the recall was issued


def test_demo_consumer_pages_visible_text(app, graph, province, cadmium_recall, monkeypatch):
    opened_at = recalls.get(graph, cadmium_recall)["opened_at"]
    links = _scan_links(province)
    assert len(links) == 6, links
    monkeypatch.setattr(scan_store, "page", functools.partial(scan_store.page, today=DEMO_TODAY))
    client = app.test_client()
    failures = []
    for name, path in links:
        parts = []
        for lang in ("zh", "en"):
            # a prefetch shows the page as it stands without counting a scan (no one looked at the code)
            response = client.get(f"{path}?lang={lang}", headers={"Sec-Purpose": "prefetch"})
            assert response.status_code == 200, (path, response.status_code)
            text = visible_text(response.get_data(as_text=True))
            parts.append(f"===== {path}?lang={lang} =====\n" + _scrub_recall_time(_scrub_scans(text), opened_at))
        try:
            check(f"scan_{name}.txt", "".join(parts))
        except pytest.fail.Exception as exc:
            failures.append(str(exc))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
