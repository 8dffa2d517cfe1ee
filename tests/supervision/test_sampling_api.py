"""双随机 sampling plans through the real app and Neo4j: the recorded draw recomputed here from its seed and
candidates (an independent implementation of the published recipe), conflicts of interest excluded, results,
who may do what. Data of this module: its own parties of one category in one county, fresh regulator accounts."""

from __future__ import annotations

import hashlib
import random
import uuid

import pytest

from graph import users
from tests.factories import auth
from tests.supervision.helpers import regulator_token

REGION, CATEGORY = "220722", "deer_antler"  # 长岭县 and 鹿茸: no other test's parties live there


def _reference(seed, record, count, per_target):
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big"))
    targets, inspectors, conflicts = record["targets"], record["inspectors"], record["conflicts"]
    chosen = rng.sample(sorted(targets), min(count, len(targets)))
    out = []
    for party in chosen:
        free = [i for i in sorted(inspectors) if party not in conflicts.get(i, {})]
        out.append([party, rng.sample(free, min(per_target, len(free)))])
    return out


def _drawn(plan):
    return [[a["party_gln"], [i["user_id"] for i in a["inspectors"]]] for a in plan["assignments"]]


def _inspector(graph, name):
    return users.create(graph, {"username": f"insp{uuid.uuid4().hex[:10]}", "role": "regulator",
                                "display_name": name}, "not-a-password-hash", created_by="tests")["user_id"]


@pytest.fixture(scope="module")
def world(graph, admin_token):
    from tests.factories import Factory

    factory = Factory(graph, admin_token)
    parties = [factory.party(region_code=REGION, region_zh="长岭县", name_zh=f"鹿场{n}") for n in range(8)]
    for p in parties:
        factory.product(p["gln"], category=CATEGORY, name_zh="鹿茸", name_en="Deer antler")
    outsider = factory.party(region_code="220283")  # same category, another county: never a candidate
    factory.product(outsider["gln"], category=CATEGORY)
    return {"parties": parties, "outsider": outsider, "regulator": regulator_token(graph),
            "pool": [_inspector(graph, f"检查员{n}") for n in range(3)]}


def _plan(client, token, pool, count=500, per_target=2):
    body = {"title": "2026年鹿茸双随机抽查", "categories": [CATEGORY], "region_code": REGION,
            "target_count": count, "per_target": per_target, "inspector_ids": pool}
    r = client.post("/api/v1/sampling-plans", json=body, headers=auth(token))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["state"] == "draft"
    return r.get_json()["plan_id"]


def _draw(client, token, plan_id, seed=None):
    r = client.post(f"/api/v1/sampling-plans/{plan_id}/draw", json={"seed": seed} if seed else {},
                    headers=auth(token))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_draw_is_reproducible_from_its_recorded_seed_and_changes_with_another(client, world):
    plan_id = _plan(client, world["regulator"], world["pool"], count=4)
    plan = _draw(client, world["regulator"], plan_id, seed="2026-12-04-lottery-17")
    record = plan["draw"]
    assert plan["seed"] == record["seed"] == "2026-12-04-lottery-17"
    mine = {p["gln"] for p in world["parties"]}
    assert mine <= set(record["targets"]) and world["outsider"]["gln"] not in record["targets"]
    assert len(plan["assignments"]) == 4
    assert _drawn(plan) == _reference(plan["seed"], record, 4, 2)
    assert _drawn(plan) != _reference("another-seed", record, 4, 2)
    again = client.get(f"/api/v1/sampling-plans/{plan_id}", headers=auth(world["regulator"])).get_json()
    assert _drawn(again) == _drawn(plan)


def test_a_plan_is_drawn_once(client, world):
    plan_id = _plan(client, world["regulator"], world["pool"], count=1)
    _draw(client, world["regulator"], plan_id)
    r = client.post(f"/api/v1/sampling-plans/{plan_id}/draw", json={}, headers=auth(world["regulator"]))
    assert r.status_code == 409


def test_conflicts_exclude_former_employers_and_last_inspected_parties(client, graph, world):
    reg = world["regulator"]
    pool = [_inspector(graph, f"新检查员{n}") for n in range(3)]
    employer = world["parties"][0]["gln"]
    r = client.put(f"/api/v1/inspectors/{pool[0]}/employment", json={"former_employers": [employer]},
                   headers=auth(reg))
    assert r.status_code == 200, r.get_json()
    first = _draw(client, reg, _plan(client, reg, pool, count=3, per_target=1), seed="first")
    last_time = {i: set() for i in pool}
    for a in first["assignments"]:
        for i in a["inspectors"]:
            last_time[i["user_id"]].add(a["party_gln"])
    second = _draw(client, reg, _plan(client, reg, pool, per_target=2), seed="second")
    expected = {i: {p: "inspected_last_time" for p in last_time[i]} for i in pool if last_time[i]}
    expected.setdefault(pool[0], {})[employer] = "former_employer"
    assert second["draw"]["conflicts"] == expected
    assert len(second["assignments"]) == len(second["draw"]["targets"])  # every candidate drawn
    for a in second["assignments"]:
        drawn = {i["user_id"] for i in a["inspectors"]}
        assert not (a["party_gln"] == employer and pool[0] in drawn)
        assert not any(a["party_gln"] in last_time[i] for i in drawn)
    assert _drawn(second) == _reference("second", second["draw"], 500, 2)


