"""Schemathesis drives GS1's own EPCIS 2.0 REST binding (../shared/epcis/epcis-rest-openapi.yaml) through the real
app (WSGI, real Neo4j), for every operation of the binding this server implements.

GS1's document is resolved offline by tests/hardening/gs1_openapi.py (remote schemas -> GS1's local JSON schema).
Checked for every generated request: no 5xx; the status code and the content type are ones GS1's document lists for
the operation (except the deliberate differences D1-D7 of docs/gs1_openapi.md, each named where it is accepted
below); JSON answers validate against GS1's schemas; a method GS1 lists for none of a path's operations is refused.
Bounded and deterministic: GS1's examples plus EXAMPLES derandomized requests per operation (about a minute);
GS1_OPENAPI_DEEP=1 adds schemathesis' coverage phase for a long run by hand.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from tests.hardening import gs1_openapi

if not gs1_openapi.available():
    pytest.skip("GS1's EPCIS reference material (../shared/epcis) is not on this machine", allow_module_level=True)

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402
from schemathesis.specs.openapi import checks as oa_checks  # noqa: E402
from werkzeug.exceptions import MethodNotAllowed, NotFound  # noqa: E402

from tests.conftest import TEST_PORT  # noqa: E402
from tests.factories import auth  # noqa: E402

EXAMPLES = 15  # generated requests per operation (positive and negative mixed), besides GS1's examples
BASE = "/epcis"
METHODS = ("get", "post", "put", "delete", "patch")
CHECKS = [
    st_checks.not_a_server_error,
    oa_checks.status_code_conformance,
    oa_checks.content_type_conformance,
    oa_checks.response_schema_conformance,
]
# A client of GS1's binding: JSON answers, and its errors as RFC 7807 problem details (the binding's error type).
ACCEPT = {"Accept": "application/problem+json, application/json;q=0.9"}
# Deliberate differences from GS1's document (docs/gs1_openapi.md): D1 400 QueryParameterException for a query
# parameter or body the server cannot use, on operations GS1 lists no 400 for; D2 413 QueryTooLargeException (the
# standard's status for it); D3 errors that are not one of the binding's exceptions keep the service's one JSON error
# shape (application/json); D4 problem details are checked as RFC 7807, not against GS1's per-status enums (its 404
# schema allows only NoSuchNameException, while its own example and the standard say NoSuchResourceException); D7
# GET /queries/{queryName} answers the one query definition (GS1's summary and example) where GS1's schema says an
# array of them: the answer is checked against the array's item schema; D9 415 for a body in another media type than
# JSON on any operation (a DELETE too). (D8, the service's own bizSteps as bare words, is resolved: they are written as
# URIs of our namespace, which GS1's schema takes; tests/epcis/test_own_biz_steps.py.)
EXTRA_STATUSES = {400, 413}
ONE_DEFINITION = ("/queries/{queryName}", "get")  # D7


def _app():
    from app import create_app

    uri = os.environ.get("NEO4J_URI", "").strip() or f"bolt://127.0.0.1:{TEST_PORT}"
    return create_app({"TESTING": True, "NEO4J_URI": uri, "RATELIMIT_ENABLED": False, "MIGRATE_ON_START": False,
                       "SECRET_KEY": "test-secret-key-" + "x" * 20})


def implemented(app, method: str, path: str) -> bool:
    """Whether the app routes this GS1 operation (path parameters filled with a sample value) under /epcis."""
    sample = BASE + re.sub(r"\{[^}]+\}", "x", path).rstrip("/")
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(sample or "/", method=method.upper())
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # a redirect or another routing answer: routed
        return True
    return True


APP = _app()
LOADED = gs1_openapi.load()
SPEC = LOADED.spec
LOADED_METHODS = {path: {m for m in ops if m in METHODS} for path, ops in SPEC["paths"].items()}  # as GS1 lists them
SPEC["servers"] = [{"url": BASE}]
# OPTIONS (GS1's per-resource discovery answer, 204 with headers) is not implemented: Flask's automatic OPTIONS
# answers 200 with Allow (docs/gs1_openapi.md). Path-level keys (parameters, summary) stay.
SPEC["paths"] = {path: {m: op for m, op in ops.items()
                        if m != "options" and (m not in METHODS or implemented(APP, m, path))}
                 for path, ops in SPEC["paths"].items()}
SPEC["paths"] = {p: ops for p, ops in SPEC["paths"].items() if any(m in METHODS for m in ops)}
_one = SPEC["paths"][ONE_DEFINITION[0]][ONE_DEFINITION[1]]["responses"]["200"]["content"]["application/json"]
assert _one["schema"]["type"] == "array", _one["schema"]  # D7: GS1's schema (an array) against its own example
_one["schema"] = _one["schema"]["items"]
schema = schemathesis.openapi.from_dict(SPEC)
schema.app = APP
schema.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES, database="none")
# Bounded and deterministic for CI: GS1's examples and derandomized fuzzing. GS1_OPENAPI_DEEP=1 adds schemathesis'
# coverage phase (every parameter's boundaries and mutations, other methods: ~15,000 requests, several minutes), for a
# run by hand.
DEEP = os.environ.get("GS1_OPENAPI_DEEP") == "1"
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"] if DEEP else ["examples", "fuzzing"])
SEEN: Counter = Counter()


def test_the_binding_resolves_offline():
    """Every remote reference was replaced by a local one (or dropped/permissive, as listed)."""
    import json

    text = json.dumps(SPEC)
    assert '"$ref": "http' not in text
    assert any(target.startswith("#/components/schemas/EPCISJSON_") for _, target in LOADED.substitutions)
    operations = sorted(f"{m.upper()} {p}" for p, ops in SPEC["paths"].items() for m in ops if m in METHODS)
    print("\nGS1 operations driven:", ", ".join(operations))
    print("Corrected in GS1's document:", "; ".join(LOADED.corrections))
    assert len(LOADED.corrections) == 2, LOADED.corrections  # CaptureJob's oneOf (docs/gs1_openapi.md)
    assert "POST /capture" in operations and "GET /events" in operations


def _check_error(case, response) -> None:
    """An error answer: a status GS1 lists for the operation or D1/D2/D9, in problem+json (RFC 7807) or D3."""
    documented = {int(k) for k in case.operation.definition.raw.get("responses", {}) if k.isdigit()}
    if response.status_code == 415 and 415 not in documented:  # D9: only for a body in another media type than JSON
        sent = next((v for k, v in (case.headers or {}).items() if k.lower() == "content-type"), case.media_type)
        assert sent and "json" not in sent, (case.operation.label, sent)
        documented.add(415)
    assert response.status_code in documented | EXTRA_STATUSES, (case.operation.label, response.status_code,
                                                                  sorted(documented))
    ctype = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")
    ctype = (ctype[0] if isinstance(ctype, list) else ctype).split(";")[0].strip()
    body = response.json()
    if ctype == "application/problem+json":
        assert str(body.get("type", "")).startswith("epcisException:"), body
        assert isinstance(body.get("title"), str) and body["title"], body
        assert body.get("status") == response.status_code, body
    else:
        assert ctype == "application/json" and set(body) == {"error"}, (ctype, body)
        assert body["error"]["status"] == response.status_code


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_app_answers_as_gs1_binding_says(case, neo4j_uri, role_tokens):
    response = case.call(headers={**auth(role_tokens["admin"]), **ACCEPT})
    SEEN[(case.operation.method.upper(), case.operation.path, response.status_code)] += 1
    if case.method.upper() != case.operation.method.upper():  # the deep run's probes with another method
        _check_other_method(case.method, case.operation.path, response.status_code, case.headers or {})
        return
    if response.status_code < 400:
        case.validate_response(response, checks=CHECKS)
    else:
        case.validate_response(response, checks=[st_checks.not_a_server_error])
        _check_error(case, response)


@pytest.mark.parametrize("path", sorted(SPEC["paths"]))
def test_methods_the_binding_does_not_list_are_refused(path, neo4j_uri, role_tokens):
    """A method GS1 lists for none of a driven path's operations is refused (404/405), never a 5xx; OPTIONS gets
    Flask's automatic answer (D5)."""
    url = BASE + re.sub(r"\{[^}]+\}", "x", path).rstrip("/")
    client = APP.test_client()
    for method in (*METHODS, "options"):
        if method in LOADED_METHODS[path]:
            continue
        response = client.open(url, method=method.upper(), headers={**auth(role_tokens["admin"]), **ACCEPT})
        _check_other_method(method, path, response.status_code)


def _check_other_method(method: str, path: str, status: int, headers: dict | None = None) -> None:
    """Refused (404/405), never a 5xx; OPTIONS: Flask's automatic answer (D5), or 400 to a WebSocket upgrade (D6)."""
    upgrade = any(k.lower() == "upgrade" and str(v).lower() == "websocket" for k, v in (headers or {}).items())
    allowed = ((200, 400) if upgrade else (200,)) if method.lower() == "options" else (404, 405)
    assert status in allowed, (method, path, status, upgrade)
