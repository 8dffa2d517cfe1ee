"""Credit records through the real app and Neo4j: transitions with reason and decider, audit, appeals that reverse,
the block on a blacklisted party's labels and 合格证 until a regulator approves, the scan-page warning, and who may
read what. Each test has its own parties, products and lots."""

from __future__ import annotations

from datetime import date

import pytest

from graph import commitments, credit
from graph.errors import Forbidden
from gs1.identifiers import lot_key
from tests.factories import auth
from tests.supervision.helpers import regulator_token


@pytest.fixture
def farm(factory):
    party = factory.party(name_zh="失信测试农场")
    product = factory.product(party["gln"])
    lot = factory.lot(product["gtin"], party["gln"])
    return {**party, "gtin": product["gtin"], "lot": lot["lot"]}


@pytest.fixture(scope="module")
def regulators(graph):
    return regulator_token(graph), regulator_token(graph)


def _change(client, token, gln, status, kind, reason="抽检不合格"):
    return client.post(f"/api/v1/credit/{gln}/changes", headers=auth(token),
                       json={"status": status, "event_kind": kind, "reason": reason})


def _status(graph, gln):
    return graph.query("MATCH (p:Party {gln: $g}) RETURN coalesce(p.credit_status, 'normal') AS s", read=True,
                       g=gln)[0]["s"]


def _audited(graph, text):
    return graph.query("MATCH (a:AuditEntry) WHERE a.detail CONTAINS $t RETURN count(a) AS n", read=True,
                       t=text)[0]["n"]


def _print(client, farm, token=None):
    return client.post(f"/api/v1/lots/{farm['gtin']}/{farm['lot']}/print-runs", json={"count": 2},
                       headers={**auth(token or farm["token"]), "Accept": "application/json"})


def _items(graph, farm):
    return graph.query("MATCH (:Lot {key: $k})-[:HAS_ITEM]->(i) RETURN count(i) AS n", read=True,
                       k=lot_key(farm["gtin"], farm["lot"]))[0]["n"]


def _certificate(graph, farm):
    request = {"basis": "quality_control", "quantity": 10, "unit": "KGM", "product_name": "人参",
               "origin": "抚松县", "producer_name": "失信测试农场", "producer_contact": "13800000000",
               "issued_on": date(2026, 12, 4)}
    return commitments.issue(graph, farm["gtin"], farm["lot"], request,
                             {"id": "tests", "gln": farm["gln"], "admin": False})


def test_a_violation_moves_the_party_with_reason_and_decider_and_is_audited(client, graph, farm, regulators):
    r = _change(client, regulators[0], farm["gln"], "watch", "failed_inspection")
    assert r.status_code == 201, r.get_json()
    record = r.get_json()
    assert record["status"] == "watch" == _status(graph, farm["gln"])
    change = record["changes"][0]
    assert (change["before"], change["after"], change["event_kind"], change["reason"]) == \
        ("normal", "watch", "failed_inspection", "抽检不合格")
    assert change["decided_by"] == "token:" + regulators[0].split("_")[1]  # the token id, never the secret
    assert _audited(graph, change["change_id"]) == 1


def test_a_step_too_far_is_refused_and_changes_nothing(client, graph, farm, regulators):
    r = _change(client, regulators[0], farm["gln"], "blacklist", "overdue_acknowledgement")
    assert r.status_code == 422
    assert _status(graph, farm["gln"]) == "normal"
    assert _change(client, regulators[0], farm["gln"], "blacklist", "counterfeit").status_code == 201
    assert _change(client, regulators[0], farm["gln"], "watch", "recall_caused").status_code == 422  # never lowers
    assert _status(graph, farm["gln"]) == "blacklist"
    assert _change(client, regulators[0], farm["gln"], "watch", "rectified").status_code == 201
    assert _status(graph, farm["gln"]) == "watch"


