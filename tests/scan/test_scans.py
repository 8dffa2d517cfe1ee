"""Scan recording in batches and copy detection: impossible travel, scans after the sale, forged serials."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from graph import authenticity, scan_log
from labels.serials import ALPHABET
from tests import factories
from tests.scan import arrange
from tests.scan.conftest import item_path

JSON = {"Accept": "application/json"}
CHANGCHUN, SHANGHAI = "43.88,125.32", "31.23,121.47"


def _scan(client, path, ua, geo=None, ip="127.0.0.1", lang=None, headers=None, method="GET"):
    query = "&".join(f"{k}={v}" for k, v in (("geo", geo), ("lang", lang)) if v)
    response = client.open(path + (f"?{query}" if query else ""), method=method,
                           headers={**JSON, "User-Agent": ua, **(headers or {})}, environ_base={"REMOTE_ADDR": ip})
    return response.json


def _item(graph, chain, serial):
    return graph.query(
        "MATCH (i:Item {key: $key}) RETURN i {.*} AS i, COUNT { (i)<-[:OF_ITEM]-(:Scan) } AS scans", read=True,
        key=f"item:{chain.box_gtin}:{serial}")[0]


def test_every_scan_is_recorded_with_a_hashed_client_and_a_coarse_place(client, graph, chain, flush):
    path = item_path(chain, chain.serials[1])
    _scan(client, path, "phone-a", "43.8765,125.3210")
    flush()
    rows = graph.query(
        "MATCH (s:Scan)-[:OF_ITEM]->(i:Item {serial: $serial}) MATCH (s)-[:SCANNED]->(l:Lot) "
        "RETURN s {.*} AS s, i.scan_count AS n, l.lot AS lot", read=True, serial=chain.serials[1])
    assert len(rows) == 1 and rows[0]["n"] == 1 and rows[0]["lot"] == chain.box_lot
    s = rows[0]["s"]
    assert (s["lat"], s["lon"]) == (43.9, 125.3)
    assert s["verdict"] == "genuine" and len(s["fp"]) == 16
    assert "127.0.0.1" not in str(s) and "phone-a" not in str(s)
    # the next scan of the same box says how often it was looked at
    assert _scan(client, path, "phone-a")["item"]["scan_count"] == 1


def test_two_anonymous_scans_with_made_up_places_flag_nothing(client, graph, secret, flush):
    # The attack of issue 12: two scans from one address, two User-Agents, two invented places 1,400 km apart.
    c = arrange.ginseng_chain(graph, secret, boxes=2)
    path = item_path(c, c.serials[0])
    assert _scan(client, path, "phone-cc", CHANGCHUN)["authenticity"]["verdict"] == "genuine"
    flush()
    assert _scan(client, path, "phone-sh", SHANGHAI)["authenticity"]["verdict"] == "genuine"
    flush()
    # nor from two networks: one network per place is one claim per place
    assert _scan(client, path, "phone-x", CHANGCHUN, ip="10.1.1.5")["authenticity"]["verdict"] == "genuine"
    flush()
    assert _scan(client, path, "phone-y", SHANGHAI, ip="10.2.1.5")["authenticity"]["verdict"] == "genuine"
    flush()
    assert _scan(client, path, "a-later-consumer", ip="10.3.1.5")["authenticity"]["verdict"] == "genuine"
    flush()
    stored = _item(graph, c, c.serials[0])["i"]
    assert stored.get("suspect_reason") is None
    # the places are kept as hints (the brand owner sees them), just never believed alone
    assert stored["scan_count"] == 5 and len(json.loads(stored["geo_hints"])) == 3


def test_many_networks_in_two_far_apart_cities_at_once_is_a_suspected_copy(client, graph, secret, flush):
    c = arrange.ginseng_chain(graph, secret, boxes=2)
    path = item_path(c, c.serials[0])
    for ua, geo, ip in (("cc-1", CHANGCHUN, "10.11.0.7"), ("cc-2", CHANGCHUN, "10.12.0.7"),
                        ("sh-1", SHANGHAI, "10.21.0.7")):
        assert _scan(client, path, ua, geo, ip)["authenticity"]["verdict"] == "genuine"
        flush()
    facts = _scan(client, path, "sh-2", SHANGHAI, "10.22.0.7")
    assert facts["authenticity"] == {"verdict": "suspected_copy", "level": "item", "reason": "impossible_travel"}
    flush()
    # it stays flagged for everyone, and the brand owner sees it in the report
    assert _scan(client, path, "cc-1", ip="10.11.0.7")["authenticity"]["verdict"] == "suspected_copy"
    assert "疑似复制码" in client.get(path).get_data(as_text=True)
    report = client.get(f"/api/v1/products/{c.box_gtin}/suspected-copies",
                        headers=factories.auth(_token(client, c.parties["plant"])))
    assert report.status_code == 200
    flagged = {i["serial"]: i for i in report.json["suspected_items"]}
    assert flagged[c.serials[0]]["suspect_reason"] == "impossible_travel"
    assert "km in" in flagged[c.serials[0]]["suspect_detail"]
    assert len(flagged[c.serials[0]]["places"]) == 4


def test_the_same_client_moving_is_not_a_copy(client, chain, flush):
    path = item_path(chain, chain.serials[0])
    _scan(client, path, "phone-vpn", CHANGCHUN)
    flush()
    assert _scan(client, path, "phone-vpn", SHANGHAI)["authenticity"]["verdict"] == "genuine"


def test_a_sold_box_scanned_by_many_clients_is_a_suspected_copy(client, chain, flush):
    path = item_path(chain, chain.sold_serial)
    for n in range(authenticity.MAX_CLIENTS_AFTER_SALE):
        assert _scan(client, path, f"buyer-{n}", ip=f"10.40.{n}.9")["authenticity"]["verdict"] == "genuine"
        flush()
    facts = _scan(client, path, "stranger", ip="10.41.0.9")
    assert facts["authenticity"]["reason"] == "many_clients_after_sale"


def test_one_household_with_many_browsers_after_the_sale_is_not_a_copy(client, graph, secret, flush):
    c = arrange.ginseng_chain(graph, secret, boxes=2)
    path = item_path(c, c.sold_serial)
    for n in range(authenticity.MAX_CLIENTS_AFTER_SALE + 3):  # every User-Agent of one home network: one client
        assert _scan(client, path, f"browser-{n}", ip=f"10.50.0.{n + 1}")["authenticity"]["verdict"] == "genuine"
        flush()
    assert len(_item(graph, c, c.sold_serial)["i"]["post_sale_nets"]) == 1


def test_reloads_language_switches_head_and_prefetch_are_not_new_scans(client, graph, secret, flush):
    c = arrange.ginseng_chain(graph, secret, boxes=2)
    path = item_path(c, c.serials[0])
    _scan(client, path, "phone-a", ip="10.60.0.1")
    _scan(client, path, "phone-a", ip="10.60.0.1")  # reload
    _scan(client, path, "phone-a", ip="10.60.0.1", lang="en")  # language switch
    flush()
    _scan(client, path, "phone-a", ip="10.60.0.1", lang="zh")  # and back, after the first was written
    assert client.head(path, headers={"User-Agent": "phone-b"}, environ_base={"REMOTE_ADDR": "10.61.0.1"}
                       ).status_code == 200
    for purpose in ({"Sec-Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"}, {"Purpose": "prefetch"}):
        assert _scan(client, path, "phone-c", ip="10.62.0.1", headers=purpose)["authenticity"]["verdict"] == \
            "genuine"
    flush()
    row = _item(graph, c, c.serials[0])
    assert row["i"]["scan_count"] == 1 and row["scans"] == 1
    # another client is a new scan
    _scan(client, path, "phone-d", ip="10.63.0.1")
    flush()
    row = _item(graph, c, c.serials[0])
    assert row["i"]["scan_count"] == 2 and row["scans"] == 2


def test_a_lot_code_reloaded_by_one_client_is_one_scan(client, graph, secret, flush):
    c = arrange.ginseng_chain(graph, secret, boxes=2)
    path = f"/01/{c.box_gtin}/10/{c.box_lot}"
    for lang in (None, "en", "zh", None):
        _scan(client, path, "phone-a", ip="10.64.0.1", lang=lang)
        flush()
    _scan(client, path, "phone-b", ip="10.64.0.1")
    flush()
    scans = graph.query("MATCH (s:Scan)-[:SCANNED]->(:Lot {key: $key}) RETURN count(s) AS n", read=True,
                        key=f"lot:{c.box_gtin}:{c.box_lot}")[0]["n"]
    assert scans == 2


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
    assert scan_log.record_scans(graph, [dict(s) for s in batch]) == 3
    assert scan_log.record_scans(graph, [dict(s) for s in batch]) == 0
    count = graph.query("MATCH (i:Item {key: $key}) RETURN i.scan_count AS n", read=True,
                        key=f"item:{chain.box_gtin}:{chain.serials[3]}")[0]["n"]
    assert count >= 3


def _token(client, party: dict) -> str:
    return arrange.token(client.application.extensions["graph"], party)


def test_a_scanning_apps_redirect_is_not_a_scan_and_the_page_it_reaches_is_one(client, graph, secret, flush):
    c = arrange.ginseng_chain(graph, secret, boxes=1)
    path = item_path(c, c.serials[0])
    env = {"REMOTE_ADDR": "10.64.0.1"}
    for headers in ({"Accept": "*/*"}, {"Accept": "application/linkset+json"}, {"Accept": "*/*"}):
        answer = client.get(path + ("?linkType=gs1:pip" if headers["Accept"] == "*/*" else ""),
                            headers={**headers, "User-Agent": "app-1"}, environ_base=env)
        assert answer.status_code in (200, 307)
    client.options(path, environ_base=env)
    flush()
    assert _item(graph, c, c.serials[0])["i"].get("scan_count") in (None, 0)
    followed = client.get("/page" + path, headers={"Accept": "*/*", "User-Agent": "app-1"}, environ_base=env)
    assert followed.status_code == 200 and followed.json is None
    flush()
    row = _item(graph, c, c.serials[0])
    assert row["i"]["scan_count"] == 1 and row["scans"] == 1
