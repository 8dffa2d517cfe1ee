"""Scan recording in batches and copy detection: impossible travel, scans after the sale, forged serials."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from graph import scan
from labels.serials import ALPHABET
from tests import factories
from tests.scan import arrange
from tests.scan.conftest import item_path

JSON = {"Accept": "application/json"}
CHANGCHUN, SHANGHAI = "43.88,125.32", "31.23,121.47"


def _scan(client, path, ua, geo=None):
    query = f"?geo={geo}" if geo else ""
    return client.get(path + query, headers={**JSON, "User-Agent": ua}).json


def test_every_scan_is_recorded_with_a_hashed_client_and_a_coarse_place(client, graph, chain, flush):
    path = item_path(chain, chain.serials[1])
    _scan(client, path, "phone-a", "43.8765,125.3210")
    flush()
    rows = graph.query(
        "MATCH (s:Scan)-[:OF_ITEM]->(i:Item {serial: $serial}) MATCH (s)-[:OF_LOT]->(l:Lot) "
        "RETURN s {.*} AS s, i.scan_count AS n, l.lot AS lot", read=True, serial=chain.serials[1])
    assert len(rows) == 1 and rows[0]["n"] == 1 and rows[0]["lot"] == chain.box_lot
    s = rows[0]["s"]
    assert (s["lat"], s["lon"]) == (43.9, 125.3)
    assert s["verdict"] == "genuine" and len(s["fp"]) == 16
    assert "127.0.0.1" not in str(s) and "phone-a" not in str(s)
    # the next scan of the same box says how often it was looked at
    assert _scan(client, path, "phone-a")["item"]["scan_count"] == 1


def test_a_box_in_two_cities_at_once_is_a_suspected_copy(client, chain, flush, factory):
    path = item_path(chain, chain.serials[2])
    assert _scan(client, path, "phone-cc", CHANGCHUN)["authenticity"]["verdict"] == "genuine"
    flush()
    facts = _scan(client, path, "phone-sh", SHANGHAI)
    assert facts["authenticity"] == {"verdict": "suspected_copy", "level": "item", "reason": "impossible_travel"}
    flush()
    # it stays flagged for everyone, and the brand owner sees it in the report
    assert _scan(client, path, "phone-cc")["authenticity"]["verdict"] == "suspected_copy"
    html = client.get(path).get_data(as_text=True)
    assert "疑似仿冒" in html
    owner = chain.parties["plant"]
    report = client.get(f"/api/v1/products/{chain.box_gtin}/suspected-copies",
                        headers=factories.auth(_token(client, owner)))
    assert report.status_code == 200
    flagged = {i["serial"]: i for i in report.json["suspected_items"]}
    assert flagged[chain.serials[2]]["suspect_reason"] == "impossible_travel"
    assert "km in" in flagged[chain.serials[2]]["suspect_detail"]
    assert len(flagged[chain.serials[2]]["places"]) == 2


def test_the_same_client_moving_is_not_a_copy(client, chain, flush):
    path = item_path(chain, chain.serials[0])
    _scan(client, path, "phone-vpn", CHANGCHUN)
    flush()
    assert _scan(client, path, "phone-vpn", SHANGHAI)["authenticity"]["verdict"] == "genuine"


def test_a_sold_box_scanned_by_many_clients_is_a_suspected_copy(client, chain, flush):
    path = item_path(chain, chain.sold_serial)
    for n in range(scan.MAX_CLIENTS_AFTER_SALE):
        assert _scan(client, path, f"buyer-{n}")["authenticity"]["verdict"] == "genuine"
        flush()
    facts = _scan(client, path, "stranger")
    assert facts["authenticity"]["reason"] == "many_clients_after_sale"


def test_forged_serials_are_reported_to_the_brand_owner_not_to_others(client, chain, flush, factory):
    good = chain.serials[0]
    forged = good[:10] + "".join(ALPHABET[(ALPHABET.index(c) + 1) % 32] for c in good[10:])
    assert _scan(client, item_path(chain, forged), "forger", CHANGCHUN)["authenticity"]["verdict"] == \
        "invalid_signature"
    flush()
    url = f"/api/v1/products/{chain.box_gtin}/suspected-copies"
    report = client.get(url, headers=factories.auth(_token(client, chain.parties["plant"])))
    assert [f["serial"] for f in report.json["forged_serials"]] == [forged]
    assert client.get(url).status_code == 401
    stranger = factory.party()
    denied = client.get(url, headers=factories.auth(stranger["token"]))
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden"
    regulator = factory.party(roles=["regulator"], role="regulator")
    assert client.get(url, headers=factories.auth(regulator["token"])).status_code == 200
    assert client.get(f"/api/v1/products/{factories.gtin()}/suspected-copies",
                      headers=factories.auth(regulator["token"])).status_code == 404
    assert client.get(f"/api/v1/products/{factories.bad_check_digit(chain.box_gtin)}/suspected-copies",
                      headers=factories.auth(regulator["token"])).status_code == 422


def test_a_retried_batch_is_not_counted_twice(graph, chain):
    now = datetime.now(UTC)
    batch = [{"scan_id": str(uuid.uuid4()), "time": now + timedelta(seconds=i), "gtin": chain.box_gtin,
              "lot": chain.box_lot, "serial": chain.serials[3], "verdict": "genuine", "fp": f"fp{i}",
              "lat": None, "lon": None, "region": None} for i in range(3)]
    assert scan.record_scans(graph, [dict(s) for s in batch]) == 3
    assert scan.record_scans(graph, [dict(s) for s in batch]) == 0
    count = graph.query("MATCH (i:Item {key: $key}) RETURN i.scan_count AS n", read=True,
                        key=f"item:{chain.box_gtin}:{chain.serials[3]}")[0]["n"]
    assert count >= 3


def test_assess_rules():
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    state, reason = scan.assess({}, {"time": t0, "fp": "a", "lat": 43.9, "lon": 125.3})
    assert reason is None and state["scan_count"] == 1 and state["first_scan_at"] == t0
    # 95 km in 10 minutes: under the 100 km floor that absorbs coarse places
    _, reason = scan.assess(state, {"time": t0 + timedelta(minutes=10), "fp": "b", "lat": 44.7, "lon": 125.6})
    assert reason is None
    # Changchun -> Shanghai is ~1,400 km: in one hour no box travels that far; in three hours one can
    _, reason = scan.assess(state, {"time": t0 + timedelta(hours=1), "fp": "b", "lat": 31.2, "lon": 121.5})
    assert reason == "impossible_travel"
    _, reason = scan.assess(state, {"time": t0 + timedelta(hours=3), "fp": "b", "lat": 31.2, "lon": 121.5})
    assert reason is None
    gone = {**state, "gone_at": t0 + timedelta(days=1)}
    _, reason = scan.assess(gone, {"time": t0 + timedelta(days=2), "fp": "a", "lat": None, "lon": None})
    assert reason == "scanned_after_consumed"


def _token(client, party: dict) -> str:
    return arrange.token(client.application.extensions["graph"], party)