def test_a_blacklisted_party_prints_no_labels_until_a_regulator_approves(client, graph, farm, regulators):
    assert _print(client, farm).status_code == 201  # in good standing
    before = _items(graph, farm)
    assert _change(client, regulators[0], farm["gln"], "blacklist", "falsified_records").status_code == 201
    r = _print(client, farm)
    assert r.status_code == 403 and "blacklist" in str(r.get_json())
    assert _items(graph, farm) == before  # nothing printed
    r = client.post(f"/api/v1/credit/{farm['gln']}/approvals", headers=auth(regulators[1]),
                    json={"action": "certificates", "reason": "整改中"})
    assert r.status_code == 201
    assert _print(client, farm).status_code == 403  # an approval for 合格证 is not one for labels
    r = client.post(f"/api/v1/credit/{farm['gln']}/approvals", headers=auth(regulators[1]),
                    json={"action": "labels", "reason": "召回产品重新贴标", "valid_days": 3})
    assert r.status_code == 201, r.get_json()
    assert _print(client, farm).status_code == 201
    assert _items(graph, farm) == before + 2
    assert _audited(graph, r.get_json()["approval_id"]) == 1


def test_a_blacklisted_party_issues_no_certificate_until_approved(client, graph, farm, regulators):
    assert _change(client, regulators[0], farm["gln"], "blacklist", "counterfeit").status_code == 201
    with pytest.raises(Forbidden):
        _certificate(graph, farm)
    assert graph.query("MATCH (c:CommitmentCertificate {issuer_gln: $g}) RETURN count(c) AS n", read=True,
                       g=farm["gln"])[0]["n"] == 0
    r = client.post(f"/api/v1/credit/{farm['gln']}/approvals", headers=auth(regulators[0]),
                    json={"action": "certificates", "reason": "复检合格"})
    assert r.status_code == 201
    assert _certificate(graph, farm)["number"].startswith("HGZ-20261204-")


def test_the_watch_status_restricts_nothing(client, graph, farm, regulators):
    assert _change(client, regulators[0], farm["gln"], "watch", "recall_caused").status_code == 201
    assert _print(client, farm).status_code == 201
    assert _certificate(graph, farm)["issuer_gln"] == farm["gln"]


