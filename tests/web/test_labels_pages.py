"""Label pages on the real app and Neo4j: a 10-label sheet printed from the lot page scans as genuine, a reprint
gives the same serials and makes none, a start position skips cells, another party's lot and an unscannable
PUBLIC_BASE_URL in production are refused with nothing written."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from app.web.work.labels import base_url_unscannable
from gs1.digital_link import parse_path
from labels.serials import verify_serial
from tests.labels.test_sheet import _cells, _pages, _text
from tests.web.helpers import audit_entries, login, make_user, post


@pytest.fixture
def lot(graph, factory):
    """A ginseng lot of a fresh farm, and the farm's logged-in user (a test client of its own)."""
    farm = factory.party()
    product = factory.product(farm["gln"])
    made = factory.lot(product["gtin"], farm["gln"])
    return {"farm": farm, "gtin": product["gtin"], "lot": made["lot"], "user": make_user(graph, party_gln=farm["gln"])}


def _page(x: dict) -> str:
    return f"/work/labels/{x['gtin']}/{x['lot']}"


def _serials(graph, x: dict) -> list[str]:
    rows = graph.query("MATCH (:Lot {key: $k})-[:HAS_ITEM]->(i:Item) RETURN i.serial AS s ORDER BY s", read=True,
                       k=f"lot:{x['gtin']}:{x['lot']}")
    return [r["s"] for r in rows]


def _runs(graph, x: dict) -> int:
    return graph.query("MATCH (:Lot {key: $k})-[:HAS_PRINT_RUN]->(r:PrintRun) RETURN count(r) AS n", read=True,
                       k=f"lot:{x['gtin']}:{x['lot']}")[0]["n"]


def _print(client, x: dict, count: int = 10, start: int = 1, size: str = "50x30"):
    return post(client, _page(x) + "/runs", {"count": str(count), "size": size, "start": str(start)}, _page(x))


def _decoded(pdf: bytes, tmp_path) -> list[str]:
    return [t for page in _pages(pdf, tmp_path) for t in
            (r.text for r in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode))]


def test_the_lot_page_links_its_owner_to_labels_and_certificates(client, lot):
    login(client, lot["user"]["username"])
    html = client.get(f"/work/lots/{lot['gtin']}/{lot['lot']}").get_data(as_text=True)
    assert f'href="{_page(lot)}"' in html and "打印标签" in html and "开具合格证" in html
    page = client.get(_page(lot) + "?size=100x70&lang=en")
    assert page.status_code == 200 and "Print again" not in page.get_data(as_text=True)  # no runs yet
    assert "Nothing printed yet." in page.get_data(as_text=True)


@pytest.mark.parametrize("size", ["40x30", "50x30", "100x70"])
def test_the_single_label_previews_as_png_and_downloads_as_pdf_at_each_size(client, lot, size, tmp_path):
    login(client, lot["user"]["username"])
    png = client.get(_page(lot) + f"/label.png?size={size}")
    assert png.status_code == 200 and png.mimetype == "image/png"
    uri = png.headers["X-Digital-Link"]
    img = Image.open(io.BytesIO(png.data))
    mm = {"40x30": (40, 30), "50x30": (50, 30), "100x70": (100, 70)}[size]
    assert img.size == (round(mm[0] / 25.4 * 203), round(mm[1] / 25.4 * 203))
    assert [r.text for r in zxingcpp.read_barcodes(img)] == [uri]
    pdf = client.get(_page(lot) + f"/label.pdf?size={size}")
    assert pdf.status_code == 200 and "attachment" in pdf.headers["Content-Disposition"]
    assert _decoded(pdf.data, tmp_path) == [uri]
    assert parse_path(uri).lot == lot["lot"] and parse_path(uri).serial is None


def test_a_ten_label_sheet_scans_as_genuine_items_and_is_audited(app, client, graph, lot, tmp_path):
    login(client, lot["user"]["username"])
    response = _print(client, lot)
    assert response.status_code == 201 and response.mimetype == "application/pdf"
    run_id = response.headers["X-Print-Run-Id"]
    uris = _decoded(response.data, tmp_path)
    assert len(uris) == 10 and len(set(uris)) == 10
    assert sorted(parse_path(u).serial for u in uris) == _serials(graph, lot)
    for uri in uris:
        code = parse_path(uri)
        assert verify_serial(app.config["SECRET_KEY"], code.gtin, code.lot, code.serial)
        parts = urlsplit(uri)
        facts = client.get(parts.path + ("?" + parts.query if parts.query else ""),
                           headers={"Accept": "application/json"}).json
        assert (facts["authenticity"]["verdict"], facts["authenticity"]["level"]) == ("genuine", "item")
    header = _text(response.data, tmp_path)
    assert f"印刷批次 {run_id}" in header and f"批号 {lot['lot']}" in header and "10 枚" in header
    [entry] = audit_entries(graph, _page(lot) + "/runs", f"token:user:{lot['user']['user_id']}")
    assert (entry["party_gln"], entry["outcome"], entry["status"]) == (lot["farm"]["gln"], "done", 201)
    stored = graph.query("MATCH (r:PrintRun {run_id: $id}) RETURN r.created_by AS by", read=True, id=run_id)
    assert stored == [{"by": f"user:{lot['user']['user_id']}"}]
    listed = client.get(_page(lot)).get_data(as_text=True)
    assert run_id[:8] in listed and f"/runs/{run_id}" in listed


