"""Answers of the EPCIS REST binding checked against what GS1's binding (epcis-rest-openapi.yaml) says of them: the
regressions that tests/hardening/test_gs1_openapi.py (schemathesis against GS1's document) found, each pinned here
on its own (real app, real Neo4j). docs/gs1_openapi.md lists them."""

from __future__ import annotations

from tests.capture.helpers import commission, document
from tests.factories import auth, lot_code


def _problem_members(entry: dict) -> None:
    """GS1's RFC7807ProblemResponseBody: type (an epcisException URI) and title (a string) are required."""
    assert isinstance(entry.get("type"), str) and entry["type"].startswith("epcisException:"), entry
    assert isinstance(entry.get("title"), str) and entry["title"], entry


def _jobs(client, token, response) -> list[dict]:
    """The job as POST answered it, as GET /capture/{id} reads it, and as GET /capture lists it."""
    assert response.status_code == 202, response.json
    one = client.get(response.headers["Location"], headers=auth(token)).json
    listed = [j for j in client.get("/epcis/capture?perPage=5", headers=auth(token)).json
              if j["captureID"] == one["captureID"]]
    return [response.json, one, *listed]


def test_capture_job_errors_are_problem_details(client, factory):
    """An event refused in a capture job (invalid; a resent eventID with other content) is listed as RFC 7807 problem
    details, a ValidationException titled with its message; our own members (code, message, eventIndex) stay."""
    farm = factory.party()
    product = factory.product(farm["gln"])
    invalid = commission(farm["gln"], product["gtin"], lot_code(), 5, eventTime="2026-09-20T08:00:00+19:49")
    first = commission(farm["gln"], product["gtin"], lot_code(), 5)
    assert client.post("/epcis/capture", json=document(first), headers=auth(farm["token"])).json["success"]
    conflicting = {**first, "quantityList": [{**first["quantityList"][0], "quantity": 6}]}
    for event, code in ((invalid, "invalid"), (conflicting, "conflict")):
        response = client.post("/epcis/capture", json=document(event), headers=auth(farm["token"]))
        for job in _jobs(client, farm["token"], response):
            assert job["success"] is False and [e["code"] for e in job["errors"]] == [code], job
            entry = job["errors"][0]
            _problem_members(entry)
            assert entry["type"] == "epcisException:ValidationException", entry
            assert entry["title"] == entry["message"] and entry["eventIndex"] == 0, entry


def test_the_binding_root_answers_with_and_without_its_slash(client, admin_token):
    """GS1's `/` is /epcis/ as well as /epcis: the top-level collection, not a 404."""
    for url in ("/epcis", "/epcis/"):
        response = client.get(url, headers=auth(admin_token))
        assert response.status_code == 200, (url, response.status_code)
        assert response.json == client.get("/epcis", headers=auth(admin_token)).json


def test_malformed_documents_are_refused_not_a_500(client, admin_token):
    """A query document whose resultsBody is a list, and a document whose type is not a string, are 400s."""
    results = {"queryName": "q", "resultsBody": [{"eventList": []}]}
    query_doc = {**document(), "type": "EPCISQueryDocument", "epcisBody": {"queryResults": results}}
    for body in (query_doc, {**document(), "type": {}}, {**document(), "type": ["EPCISDocument"]}):
        response = client.post("/epcis/capture", json=body, headers=auth(admin_token))
        assert response.status_code == 400, (body, response.status_code, response.get_data(as_text=True)[:300])
        assert response.json["error"]["status"] == 400
