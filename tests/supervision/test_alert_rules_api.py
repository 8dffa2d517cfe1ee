"""Risk-warning rules through the real app and Neo4j, each firing and not firing at its boundary: a failed
inspection holds exactly its lot and what was made from it (seven generations down); a hazard failing N times
in one county within 30 days; certificates ending within 30 days or used after they ended; bursts of
counterfeit scans. Alerts' states, owners, audit entries and who may see them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from graph import alerts, recalls, risk, scan_log
from gs1.timezones import CHINA
from tests.factories import auth
from tests.supervision.helpers import Lineage, capture_admin, inspect, regulator_token, status


def _alerts(client, token, **query):
    response = client.get("/api/v1/alerts", query_string={"per_page": 500, **query}, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_failed_inspection_holds_seven_generations_downstream_and_nothing_else(client, graph, factory):
    farm = factory.party(region_code="220283")
    lab = factory.party(roles=("lab",), role="lab")
    product = factory.product(farm["gln"], category="rice")
    root = factory.lot(product["gtin"], farm["gln"])["lot"]
    other_input = factory.lot(product["gtin"], farm["gln"])["lot"]
    unrelated = factory.lot(product["gtin"], farm["gln"])["lot"]
    line = Lineage(farm["gln"], product["gtin"])
    # root + other_input -> g1 -> g2 -> (g3, side) ; g3 -> g4 -> g5 -> g6 -> g7 ; side -> side2
    # other_input alone -> made_from_other (upstream's other child: not downstream of root)
    made_from_other = line.transform([other_input])[0]
    chain = line.transform([root, other_input])
    chain += line.transform(chain[-1:])
    g3, side = line.transform(chain[-1:], outputs=2)
    chain.append(g3)
    side2 = line.transform([side])[0]
    for _ in range(4):
        chain += line.transform(chain[-1:])
    capture_admin(graph, line.events)
    assert len(chain) == 7
    downstream = {root, *chain, side, side2}

    answer = inspect(client, lab, {"gtin": product["gtin"], "lot": root}, verdict="fail", region="220283",
                     hazard=f"t{uuid.uuid4().hex[:8]}")

    for lot in downstream:
        assert status(graph, product["gtin"], lot) == "on_hold", lot
    for lot in (other_input, unrelated, made_from_other):
        assert status(graph, product["gtin"], lot) == "active", lot
    key = f"lot:{product['gtin']}:"
    assert sorted(answer["held"]) == sorted(key + x for x in downstream)
    alert = alerts.get_alert(graph, answer["alerts"][0])
    assert alert["kind"] == "inspection_failed" and alert["state"] == "open"
    assert sorted(alert["details"]["held"]) == sorted(key + x for x in downstream)
    assert set(alert["subject_keys"]) == {key + x for x in downstream}
    assert alert["parties"] == [farm["gln"]] and alert["region"] == "220283"


def test_a_passing_inspection_holds_nothing_and_raises_nothing(client, graph, factory):
    farm = factory.party()
    lab = factory.party(roles=("lab",), role="lab")
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"])
    answer = inspect(client, lab, lot, verdict="pass")
    assert "held" not in answer or not answer["held"]
    assert status(graph, lot["gtin"], lot["lot"]) == "active"
    assert alerts.list_alerts(graph, subject=f"lot:{lot['gtin']}:{lot['lot']}")["total"] == 0


def test_a_recalled_lot_downstream_stays_recalled(client, graph, factory):
    farm = factory.party()
    lab = factory.party(roles=("lab",), role="lab")
    product = factory.product(farm["gln"])
    root = factory.lot(product["gtin"], farm["gln"])["lot"]
    line = Lineage(farm["gln"], product["gtin"])
    child = line.transform([root])[0]
    capture_admin(graph, line.events)
    recalls.open_case(graph, [f"lot:{product['gtin']}:{child}"], 3, "test")
    answer = inspect(client, lab, {"gtin": product["gtin"], "lot": root}, verdict="fail")
    assert status(graph, product["gtin"], child) == "recalled"
    assert status(graph, product["gtin"], root) == "on_hold"
    details = alerts.get_alert(graph, answer["alerts"][0])["details"]
    assert details["recalled"] == [f"lot:{product['gtin']}:{child}"]


def _failures(client, factory, lab, county, hazard, days_before):
    """Failed inspections of fresh lots in a county, dated days_before the last one; return the last answer."""
    farm = factory.party(region_code=county)
    product = factory.product(farm["gln"], category="rice")
    end = datetime(2026, 11, 30).date()
    answer = None
    for d in sorted(days_before, reverse=True):
        lot = factory.lot(product["gtin"], farm["gln"])
        answer = inspect(client, lab, lot, verdict="fail", region=county, hazard=hazard,
                         day=(end - timedelta(days=d)).isoformat())
    return answer


def _clusters(graph, hazard):
    return [a for a in alerts.list_alerts(graph, kind="hazard_cluster", per_page=500)["items"]
            if a["details"]["hazard"] == hazard]


def test_hazard_cluster_needs_n_failures_within_thirty_days(client, graph, factory):
    lab = factory.party(roles=("lab",), role="lab")
    two, three, spread = (f"t{uuid.uuid4().hex[:8]}" for _ in range(3))
    _failures(client, factory, lab, "220283", two, [29, 0])
    assert _clusters(graph, two) == []
    _failures(client, factory, lab, "220283", three, [29, 1, 0])
    found = _clusters(graph, three)
    assert len(found) == 1 and found[0]["details"]["failures"] == 3 and found[0]["region"] == "220283"
    assert found[0]["parties"] == []  # regulators only: it names several parties' lots
    _failures(client, factory, lab, "220283", spread, [31, 1, 0])
    assert _clusters(graph, spread) == []


def test_hazard_cluster_counts_one_county_only(client, graph, factory):
    lab = factory.party(roles=("lab",), role="lab")
    hazard = f"t{uuid.uuid4().hex[:8]}"
    _failures(client, factory, lab, "220283", hazard, [5, 4])
    _failures(client, factory, lab, "220284", hazard, [3])  # Panshi: the same city, another county
    assert _clusters(graph, hazard) == []
    _failures(client, factory, lab, "220283", hazard, [0])
    assert len(_clusters(graph, hazard)) == 1


def test_hazard_cluster_threshold_is_configurable(app, client, graph, factory):
    lab = factory.party(roles=("lab",), role="lab")
    hazard = f"t{uuid.uuid4().hex[:8]}"
    app.config["ALERT_HAZARD_CLUSTER_N"] = 2
    try:
        _failures(client, factory, lab, "220581", hazard, [3, 0])
    finally:
        app.config["ALERT_HAZARD_CLUSTER_N"] = 3
    assert len(_clusters(graph, hazard)) == 1


def _certificate(client, admin_token, issuer, product, valid_from, valid_until, lot=None):
    body = {"type": "green_food", "number": f"LB-{uuid.uuid4().hex[:10]}", "issuer_gln": issuer,
            "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat(), "gtin": product["gtin"]}
    if lot:
        body["lot"] = lot
    response = client.post("/api/v1/certificates", json=body, headers=auth(admin_token))
    assert response.status_code == 201, response.get_json()
    return f"{issuer}:{body['number']}"


def test_certificates_ending_within_thirty_days_are_warned_by_the_sweep(app, client, graph, factory,
                                                                         admin_token):
    farm = factory.party()
    certifier = factory.party(roles=("certifier",))
    product = factory.product(farm["gln"])
    today = datetime.now(UTC).astimezone(CHINA).date()
    soon = _certificate(client, admin_token, certifier["gln"], product, today - timedelta(days=300),
                        today + timedelta(days=29))
    later = _certificate(client, admin_token, certifier["gln"], product, today - timedelta(days=300),
                         today + timedelta(days=31))
    result = app.test_cli_runner().invoke(args=["alerts", "sweep"])
    assert result.exit_code == 0, result.output
    warned = alerts.list_alerts(graph, subject=soon)["items"]
    assert [a["kind"] for a in warned] == ["certificate_expiring"]
    assert warned[0]["details"]["days_left"] == 29 and warned[0]["parties"] == [farm["gln"]]
    assert alerts.list_alerts(graph, subject=later)["total"] == 0
    risk.sweep(graph)  # again: nothing new
    assert alerts.list_alerts(graph, subject=soon)["total"] == 1


def test_a_lot_moved_after_its_certificate_ended_is_warned(client, graph, factory, admin_token):
    farm = factory.party()
    shop = factory.party(roles=("retailer",))
    certifier = factory.party(roles=("certifier",))
    product = factory.product(farm["gln"])
    late_lot = factory.lot(product["gtin"], farm["gln"])["lot"]
    early_lot = factory.lot(product["gtin"], farm["gln"])["lot"]
    now = datetime.now(UTC)
    today = now.astimezone(CHINA).date()
    ended = today - timedelta(days=3)
    late_cert = _certificate(client, admin_token, certifier["gln"], product, ended - timedelta(days=365), ended,
                             lot=late_lot)
    early_cert = _certificate(client, admin_token, certifier["gln"], product, ended - timedelta(days=365), ended,
                              lot=early_lot)
    line = Lineage(farm["gln"], product["gtin"])
    line.ship(early_lot, shop["gln"], now - timedelta(days=10))
    line.ship(late_lot, shop["gln"], now - timedelta(hours=1))
    capture_admin(graph, line.events)
    risk.sweep(graph)
    warned = alerts.list_alerts(graph, subject=late_cert)["items"]
    assert [a["kind"] for a in warned] == ["certificate_expired_use"]
    assert warned[0]["subject_keys"][0] == f"lot:{product['gtin']}:{late_lot}"
    assert alerts.list_alerts(graph, subject=early_cert)["total"] == 0


def _scans(gtin_, n, hours_ago, verdict="unknown_code"):
    now = datetime.now(UTC)
    return [{"scan_id": uuid.uuid4().hex, "time": now - timedelta(hours=h), "gtin": gtin_, "lot": "X1",
             "serial": f"S{uuid.uuid4().hex[:6]}", "verdict": verdict, "fp": uuid.uuid4().hex, "net": None,
             "lat": None, "lon": None, "region": None} for h in hours_ago[:n]]


def test_a_burst_of_counterfeit_scans_is_warned_and_fewer_are_not(graph, factory):
    farm = factory.party()
    burst = factory.product(farm["gln"])["gtin"]
    quiet = factory.product(farm["gln"])["gtin"]
    scan_log.record_scans(graph, _scans(burst, 5, [0.1, 1, 2, 10, 23.5]))
    scan_log.record_scans(graph, _scans(quiet, 5, [0.1, 1, 2, 10, 25]))  # the fifth is outside 24 h
    scan_log.record_scans(graph, _scans(quiet, 3, [0.1, 0.2, 0.3], verdict="genuine"))  # genuine scans never count
    risk.sweep(graph)
    found = alerts.list_alerts(graph, subject=f"class:{burst}")["items"]
    assert [a["kind"] for a in found] == ["scan_burst"] and found[0]["details"]["scans"] == 5
    assert found[0]["parties"] == [farm["gln"]]
    assert alerts.list_alerts(graph, subject=f"class:{quiet}")["total"] == 0


def test_alert_states_owner_history_and_audit(client, graph, factory):
    farm = factory.party()
    lab = factory.party(roles=("lab",), role="lab")
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"])
    alert_id = inspect(client, lab, lot, verdict="fail")["alerts"][0]
    reg = regulator_token(graph)
    url = f"/api/v1/alerts/{alert_id}/state"
    r = client.post(url, json={"state": "acknowledged", "owner": "舒兰市市场监管局 王科长"}, headers=auth(reg))
    assert r.status_code == 200 and r.get_json()["state"] == "acknowledged"
    assert r.get_json()["owner"] == "舒兰市市场监管局 王科长"
    r = client.post(url, json={"state": "closed", "note": "lots destroyed"}, headers=auth(reg))
    assert r.status_code == 200
    body = r.get_json()
    assert body["state"] == "closed" and body["owner"] == "舒兰市市场监管局 王科长"
    assert [(h["before"], h["after"]) for h in body["history"]] == [("open", "acknowledged"),
                                                                   ("acknowledged", "closed")]
    again = client.post(url, json={"state": "open"}, headers=auth(reg))
    assert again.status_code == 409
    assert alerts.get_alert(graph, alert_id)["state"] == "closed"
    trail = graph.query("MATCH (e:AuditEntry) WHERE e.path = $p AND e.detail CONTAINS $id "
                        "RETURN e.detail AS detail ORDER BY e.seq", read=True, p=url, id=alert_id)
    assert len(trail) == 2 and '"after": "closed"' in trail[1]["detail"]
    assert client.post("/api/v1/alerts/AL-NOPE/state", json={"state": "closed"}, headers=auth(reg)).status_code == 404
    bad = client.post(url, json={"state": "done"}, headers=auth(reg))
    assert bad.status_code == 422


def test_a_producer_sees_only_its_own_alerts_and_cannot_change_them(client, graph, factory):
    lab = factory.party(roles=("lab",), role="lab")
    mine, theirs = factory.party(), factory.party()
    ids = {}
    for farm in (mine, theirs):
        product = factory.product(farm["gln"])
        ids[farm["gln"]] = inspect(client, lab, factory.lot(product["gtin"], farm["gln"]), verdict="fail")["alerts"][0]
    seen = _alerts(client, mine["token"])
    assert ids[mine["gln"]] in {a["alert_id"] for a in seen}
    assert ids[theirs["gln"]] not in {a["alert_id"] for a in seen}
    assert all(mine["gln"] in a["parties"] for a in seen)
    assert client.get("/api/v1/alerts", query_string={"party": theirs["gln"]},
                      headers=auth(mine["token"])).status_code == 403
    assert client.get(f"/api/v1/alerts/{ids[theirs['gln']]}", headers=auth(mine["token"])).status_code == 404
    assert client.get(f"/api/v1/alerts/{ids[mine['gln']]}", headers=auth(mine["token"])).status_code == 200
    refused = client.post(f"/api/v1/alerts/{ids[mine['gln']]}/state", json={"state": "closed"},
                          headers=auth(mine["token"]))
    assert refused.status_code == 403
    assert alerts.get_alert(graph, ids[mine["gln"]])["state"] == "open"
    reg = _alerts(client, regulator_token(graph), kind="inspection_failed")
    assert {ids[mine["gln"]], ids[theirs["gln"]]} <= {a["alert_id"] for a in reg}


def test_raising_with_a_dedupe_key_is_idempotent(graph):
    key = f"test:{uuid.uuid4().hex}"
    first = alerts.raise_alert(graph, kind="scan_burst", subject_keys=["class:1"], summary="s", details={},
                               dedupe_key=key, parties=[])
    second = alerts.raise_alert(graph, kind="scan_burst", subject_keys=["class:1"], summary="s", details={"x": 1},
                                dedupe_key=key, parties=[])
    assert first["created"] and not second["created"] and first["alert_id"] == second["alert_id"]
    with pytest.raises(ValueError):
        alerts.raise_alert(graph, kind="nonsense", subject_keys=[], summary="s", details={})


def test_alert_list_filters_by_region_at_any_level(graph):
    tag = uuid.uuid4().hex
    for region in ("220283", "220581", "222401"):
        alerts.raise_alert(graph, kind="scan_burst", subject_keys=[f"class:{tag}"], summary=tag, details={},
                           region=region, parties=[], dedupe_key=f"test:{tag}:{region}")

    def regions(code):
        return sorted(a["region"] for a in alerts.list_alerts(graph, subject=f"class:{tag}", region=code)["items"])
    assert regions("220000") == ["220283", "220581", "222401"]
    assert regions("220200") == ["220283"]
    assert regions("222400") == ["222401"]
    assert regions("220581") == ["220581"]


def test_each_party_reads_only_its_own_lots_in_a_failure_alert(client, graph, factory):
    lab = factory.party(roles=("lab",), role="lab")
    farm, mill = factory.party(), factory.party(roles=("processor",))
    product = factory.product(farm["gln"])
    root = factory.lot(product["gtin"], farm["gln"])["lot"]
    at_mill = Lineage(mill["gln"], product["gtin"])
    milled = at_mill.transform([root])[0]  # the mill's lot, made from the farm's
    capture_admin(graph, at_mill.events)
    alert_id = inspect(client, lab, {"gtin": product["gtin"], "lot": root}, verdict="fail")["alerts"][0]
    farm_key, mill_key = f"lot:{product['gtin']}:{root}", f"lot:{product['gtin']}:{milled}"
    assert sorted(alerts.get_alert(graph, alert_id)["parties"]) == sorted([farm["gln"], mill["gln"]])
    for party, own in ((farm, farm_key), (mill, mill_key)):
        seen = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(party["token"])).get_json()
        listed = next(a for a in _alerts(client, party["token"], kind="inspection_failed")
                      if a["alert_id"] == alert_id)
        for view in (seen, listed):
            assert view["details"]["held"] == [own] and view["subject_keys"] == [own], party["name_en"]
            assert "owners" not in view["details"]
            # the failed lot is named to everyone whose lots it held (the mill used it); the farm never learns
            # what the mill made of it
            assert view["details"]["lot"] == farm_key
            assert party is mill or mill_key not in str(view)
    full = client.get(f"/api/v1/alerts/{alert_id}", headers=auth(regulator_token(graph))).get_json()
    assert sorted(full["details"]["held"]) == sorted([farm_key, mill_key])