def test_a_reprint_gives_the_same_serials_and_makes_none(client, graph, lot, tmp_path):
    login(client, lot["user"]["username"])
    first = _print(client, lot, count=4)
    run_id = first.headers["X-Print-Run-Id"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    printed = _decoded(first.data, tmp_path / "a")
    serials_before, runs_before = _serials(graph, lot), _runs(graph, lot)
    again = post(client, f"{_page(lot)}/runs/{run_id}", {"size": "50x30", "start": "1"}, _page(lot))
    assert again.status_code == 200 and again.headers["X-Print-Run-Id"] == run_id
    assert _decoded(again.data, tmp_path / "b") == printed  # the same codes in the same cells
    assert (_serials(graph, lot), _runs(graph, lot)) == (serials_before, runs_before)
    assert "补印于" in _text(again.data, tmp_path)
    unknown = post(client, f"{_page(lot)}/runs/no-such-run", {"size": "50x30"}, _page(lot))
    assert unknown.status_code == 404


def test_the_start_position_skips_the_used_cells_of_a_sheet(client, lot, tmp_path):
    login(client, lot["user"]["username"])
    run = _print(client, lot, count=3, start=6)
    (page,) = _pages(run.data, tmp_path)
    assert sorted(_cells(page, "50x30").values()) == [5, 6, 7]
    again = post(client, f"{_page(lot)}/runs/{run.headers['X-Print-Run-Id']}", {"size": "100x70", "start": "3"},
                 _page(lot))
    (tmp_path / "again").mkdir()
    (page,) = _pages(again.data, tmp_path / "again")
    assert sorted(_cells(page, "100x70").values()) == [2, 3, 4]
    assert _print(client, lot, count=3, start=37).status_code == 422  # a 50x30 sheet has 36 cells


def test_another_partys_lot_is_refused_and_nothing_is_printed(app, graph, factory, lot):
    stranger = make_user(graph, party_gln=factory.party()["gln"])
    client = app.test_client()
    login(client, stranger["username"])
    assert client.get(_page(lot)).status_code == 403
    assert client.get(_page(lot) + "/label.png").status_code == 403
    refused = post(client, _page(lot) + "/runs", {"count": "5", "size": "50x30"})
    assert refused.status_code == 403 and "只有批次的所有者" in refused.get_data(as_text=True)
    assert (_serials(graph, lot), _runs(graph, lot)) == ([], 0)
    html = client.get(f"/work/lots/{lot['gtin']}/{lot['lot']}").get_data(as_text=True)
    assert "print-links" not in html


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost:8000", "https://[::1]", ""])
def test_print_runs_are_refused_in_production_while_the_public_address_is_loopback(app, client, graph, lot,
                                                                                   monkeypatch, base):
    login(client, lot["user"]["username"])
    monkeypatch.setitem(app.config, "ENV", "production")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base)
    page = client.get(_page(lot)).get_data(as_text=True)
    assert 'id="base-url-warning"' in page
    refused = _print(client, lot)
    assert refused.status_code == 503 and "PUBLIC_BASE_URL" in refused.get_data(as_text=True)
    assert client.get(_page(lot) + "/label.pdf").status_code == 503
    assert (_serials(graph, lot), _runs(graph, lot)) == ([], 0)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://id.tracegraph.example")
    done = _print(client, lot, count=2)
    assert done.status_code == 201 and len(_serials(graph, lot)) == 2


def test_which_public_addresses_cannot_be_scanned():
    assert base_url_unscannable("http://127.0.0.2:8000", "production")
    assert base_url_unscannable("http://0.0.0.0", "production")
    assert base_url_unscannable("https://app.localhost", "production")
    assert not base_url_unscannable("https://id.tracegraph.cn", "production")
    assert not base_url_unscannable("http://10.0.0.5", "production")  # a LAN address a phone on the wifi reaches
    assert not base_url_unscannable("http://127.0.0.1:8000", "development")