def test_an_appeal_reverses_the_change_when_another_regulator_grants_it(client, graph, farm, regulators):
    first, second = regulators
    change = _change(client, first, farm["gln"], "blacklist", "counterfeit").get_json()["changes"][0]
    r = client.post(f"/api/v1/credit/changes/{change['change_id']}/appeal", headers=auth(farm["token"]),
                    json={"text": "该批假冒产品非本公司生产，附报案回执。"})
    assert r.status_code == 201, r.get_json()
    appeal_id = r.get_json()["appeal_id"]
    again = client.post(f"/api/v1/credit/changes/{change['change_id']}/appeal", headers=auth(farm["token"]),
                        json={"text": "再次申诉"})
    assert again.status_code == 409  # one pending appeal at a time
    own = client.post(f"/api/v1/credit/appeals/{appeal_id}/decision", headers=auth(first),
                      json={"decision": "reversed", "note": "自己撤销"})
    assert own.status_code == 422 and _status(graph, farm["gln"]) == "blacklist"
    r = client.post(f"/api/v1/credit/appeals/{appeal_id}/decision", headers=auth(second),
                    json={"decision": "reversed", "note": "经核实，假冒产品非该公司生产"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "normal" == _status(graph, farm["gln"])
    kept = r.get_json()["changes"][0]
    assert kept["reversed"] is True and kept["appeal_state"] == "reversed"
    assert kept["appeals"][0]["state"] == "reversed" and kept["appeals"][0]["decided_by"] != kept["decided_by"]
    assert _audited(graph, appeal_id) == 2  # filed, decided
    assert _print(client, farm).status_code == 201  # the block went with the reversal
    decided = client.post(f"/api/v1/credit/appeals/{appeal_id}/decision", headers=auth(second),
                          json={"decision": "upheld", "note": "x"})
    assert decided.status_code == 409


def test_an_upheld_appeal_keeps_the_status(client, graph, farm, regulators):
    change = _change(client, regulators[0], farm["gln"], "watch", "overdue_acknowledgement").get_json()
    change_id = change["changes"][0]["change_id"]
    appeal_id = client.post(f"/api/v1/credit/changes/{change_id}/appeal", headers=auth(farm["token"]),
                            json={"text": "已确认"}).get_json()["appeal_id"]
    r = client.post(f"/api/v1/credit/appeals/{appeal_id}/decision", headers=auth(regulators[1]),
                    json={"decision": "upheld", "note": "逾期属实"})
    assert r.status_code == 200 and _status(graph, farm["gln"]) == "watch"


def test_only_the_latest_change_is_appealed(client, farm, regulators):
    old = _change(client, regulators[0], farm["gln"], "watch", "failed_inspection").get_json()["changes"][0]
    _change(client, regulators[0], farm["gln"], "blacklist", "recall_caused")
    r = client.post(f"/api/v1/credit/changes/{old['change_id']}/appeal", headers=auth(farm["token"]),
                    json={"text": "申诉"})
    assert r.status_code == 409


def test_a_party_reads_its_own_record_and_no_other(client, factory, farm, regulators):
    _change(client, regulators[0], farm["gln"], "watch", "failed_inspection")
    other = factory.party()
    assert client.get(f"/api/v1/credit/{farm['gln']}", headers=auth(farm["token"])).status_code == 200
    assert client.get(f"/api/v1/credit/{farm['gln']}", headers=auth(other["token"])).status_code == 403
    assert client.get(f"/api/v1/credit/{farm['gln']}").status_code == 401
    assert client.get("/api/v1/credit", headers=auth(other["token"])).status_code == 403
    change_id = client.get(f"/api/v1/credit/{farm['gln']}", headers=auth(regulators[0])).get_json()[
        "changes"][0]["change_id"]
    r = client.post(f"/api/v1/credit/changes/{change_id}/appeal", headers=auth(other["token"]),
                    json={"text": "替别人申诉"})
    assert r.status_code == 403
    r = _change(client, farm["token"], farm["gln"], "normal", "rectified")  # a party never decides its own
    assert r.status_code == 403


def test_the_watch_list_and_the_scan_warning(client, graph, farm, regulators):
    _change(client, regulators[0], farm["gln"], "blacklist", "counterfeit")
    listed = client.get("/api/v1/credit?status=blacklist&per_page=500", headers=auth(regulators[0])).get_json()
    row = next(i for i in listed["items"] if i["gln"] == farm["gln"])
    assert row["status"] == "blacklist" and row["event_kind"] == "counterfeit"
    warnings = credit.scan_warnings(graph, farm["gtin"], lot_key(farm["gtin"], farm["lot"]))
    assert [(w["gln"], w["status"]) for w in warnings] == [(farm["gln"], "blacklist")]
    assert credit.scan_warnings(graph, "09999999999999", None) == []


def test_the_consumer_page_warns_of_a_blacklisted_producer_and_links_the_report_form(client, farm, regulators):
    url = f"/01/{farm['gtin']}/10/{farm['lot']}"
    page = client.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="report-violation"' in page and "data-credit=" not in page
    _change(client, regulators[0], farm["gln"], "blacklist", "counterfeit")
    # The same code again: its lineage facts and HTML are cached, the credit standing is read live.
    page = client.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'data-credit="blacklist"' in page and "严重违法失信名单" in page and "失信测试农场" in page
    link = page.split('id="report-violation" href="')[1].split('"')[0].replace("&amp;", "&")
    form = client.get(link)
    assert form.status_code == 200 and f"{farm['gtin']}/10/{farm['lot']}" in form.get_data(as_text=True)
    en = client.get(f"{url}?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "serious-violation list" in en


def test_a_credit_change_shows_at_once_on_a_page_whose_lineage_and_html_are_cached(client, farm, regulators,
                                                                                    neo4j_uri):
    """Served pages keep lineage facts and HTML for seconds (the test app keeps none): the standing is read live."""
    from app import create_app

    cached = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "SECRET_KEY": "test-secret-key-" + "x" * 20,
                         "SCAN_CACHE_SECONDS": 60})
    try:
        shopper = cached.test_client()
        url = f"/01/{farm['gtin']}/10/{farm['lot']}"
        assert "data-credit=" not in shopper.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert _change(client, regulators[0], farm["gln"], "watch", "failed_inspection").status_code == 201
        page = shopper.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert 'data-credit="watch"' in page
    finally:
        if "scan_buffer" in cached.extensions:
            cached.extensions["scan_buffer"].close()
        cached.extensions["graph"].close()
