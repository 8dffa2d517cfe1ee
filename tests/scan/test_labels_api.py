"""Label API: every PNG/SVG/PDF QR decodes to the URI the resolver answers; print runs are atomic and unique."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from graph import serials as serial_store
from graph.errors import Conflict
from gs1.digital_link import parse_path
from labels.serials import make_serial, verify_serial
from tests import factories
from tests.labels.test_render import _svg_qr_to_image
from tests.scan import arrange

ROOT = Path(__file__).resolve().parents[2]


def _decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


def _pdf_pages(pdf: bytes, tmp_path) -> list[Image.Image]:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm missing: install Debian package poppler-utils (make setup does)")
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(tmp_path / "sheet.pdf"), str(tmp_path / "p")],
                   check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("p*.png"))]


def _owner(client, chain) -> dict:
    return factories.auth(arrange.token(client.application.extensions["graph"], chain.parties["plant"]))


def _resolves_to_genuine(client, uri: str, level: str) -> None:
    parts = urlsplit(uri)
    facts = client.get(parts.path + ("?" + parts.query if parts.query else ""),
                       headers={"Accept": "application/json"}).json
    assert facts["authenticity"]["verdict"] == "genuine" and facts["authenticity"]["level"] == level


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_lot_label_qr_decodes_to_the_digital_link_the_resolver_answers(client, chain, fmt, tmp_path):
    response = client.get(f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/label.{fmt}?size=100x70",
                          headers=_owner(client, chain))
    assert response.status_code == 200 and response.mimetype.startswith({"png": "image/png", "svg": "image/svg",
                                                                         "pdf": "application/pdf"}[fmt])
    uri = response.headers["X-Digital-Link"]
    assert uri.startswith(client.application.config["PUBLIC_BASE_URL"] + f"/01/{chain.box_gtin}/10/")
    assert uri.endswith("?11=261008&17=281007")
    if fmt == "png":
        img = Image.open(io.BytesIO(response.data))
        assert round(img.info["dpi"][0]) == 300
        decoded = _decode(img)
    elif fmt == "svg":
        decoded = _decode(_svg_qr_to_image(response.data)[0])
        assert "长白山人参礼盒" in response.get_data(as_text=True)
    else:
        decoded = [t for page in _pdf_pages(response.data, tmp_path) for t in _decode(page)]
    assert decoded == [uri]
    code = parse_path(uri)
    assert (code.gtin, code.lot, code.query) == (chain.box_gtin, chain.box_lot, {"11": "261008", "17": "281007"})
    _resolves_to_genuine(client, uri, "lot")


def test_item_label_carries_the_signed_serial(client, chain):
    serial = chain.serials[0]
    response = client.get(f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/label.png?serial={serial}&dpi=203"
                          "&size=40x30", headers=_owner(client, chain))
    assert response.status_code == 200
    assert _decode(Image.open(io.BytesIO(response.data))) == [response.headers["X-Digital-Link"]]
    assert parse_path(response.headers["X-Digital-Link"]).serial == serial
    _resolves_to_genuine(client, response.headers["X-Digital-Link"], "item")


@pytest.mark.parametrize(("query", "field"), [
    ("size=60x40", "size"), ("dpi=20", "dpi"), ("dpi=x", "dpi"), ("serial=" + "S" * 21, "serial"),
])
def test_bad_label_options_are_422_naming_the_field(client, chain, query, field):
    response = client.get(f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/label.png?{query}",
                          headers=_owner(client, chain))
    assert response.status_code == 422
    assert field in response.json["error"]["errors"]["query"]


def test_label_access_and_missing_things(client, chain, factory):
    url = f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/label.png"
    assert client.get(url).status_code == 401
    other = factory.party()
    assert client.get(url, headers=factories.auth(other["token"])).status_code == 403
    assert client.get(f"/api/v1/lots/{chain.box_gtin}/NOPE/label.png", headers=_owner(client, chain)).status_code \
        == 404
    assert client.get(url + "?serial=NOTANITEM", headers=_owner(client, chain)).status_code == 404
    bad = client.get(f"/api/v1/lots/{factories.bad_check_digit(chain.box_gtin)}/{chain.box_lot}/label.png",
                     headers=_owner(client, chain))
    assert bad.status_code == 422 and "gtin" in bad.json["error"]["errors"]["path"]


def test_print_run_returns_a_sheet_of_new_signed_items_that_resolve(client, graph, chain, secret, tmp_path):
    url = f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/print-runs"
    response = client.post(url, json={"count": 5, "size": "50x30"}, headers=_owner(client, chain))
    assert response.status_code == 201 and response.mimetype == "application/pdf"
    run_id = response.headers["X-Print-Run-Id"]
    uris = [t for page in _pdf_pages(response.data, tmp_path) for t in _decode(page)]
    assert len(uris) == 5 and len(set(uris)) == 5
    rows = graph.query(
        "MATCH (:Lot {key: $key})-[:HAS_ITEM {print_run: $run}]->(i:Item)-[:OF_PRODUCT]->(:Product {gtin: $gtin}) "
        "RETURN collect(i.serial) AS serials", read=True, key=f"lot:{chain.box_gtin}:{chain.box_lot}", run=run_id,
        gtin=chain.box_gtin)
    assert sorted(rows[0]["serials"]) == sorted(parse_path(u).serial for u in uris)
    for uri in uris:
        code = parse_path(uri)
        assert verify_serial(secret, code.gtin, code.lot, code.serial)
    _resolves_to_genuine(client, uris[0], "item")


def test_print_run_as_json_lists_uris_that_gs1s_validator_accepts(client, chain):
    response = client.post(f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/print-runs", json={"count": 3},
                           headers={**_owner(client, chain), "Accept": "application/json"})
    assert response.status_code == 201
    uris = [i["uri"] for i in response.json["items"]]
    assert len(uris) == 3 and all(i["element_string"].startswith(f"(01){chain.box_gtin}") for i in
                                  response.json["items"])
    if not shutil.which("node") or not (ROOT / "node_modules" / "digital-link.js").is_dir():
        pytest.skip("digital-link.js is not installed (npm ci)")
    proc = subprocess.run(["node", str(ROOT / "scripts" / "validate_dl.js")], input="\n".join(uris) + "\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == 3 and all(r.get("valid") for r in results), results


@pytest.mark.parametrize(("body", "field"), [({"count": 0}, "count"), ({"count": 1001}, "count"), ({}, "count"),
                                             ({"count": 2, "size": "A4"}, "size")])
def test_bad_print_runs_are_422(client, chain, body, field):
    response = client.post(f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/print-runs", json=body,
                           headers=_owner(client, chain))
    assert response.status_code == 422 and field in response.json["error"]["errors"]["json"]


def test_only_the_lots_producer_prints_runs(client, chain, factory):
    other = factory.party(roles=["processor"])
    response = client.post(f"/api/v1/lots/{chain.box_gtin}/{chain.box_lot}/print-runs", json={"count": 1},
                           headers=factories.auth(other["token"]))
    assert response.status_code == 403


def test_a_colliding_serial_rolls_the_run_back_and_retries(graph, chain, secret):
    taken = chain.serials[0]
    calls = iter([taken] + [make_serial(secret, chain.box_gtin, chain.box_lot) for _ in range(20)])
    run = serial_store.create_run(graph, chain.box_gtin, chain.box_lot, 3, lambda: next(calls))
    assert taken not in run["serials"] and len(set(run["serials"])) == 3
    stored = graph.query("MATCH (r:PrintRun {run_id: $run}) RETURN r.count AS n", read=True, run=run["run_id"])
    assert stored == [{"n": 3}]
    with pytest.raises(Conflict):
        serial_store.create_run(graph, chain.box_gtin, chain.box_lot, 1, lambda: taken)


def test_concurrent_print_runs_get_distinct_serials(graph, chain, secret):
    results, errors = [], []

    def run():
        try:
            results.append(serial_store.create_run(graph, chain.box_gtin, chain.box_lot, 40,
                                                   lambda: make_serial(secret, chain.box_gtin, chain.box_lot)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    serials = [s for r in results for s in r["serials"]]
    assert len(serials) == 160 and len(set(serials)) == 160
    n = graph.query("MATCH (i:Item) WHERE i.print_run IN $runs RETURN count(i) AS n", read=True,
                    runs=[r["run_id"] for r in results])[0]["n"]
    assert n == 160


def test_label_endpoints_are_in_the_openapi_description(client):
    spec = client.get("/openapi.json").json
    paths = spec["paths"]
    assert "/api/v1/lots/{gtin}/{lot}/print-runs" in paths
    assert "/api/v1/products/{gtin}/suspected-copies" in paths
    assert any(p.startswith("/api/v1/lots/{gtin}/{lot}/label.") for p in paths)