def test_results_are_recorded_and_published_without_private_data(client, world):
    reg = world["regulator"]
    plan = _draw(client, reg, _plan(client, reg, world["pool"], count=2, per_target=1))
    a, b = (x["party_gln"] for x in plan["assignments"])
    r = client.post(f"/api/v1/sampling-plans/{plan['plan_id']}/results", headers=auth(reg),
                    json={"results": [{"party_gln": a, "result": "pass", "inspected_on": "2026-12-03"}]})
    assert r.status_code == 200 and r.get_json()["state"] == "drawn"
    stray = world["outsider"]["gln"]
    r = client.post(f"/api/v1/sampling-plans/{plan['plan_id']}/results", headers=auth(reg),
                    json={"results": [{"party_gln": b, "result": "fail", "inspected_on": "2026-12-03"},
                                      {"party_gln": stray, "result": "pass", "inspected_on": "2026-12-03"}]})
    assert r.status_code == 422  # all or nothing: b's result is not kept either
    got = client.get(f"/api/v1/sampling-plans/{plan['plan_id']}", headers=auth(reg)).get_json()
    assert [x["result"] for x in got["assignments"]] == ["pass", None]
    r = client.post(f"/api/v1/sampling-plans/{plan['plan_id']}/results", headers=auth(reg),
                    json={"results": [{"party_gln": b, "result": "fail", "inspected_on": "2026-12-03"}]})
    assert r.get_json()["state"] == "completed"
    page = client.get(f"/public/sampling-plans/{plan['plan_id']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "双随机" in text and plan["seed"] in text and "不合格" in text
    for private in (*world["pool"], "token:", "13800000000"):
        assert private not in text
    en = client.get(f"/public/sampling-plans/{plan['plan_id']}?lang=en").get_data(as_text=True)
    assert "Random inspection" in en and "Fail" in en


def test_a_draft_plan_is_not_public(client, world):
    plan_id = _plan(client, world["regulator"], world["pool"], count=1)
    assert client.get(f"/public/sampling-plans/{plan_id}").status_code == 404


def test_only_regulators_run_plans(client, world, graph):
    producer = world["parties"][1]["token"]
    body = {"title": "x", "categories": [CATEGORY], "region_code": REGION, "target_count": 1,
            "inspector_ids": world["pool"]}
    assert client.post("/api/v1/sampling-plans", json=body, headers=auth(producer)).status_code == 403
    assert client.get("/api/v1/sampling-plans", headers=auth(producer)).status_code == 403
    assert client.post("/api/v1/sampling-plans", json=body).status_code == 401
    a_producer_account = users.create(graph, {"username": f"prod{uuid.uuid4().hex[:10]}", "role": "producer",
                                              "party_gln": world["parties"][1]["gln"]}, "h")["user_id"]
    r = client.post("/api/v1/sampling-plans", json={**body, "inspector_ids": [a_producer_account]},
                    headers=auth(world["regulator"]))
    assert r.status_code == 422  # the pool is regulator accounts only


def test_plan_input_is_validated(client, world):
    reg = world["regulator"]
    bad = {"title": " ", "categories": ["plutonium"], "region_code": "229999", "target_count": 0,
           "inspector_ids": []}
    r = client.post("/api/v1/sampling-plans", json=bad, headers=auth(reg))
    assert r.status_code == 422
    assert set(r.get_json()["error"]["errors"]["json"]) >= {"title", "categories", "region_code", "target_count",
                                                   "inspector_ids"}


def test_two_draws_of_one_plan_at_once_draw_it_once(client, graph, world):
    from concurrent.futures import ThreadPoolExecutor

    from graph import sampling_plans
    from graph.errors import Conflict

    plan_id = _plan(client, world["regulator"], world["pool"], count=3)

    def draw(seed):
        try:
            return sampling_plans.draw(graph, plan_id, seed, "tests")["seed"]
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(draw, ["one", "two"]))
    assert outcomes.count("conflict") == 1
    n = graph.query("MATCH (:SamplingPlan {plan_id: $p})-[:DREW]->(a) RETURN count(a) AS n", read=True,
                    p=plan_id)[0]["n"]
    assert n == 3
