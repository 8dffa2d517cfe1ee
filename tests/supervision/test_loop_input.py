"""Bad input to the supervision loop is a 4xx in the one error shape (or the public pages' friendly page), never a
500; unknown things are 404; the migrations' constraints are in place."""

from __future__ import annotations

import pytest

from tests.factories import auth
from tests.supervision.helpers import regulator_token


@pytest.fixture(scope="module")
def regulator(graph):
    return regulator_token(graph)


@pytest.mark.parametrize("method,path,body,status", [
    ("get", "/api/v1/credit/123", None, 422),
    ("get", "/api/v1/credit/0614141000005", None, 404),
    ("post", "/api/v1/credit/0614141000005/changes", {"status": "watch", "event_kind": "failed_inspection",
                                                      "reason": "r"}, 404),
    ("post", "/api/v1/credit/0614141000005/changes", {"status": "purple", "event_kind": "x", "reason": ""}, 422),
    ("post", "/api/v1/credit/0614141000005/approvals", {"action": "launch", "reason": "r"}, 422),
    ("post", "/api/v1/credit/appeals/AP-NOPE/decision", {"decision": "reversed", "note": "n"}, 404),
    ("post", "/api/v1/credit/appeals/AP-NOPE/decision", {"decision": "maybe", "note": "n"}, 422),
    ("get", "/api/v1/credit?status=normal", None, 400),
    ("get", "/api/v1/sampling-plans/SP-NOPE", None, 404),
    ("get", "/api/v1/sampling-plans?page=0", None, 400),
    ("post", "/api/v1/sampling-plans/SP-NOPE/draw", {"seed": "a b c"}, 422),
    ("post", "/api/v1/sampling-plans/SP-NOPE/draw", {}, 404),
    ("post", "/api/v1/sampling-plans/SP-NOPE/results", {"results": [{"party_gln": "0614141000005",
                                                                     "result": "pass",
                                                                     "inspected_on": "2026-12-01"}]}, 404),
    ("put", "/api/v1/inspectors/u_nobody/employment", {"former_employers": ["0614141000005"]}, 404),
    ("put", "/api/v1/inspectors/u_nobody/employment", {"former_employers": ["123"]}, 422),
    ("get", "/api/v1/reports?reward=perhaps", None, 400),
    ("get", "/api/v1/reports/JB-20261204-NOPE0000", None, 404),
    ("post", "/api/v1/reports/JB-20261204-NOPE0000/state", {"state": "closed"}, 404),
    ("post", "/api/v1/reports/JB-20261204-NOPE0000/state", {"state": "lost"}, 422),
])
def test_bad_requests_are_refused_in_the_error_shape(client, regulator, method, path, body, status):
    kwargs = {"headers": auth(regulator)}
    if body is not None:
        kwargs["json"] = body
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["status"] == status


@pytest.mark.parametrize("path", ["/public/sampling-plans/SP-NOPE", "/public/sampling-plans/" + "x" * 300,
                                  "/report/JB-1", "/report?code=", "/report?code=" + "https://id.gs1.org/01/1" * 30])
def test_public_pages_answer_bad_paths_with_a_friendly_page(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404) and "<html" in r.get_data(as_text=True)


def test_a_report_posted_as_json_is_refused(client):
    r = client.post("/report", json={"code": "x"}, environ_overrides={"REMOTE_ADDR": "10.250.0.1"})
    assert r.status_code == 400


def test_the_public_plan_list_opens(client):
    r = client.get("/public/sampling-plans?lang=en")
    assert r.status_code == 200 and "Random inspection plans" in r.get_data(as_text=True)


def test_constraints_of_v0017_and_v0018_exist(graph):
    names = {r["name"] for r in graph.query("SHOW CONSTRAINTS YIELD name RETURN name", read=True)}
    assert {"sampling_plan_id", "sampling_assignment_id", "credit_change_id", "credit_appeal_id",
            "credit_approval_id", "consumer_report_no"} <= names
