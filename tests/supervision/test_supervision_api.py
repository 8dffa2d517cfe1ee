"""Inspections listed and sliced into pass rates, on generated data whose answers are recomputed here in plain
Python; who may see what. Real app, real Neo4j; each test's data is its own (a fresh lab, farms, lots)."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta

import pytest

from tests.factories import auth
from tests.supervision.helpers import inspect, regulator_token

PROGRAMMES = ["routine_monitoring", "supervisory_sampling", "risk_monitoring", "food_safety_sampling"]
TARGETS = {"routine_monitoring": 0.97, "food_safety_sampling": 0.95}
COUNTIES = ["220283", "220284", "220581", "222401", "220621"]  # Shulan, Panshi (Jilin City), Meihekou, Yanji, Fusong
CATEGORIES = ["rice", "ginseng", "beef"]


@pytest.fixture(scope="module")
def world(app, graph, admin_token):
    """A lab, two farms with products of three categories, and 36 inspections drawn at random (seed kept)."""
    from tests.factories import Factory

    factory = Factory(graph, admin_token)
    rng = random.Random(20261204)
    lab = factory.party(roles=("lab",), role="lab")
    farms = [factory.party(), factory.party()]
    products = {(f["gln"], c): factory.product(f["gln"], category=c) for f in farms for c in CATEGORIES}
    client = app.test_client()
    hazard = f"tsup{rng.randrange(10**9)}"  # this module's own hazard: no cluster with other tests' failures
    made = []
    for n in range(36):
        farm = farms[n % 2]
        category = rng.choice(CATEGORIES)
        lot = factory.lot(products[(farm["gln"], category)]["gtin"], farm["gln"])
        rec = {"farm": farm["gln"], "category": category, "programme": rng.choice(PROGRAMMES),
               "county": rng.choice(COUNTIES), "day": date(2026, 8, 1) + timedelta(days=rng.randrange(110)),
               "verdict": "fail" if rng.random() < 0.25 else "pass", "lot": lot}
        answer = inspect(client, lab, lot, verdict=rec["verdict"], day=rec["day"].isoformat(),
                         programme=rec["programme"], region=rec["county"], hazard=hazard)
        rec["key"] = answer["key"]
        made.append(rec)
    return {"lab": lab, "farms": farms, "inspections": made, "regulator": regulator_token(graph)}


def _month(rec):
    return rec["day"].isoformat()[:7]


KEY_OF = {"programme": lambda r: r["programme"], "category": lambda r: r["category"],
          "province": lambda r: r["county"][:2] + "0000", "city": lambda r: r["county"][:4] + "00",
          "county": lambda r: r["county"], "month": _month}


def expected_rates(records, by, programme=None):
    """Pass rates recomputed from the generated inspections: {key: (count, passed, target, below)}."""
    groups = defaultdict(lambda: [0, 0])
    for r in records:
        g = groups[KEY_OF[by](r)]
        g[0] += 1
        g[1] += r["verdict"] == "pass"
    out = {}
    for key, (count, passed) in groups.items():
        target = TARGETS.get(key) if by == "programme" else TARGETS.get(programme)
        out[key] = (count, passed, target, None if target is None else passed / count < target)
    return out


def _rates(client, token, **query):
    response = client.get("/api/v1/supervision/pass-rates", query_string=query, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {s["key"]: (s["count"], s["passed"], s["target"], s["below_target"]) for s in body["slices"]}, body


@pytest.mark.parametrize("by", ["programme", "category", "province", "city", "county", "month"])
def test_pass_rates_by_each_dimension_match_the_generated_inspections(client, world, by):
    got, body = _rates(client, world["regulator"], by=by, party=world["lab"]["gln"])
    assert got == expected_rates(world["inspections"], by)
    for s in body["slices"]:
        assert s["rate"] == pytest.approx(s["passed"] / s["count"])
    assert body["total"]["count"] == len(world["inspections"])


def test_pass_rates_within_a_programme_are_held_to_its_target(client, world):
    records = [r for r in world["inspections"] if r["programme"] == "routine_monitoring"]
    got, body = _rates(client, world["regulator"], by="county", programme="routine_monitoring",
                       party=world["lab"]["gln"])
    assert got == expected_rates(records, "county", "routine_monitoring")
    passed = sum(r["verdict"] == "pass" for r in records)
    assert (body["total"]["count"], body["total"]["passed"]) == (len(records), passed)
    assert body["total"]["target"] == 0.97 and body["total"]["below_target"] is (passed / len(records) < 0.97)


def test_pass_rates_filter_by_city_category_and_period(client, world):
    d_from, d_to = date(2026, 9, 1), date(2026, 10, 15)
    records = [r for r in world["inspections"] if r["county"].startswith("2202") and r["category"] == "rice"
               and d_from <= r["day"] <= d_to]
    got, _ = _rates(client, world["regulator"], by="month", region="220200", category="rice",
                    date_from=d_from.isoformat(), date_to=d_to.isoformat(), party=world["lab"]["gln"])
    assert got == expected_rates(records, "month")


def test_inspection_list_pages_and_sorts_like_the_generated_list(client, world):
    mine = sorted(world["inspections"], key=lambda r: (r["day"].isoformat() + "|" + r["key"]))
    keys = [r["key"] for r in mine]
    seen = []
    for page in (1, 2, 3, 4):
        response = client.get("/api/v1/inspections", headers=auth(world["regulator"]),
                              query_string={"party": world["lab"]["gln"], "sort": "date", "per_page": 10,
                                            "page": page})
        assert response.status_code == 200
        body = response.get_json()
        assert body["total"] == len(keys)
        seen += [i["key"] for i in body["items"]]
    assert seen == keys
    newest = client.get("/api/v1/inspections", headers=auth(world["regulator"]),
                        query_string={"party": world["lab"]["gln"], "per_page": 3}).get_json()
    assert [i["key"] for i in newest["items"]] == keys[::-1][:3]


def test_inspection_list_filters_by_programme_verdict_and_region(client, world):
    want = {r["key"] for r in world["inspections"] if r["programme"] == "risk_monitoring"
            and r["verdict"] == "fail" and r["county"].startswith("22")}
    body = client.get("/api/v1/inspections", headers=auth(world["regulator"]),
                      query_string={"party": world["lab"]["gln"], "programme": "risk_monitoring",
                                    "verdict": "fail", "region": "220000", "per_page": 500}).get_json()
    assert {i["key"] for i in body["items"]} == want and body["total"] == len(want)
    for item in body["items"]:
        assert item["programme"] == "risk_monitoring" and item["lab_gln"] == world["lab"]["gln"]
        assert item["county_code"] in COUNTIES and item["region_zh"]


def test_a_producer_sees_only_inspections_of_its_own_lots(client, world):
    farm, other = world["farms"]
    want = {r["key"] for r in world["inspections"] if r["farm"] == farm["gln"]}
    body = client.get("/api/v1/inspections", headers=auth(farm["token"]),
                      query_string={"per_page": 500}).get_json()
    assert {i["key"] for i in body["items"]} == want
    refused = client.get("/api/v1/inspections", headers=auth(farm["token"]), query_string={"party": other["gln"]})
    assert refused.status_code == 403
    got, _ = _rates(client, farm["token"], by="programme")
    assert got == expected_rates([r for r in world["inspections"] if r["farm"] == farm["gln"]], "programme")
    refused = client.get("/api/v1/supervision/pass-rates", headers=auth(farm["token"]),
                         query_string={"by": "county", "party": world["lab"]["gln"]})
    assert refused.status_code == 403


def test_a_lab_sees_what_it_performed(client, world):
    body = client.get("/api/v1/inspections", headers=auth(world["lab"]["token"]),
                      query_string={"per_page": 500}).get_json()
    assert {i["key"] for i in body["items"]} == {r["key"] for r in world["inspections"]}


@pytest.mark.parametrize("query", [
    {"by": "district"}, {"by": "county", "region": "229999"}, {"by": "county", "programme": "audit"},
    {"by": "month", "date_from": "2026-10-01", "date_to": "2026-09-01"}, {"by": "county", "bogus": "1"},
    {"by": "county", "party": "123"},
])
def test_bad_filters_are_refused_with_400(client, world, query):
    response = client.get("/api/v1/supervision/pass-rates", headers=auth(world["regulator"]), query_string=query)
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_lists_need_a_token(client):
    assert client.get("/api/v1/inspections").status_code == 401
    assert client.get("/api/v1/supervision/pass-rates?by=county").status_code == 401
    assert client.get("/api/v1/alerts").status_code == 401


def test_a_recorded_inspection_keeps_its_classification(client, factory):
    lab = factory.party(roles=("lab",), role="lab")
    farm = factory.party(region_code="220581")
    product = factory.product(farm["gln"], category="rice")
    lot = factory.lot(product["gtin"], farm["gln"])
    answer = inspect(client, lab, lot, programme="food_safety_sampling", region=None, hazard="Cadmium")
    assert (answer["programme"], answer["category"], answer["region_code"], answer["city_code"],
            answer["hazard"]) == ("food_safety_sampling", "rice", "220581", "220500", "cadmium")
    plain = inspect(client, lab, lot, programme=None)
    assert plain["programme"] == "commissioned_test"
    bad = client.post("/api/v1/inspections", headers=auth(lab["token"]), json={
        "lab_gln": lab["gln"], "gtin": lot["gtin"], "lot": lot["lot"], "report_no": "X1", "sample_id": "S",
        "date": "2026-11-01", "standard": "GB", "verdict": "pass", "programme": "whatever", "region_code": "229999",
        "results": [{"item": "Cd", "value": 0.1, "limit": 0.2, "pass": True}]})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["errors"]["json"]) >= {"programme", "region_code"}


def test_a_regulator_classifies_an_inspection_recorded_without_one(client, graph, factory):
    lab = factory.party(roles=("lab",), role="lab")
    other_lab = factory.party(roles=("lab",), role="lab")
    farm = factory.party(region_code="220283")
    product = factory.product(farm["gln"], category="rice")
    lot = factory.lot(product["gtin"], farm["gln"])
    recorded = inspect(client, lab, lot, programme=None, verdict="fail")
    assert recorded["programme"] == "commissioned_test"
    path = f"/api/v1/inspections/{lab['gln']}/{recorded['report_no']}/classification"
    hazard = f"t{uuid.uuid4().hex[:8]}"  # this test's own: no cluster with other tests' failures in the county
    body = {"programme": "routine_monitoring", "region_code": "220284", "hazard": hazard, "sampling_body": "站"}
    assert client.put(path, json=body, headers=auth(other_lab["token"])).status_code == 403
    assert client.put(path, json=body, headers=auth(farm["token"])).status_code == 403
    answer = client.put(path, json=body, headers=auth(regulator_token(graph)))
    assert answer.status_code == 200, answer.get_json()
    got = answer.get_json()
    assert (got["programme"], got["county_code"], got["city_code"], got["failed_hazards"]) == (
        "routine_monitoring", "220284", "220200", [hazard])
    assert got["alerts"] == recorded["alerts"]  # the failure's alert was raised once, when it was recorded
    listed = client.get("/api/v1/inspections", headers=auth(lab["token"]),
                        query_string={"programme": "routine_monitoring"}).get_json()
    assert [i["key"] for i in listed["items"]] == [recorded["key"]]
    missing = client.put(f"/api/v1/inspections/{lab['gln']}/NOPE/classification", json=body,
                         headers=auth(lab["token"]))
    assert missing.status_code == 404


def test_bulk_loaded_inspections_are_classified_as_recorded_ones(graph, factory):
    from graph import bulk, supervision

    lab = factory.party(roles=("lab",), role="lab")
    farm = factory.party(region_code="222401")
    product = factory.product(farm["gln"], category="beef")
    lot = factory.lot(product["gtin"], farm["gln"])
    row = {"lab_gln": lab["gln"], "report_no": "B1", "sample_id": "S1", "date": "2026-11-04", "standard": "GB",
           "verdict": "fail", "gtin": lot["gtin"], "lot": lot["lot"], "programme": "routine_monitoring",
           "hazard": "beta-agonists", "results": [{"item": "克伦特罗", "value": 1.0, "limit": 0.0, "pass": False}]}
    assert bulk.upsert_inspections(graph, [row]) == 1
    (item,) = supervision.list_inspections(graph, {"party": lab["gln"]})["items"]
    assert (item["programme"], item["category"], item["county_code"], item["city_code"], item["owner_gln"],
            item["failed_hazards"]) == ("routine_monitoring", "beef", "222401", "222400", farm["gln"],
                                        ["beta-agonists"])
