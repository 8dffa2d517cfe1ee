"""The console's supervision forms through the real app and Neo4j: a party's credit record (record a change,
decide an appeal, grant an approval). Each form writes what the API writes (read back from the graph here), is
refused without its CSRF token and to a producer, answers bad input with the friendly page and writes nothing, and
the audit trail names the user. Each test makes its own party, so the shared database does not disturb it."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from tests.factories import auth
from tests.web.helpers import audit_entries, csrf, login, make_user


def _regulator(app, graph):
    client = app.test_client()
    user = make_user(graph, role="regulator")
    assert login(client, user["username"]).status_code == 303
    return client, user


def _party(factory):
    tag = uuid.uuid4().hex[:6]
    return factory.party(name_zh=f"信用测试参场{tag}", name_en=f"Credit Test Farm {tag}")


def _changes(graph, gln):
    return [r["c"] for r in graph.query(
        "MATCH (:Party {gln: $gln})-[:CREDIT]->(c:CreditChange) "
        "RETURN c {.after, .event_kind, .reason, .decided_by, .reversed, .appeal_state} AS c ORDER BY c.seq",
        read=True, gln=gln)]


def _status(graph, gln):
    return graph.query("MATCH (p:Party {gln: $gln}) RETURN p.credit_status AS s", read=True, gln=gln)[0]["s"]


def test_a_credit_change_is_recorded_from_the_party_page_as_the_user(app, graph, factory):
    party = _party(factory)
    regulator, user = _regulator(app, graph)
    listed = regulator.get(f"/console/parties?q={party['name_zh']}").get_data(as_text=True)
    page_url = f"/console/parties/{party['gln']}/credit"
    assert f'href="{page_url}"' in listed
    page = regulator.get(page_url)
    assert page.status_code == 200 and party["name_zh"] in page.get_data(as_text=True)
    reason = f"镉超标，抽检报告 {uuid.uuid4().hex[:6]}"
    moved = regulator.post(f"{page_url}/changes", data={
        "csrf_token": csrf(regulator, page_url), "status": "watch", "event_kind": "failed_inspection",
        "reason": reason, "evidence": "JL-2026-001"})
    assert moved.status_code == 303 and moved.headers["Location"] == f"{page_url}?done=change"
    by = f"token:user:{user['user_id']}"
    assert _changes(graph, party["gln"]) == [{"after": "watch", "event_kind": "failed_inspection", "reason": reason,
                                             "decided_by": by, "reversed": False, "appeal_state": None}]
    assert _status(graph, party["gln"]) == "watch"
    [entry] = audit_entries(graph, f"{page_url}/changes", by)
    assert entry["outcome"] == "committed" and party["gln"] in entry["detail"]
    shown = regulator.get(page_url).get_data(as_text=True)
    assert reason in shown and 'id="credit-status" class="flag">重点关注<' in shown
    assert "测试用户" in shown and user["user_id"] not in shown  # the decider by name, not by key
    english = regulator.get(f"{page_url}?lang=en").get_data(as_text=True)
    assert "Credit record" in english and "Failed inspection" in english and party["name_en"] in english


def test_the_credit_forms_are_refused_without_csrf_to_a_producer_and_for_bad_input(app, client, graph, factory):
    party = _party(factory)
    page_url = f"/console/parties/{party['gln']}/credit"
    regulator, user = _regulator(app, graph)
    form = {"status": "watch", "event_kind": "failed_inspection", "reason": "理由"}
    no_token = regulator.post(f"{page_url}/changes", data=form)
    assert no_token.status_code == 400 and 'id="problem"' in no_token.get_data(as_text=True)
    producer = make_user(graph, party_gln=party["gln"])
    login(client, producer["username"])
    refused = client.post(f"{page_url}/changes", data={**form, "csrf_token": csrf(client, "/work/")})
    assert refused.status_code == 403
    refused = client.post(f"{page_url}/approvals", data={"action": "labels", "reason": "x", "valid_days": "5",
                                                          "csrf_token": csrf(client, "/work/")})
    assert refused.status_code == 403
    token = csrf(regulator, page_url)
    for bad in ({**form, "status": "expelled"}, {**form, "reason": "   "}, {**form, "event_kind": "rumour"}):
        answer = regulator.post(f"{page_url}/changes", data={**bad, "csrf_token": token})
        assert answer.status_code == 422 and 'id="problem"' in answer.get_data(as_text=True)
    for bad in ({"action": "labels", "reason": "试产", "valid_days": "0"},
                {"action": "fly", "reason": "试产", "valid_days": "5"},
                {"action": "labels", "reason": "试产", "valid_days": "many"}):
        answer = regulator.post(f"{page_url}/approvals", data={**bad, "csrf_token": token})
        assert answer.status_code == 422 and 'id="problem"' in answer.get_data(as_text=True)
    english = regulator.post(f"{page_url}/changes?lang=en", data={**form, "status": "x", "csrf_token": token})
    assert english.status_code == 422 and "status" in english.get_data(as_text=True)
    assert _changes(graph, party["gln"]) == []
    assert graph.query("MATCH (:Party {gln: $gln})-[:APPROVED]->(x) RETURN count(x) AS n", read=True,
                       gln=party["gln"])[0]["n"] == 0
    assert regulator.get("/console/parties/12345/credit").status_code == 404


def test_an_appeal_is_decided_by_another_regulator_and_reversal_restores_the_status(app, client, graph, factory):
    party = _party(factory)
    page_url = f"/console/parties/{party['gln']}/credit"
    first, first_user = _regulator(app, graph)
    made = first.post(f"{page_url}/changes", data={
        "csrf_token": csrf(first, page_url), "status": "blacklist", "event_kind": "counterfeit",
        "reason": "仿冒他人注册商标"})
    assert made.status_code == 303
    change_id = graph.query("MATCH (:Party {gln: $gln})-[:CREDIT]->(c:CreditChange) RETURN c.change_id AS id",
                            read=True, gln=party["gln"])[0]["id"]
    filed = client.post(f"/api/v1/credit/changes/{change_id}/appeal", headers=auth(party["token"]),
                        json={"text": "商标为我方授权使用"})
    assert filed.status_code == 201, filed.get_data(as_text=True)
    appeal_id = filed.get_json()["appeal_id"]
    own = first.post(f"/console/credit/appeals/{appeal_id}/decision", data={
        "csrf_token": csrf(first, page_url), "decision": "reversed", "note": "自行撤销"})
    assert own.status_code == 422 and 'id="problem"' in own.get_data(as_text=True)
    assert _status(graph, party["gln"]) == "blacklist"
    assert _changes(graph, party["gln"])[0]["appeal_state"] == "pending"
    second, second_user = _regulator(app, graph)
    shown = second.get(page_url).get_data(as_text=True)
    assert f'id="appeal-{appeal_id}"' in shown and "商标为我方授权使用" in shown
    bad = second.post(f"/console/credit/appeals/{appeal_id}/decision", data={
        "csrf_token": csrf(second, page_url), "decision": "maybe", "note": "?"})
    assert bad.status_code == 422
    decided = second.post(f"/console/credit/appeals/{appeal_id}/decision", data={
        "csrf_token": csrf(second, page_url), "decision": "reversed", "note": "授权书属实"})
    assert decided.status_code == 303 and decided.headers["Location"] == f"{page_url}?done=decision"
    assert _status(graph, party["gln"]) == "normal"
    assert _changes(graph, party["gln"])[0]["reversed"] is True
    row = graph.query("MATCH (a:CreditAppeal {appeal_id: $id}) RETURN a.state AS state, a.decided_by AS by",
                      read=True, id=appeal_id)[0]
    assert row == {"state": "reversed", "by": f"token:user:{second_user['user_id']}"}
    by = f"token:user:{second_user['user_id']}"
    entries = audit_entries(graph, f"/console/credit/appeals/{appeal_id}/decision", by)
    assert [e["outcome"] == "committed" for e in entries] == [False, True]  # the refused "maybe", then the decision
    assert appeal_id in entries[1]["detail"] and '"reversed"' in entries[1]["detail"]


def test_an_approval_for_labels_is_granted_for_the_days_asked(app, graph, factory):
    party = _party(factory)
    page_url = f"/console/parties/{party['gln']}/credit"
    regulator, user = _regulator(app, graph)
    before = datetime.now(UTC)
    granted = regulator.post(f"{page_url}/approvals", data={
        "csrf_token": csrf(regulator, page_url), "action": "certificates", "reason": "整改后试产", "valid_days": "10"})
    after = datetime.now(UTC)
    assert granted.status_code == 303 and granted.headers["Location"] == f"{page_url}?done=approval"
    [row] = graph.query("MATCH (:Party {gln: $gln})-[:APPROVED]->(x:CreditApproval) RETURN x.action AS action, "
                        "x.reason AS reason, x.granted_by AS by, toString(x.valid_until) AS until", read=True,
                        gln=party["gln"])
    by = f"token:user:{user['user_id']}"
    assert (row["action"], row["reason"], row["by"]) == ("certificates", "整改后试产", by)
    until = datetime.fromisoformat(row["until"][:19]).replace(tzinfo=UTC)  # stored in UTC, to the second here
    assert before + timedelta(days=10) - timedelta(seconds=2) <= until <= after + timedelta(days=10, seconds=2)
    [entry] = audit_entries(graph, f"{page_url}/approvals", by)
    assert entry["outcome"] == "committed"
    shown = regulator.get(page_url).get_data(as_text=True)
    assert "开具合格证" in shown and "整改后试产" in shown


def _county() -> str:
    from graph.regions import NAMES

    counties = sorted(c for c in NAMES if c.startswith("22") and not c.endswith("00"))
    return random.SystemRandom().choice(counties)


def _plan_form(client, county, inspectors, **extra):
    return {"csrf_token": csrf(client, "/console/plans/new"), "title": f"测试抽查 {uuid.uuid4().hex[:6]}",
            "categories": ["fungi"], "region_code": county, "target_count": "500", "per_target": "1",
            "inspector_ids": [u["user_id"] for u in inspectors], **extra}


def test_a_sampling_plan_is_created_drawn_and_its_results_recorded_from_the_console(app, client, graph, factory):
    county = _county()
    farms = [factory.party(region_code=county, name_zh=f"抽查测试菌场{uuid.uuid4().hex[:6]}") for _ in range(2)]
    for farm in farms:
        factory.product(farm["gln"], category="fungi")
    regulator, user = _regulator(app, graph)
    inspectors = [make_user(graph, role="regulator") for _ in range(2)]
    new_page = regulator.get("/console/plans/new").get_data(as_text=True)
    assert f'value="{inspectors[0]["user_id"]}"' in new_page
    form = _plan_form(regulator, county, inspectors)
    made = regulator.post("/console/plans", data=form)
    assert made.status_code == 303, made.get_data(as_text=True)
    plan_url = made.headers["Location"].split("?")[0]
    plan_id = plan_url.rsplit("/", 1)[1]
    by = f"token:user:{user['user_id']}"
    row = graph.query("MATCH (pl:SamplingPlan {plan_id: $id}) RETURN pl {.title, .categories, .region_code, "
                      ".target_count, .per_target, .inspector_ids, .state, .created_by} AS pl", read=True,
                      id=plan_id)[0]["pl"]
    assert row == {"title": form["title"], "categories": ["fungi"], "region_code": county, "target_count": 500,
                   "per_target": 1, "inspector_ids": sorted(u["user_id"] for u in inspectors), "state": "draft",
                   "created_by": by}
    assert audit_entries(graph, "/console/plans", by)[0]["outcome"] == "committed"
    seed = "lottery-" + uuid.uuid4().hex[:8]
    drawn = regulator.post(f"{plan_url}/draw", data={"csrf_token": csrf(regulator, plan_url), "seed": seed})
    assert drawn.status_code == 303
    page = regulator.get(plan_url).get_data(as_text=True)
    assert f'id="plan-seed">{seed}<' in page and f'href="/public/sampling-plans/{plan_id}"' in page
    assert all(f'id="assignment-{f["gln"]}"' in page for f in farms) and "测试用户" in page
    assert [e["outcome"] for e in audit_entries(graph, f"{plan_url}/draw", by)] == ["committed"]
    again = regulator.post(f"{plan_url}/draw", data={"csrf_token": csrf(regulator, plan_url)})
    assert again.status_code == 409 and 'id="problem"' in again.get_data(as_text=True)
    # the same seed over the same scope draws the same targets in the same order
    twin = regulator.post("/console/plans", data=_plan_form(regulator, county, inspectors))
    twin_url = twin.headers["Location"].split("?")[0]
    bad_seed = regulator.post(f"{twin_url}/draw", data={"csrf_token": csrf(regulator, twin_url), "seed": "a seed!"})
    assert bad_seed.status_code == 422 and 'id="problem"' in bad_seed.get_data(as_text=True)
    assert graph.query("MATCH (pl:SamplingPlan {plan_id: $id}) RETURN pl.state AS s", read=True,
                       id=twin_url.rsplit("/", 1)[1])[0]["s"] == "draft"
    regulator.post(f"{twin_url}/draw", data={"csrf_token": csrf(regulator, twin_url), "seed": seed})
    order = "MATCH (:SamplingPlan {plan_id: $id})-[d:DREW]->(s) RETURN s.party_gln AS g ORDER BY d.order"
    assert ([r["g"] for r in graph.query(order, read=True, id=plan_id)]
            == [r["g"] for r in graph.query(order, read=True, id=twin_url.rsplit("/", 1)[1])])
    gln = farms[0]["gln"]
    bad = regulator.post(f"{plan_url}/results", data={
        "csrf_token": csrf(regulator, plan_url), "party_gln": [gln], f"result_{gln}": "fail",
        f"inspected_on_{gln}": "2026-13-40"})
    assert bad.status_code == 422 and 'id="problem"' in bad.get_data(as_text=True)
    assert graph.query("MATCH (s:SamplingAssignment {plan_id: $id, party_gln: $gln}) RETURN s.result AS r",
                       read=True, id=plan_id, gln=gln) == [{"r": None}]
    recorded = regulator.post(f"{plan_url}/results", data={
        "csrf_token": csrf(regulator, plan_url), "party_gln": [f["gln"] for f in farms],
        f"result_{gln}": "issues_found", f"inspected_on_{gln}": "2026-11-20", f"note_{gln}": "台账不全"})
    assert recorded.status_code == 303
    result = graph.query("MATCH (s:SamplingAssignment {plan_id: $id, party_gln: $gln}) RETURN s.result AS r, "
                         "s.inspected_on AS d, s.note AS n, s.recorded_by AS by", read=True, id=plan_id, gln=gln)
    assert result == [{"r": "issues_found", "d": "2026-11-20", "n": "台账不全", "by": by}]
    assert "Drawn targets and results" in regulator.get(f"{plan_url}?lang=en").get_data(as_text=True)


def test_the_plan_forms_refuse_bad_input_missing_csrf_and_a_producer(app, client, graph, factory):
    county = _county()
    regulator, user = _regulator(app, graph)
    inspectors = [make_user(graph, role="regulator")]
    title = f"不应写入 {uuid.uuid4().hex[:8]}"
    no_token = regulator.post("/console/plans", data={**_plan_form(regulator, county, inspectors),
                                                      "csrf_token": "", "title": title})
    assert no_token.status_code == 400
    for bad in ({"categories": []}, {"target_count": "0"}, {"region_code": "999999"}, {"inspector_ids": []},
                {"inspector_ids": ["no-such-account-" + uuid.uuid4().hex[:6]]}):
        answer = regulator.post("/console/plans", data={**_plan_form(regulator, county, inspectors), **bad,
                                                        "title": title})
        assert answer.status_code in (404, 422) and 'id="problem"' in answer.get_data(as_text=True)
    farm = factory.party()
    login(client, make_user(graph, party_gln=farm["gln"])["username"])
    refused = client.post("/console/plans", data={**_plan_form(regulator, county, inspectors), "title": title,
                                                  "csrf_token": csrf(client, "/work/")})
    assert refused.status_code == 403
    assert graph.query("MATCH (pl:SamplingPlan {title: $t}) RETURN count(pl) AS n", read=True,
                       t=title)[0]["n"] == 0
