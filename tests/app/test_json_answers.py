"""Answers are written by orjson (fast) and read exactly as Flask's standard-library JSON wrote them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

from flask import json as flask_json
from flask.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class _Point:
    x: int
    label: str


def _standard(app, value) -> object:
    """What Flask's own provider answers for `value`, parsed."""
    provider = DefaultJSONProvider(app)
    provider.ensure_ascii = False
    return json.loads(provider.dumps(value))


def test_answers_read_as_the_standard_library_wrote_them(app):
    value = {"z": 1, "a": ["长白山人参", 1.5, 1e-5, -0.0, True, None], "when": dt.datetime(2026, 11, 25, 8, 30),
             "day": dt.date(2026, 11, 25), "id": uuid.UUID(int=7), "point": _Point(3, "田"),
             "nested": {"b": {}, "a": []}}
    with app.test_request_context():
        response = app.json.response(value)
        text = app.json.dumps(value)
    body = response.get_data()
    assert response.mimetype == "application/json"
    assert body.endswith(b"\n") and "长白山人参".encode() in body  # UTF-8, not \\u escapes
    assert json.loads(body) == json.loads(text) == _standard(app, value)
    assert list(json.loads(body)) == sorted(value)  # keys sorted, as Flask sorts them


def test_what_orjson_cannot_write_falls_back_to_the_standard_library(app):
    value = {"big": 2**70, "small": -(2**65)}
    with app.test_request_context():
        body = app.json.response(value).get_data()
        assert json.loads(body) == value == json.loads(flask_json.dumps(value))


def test_an_api_answer_goes_out_as_compact_utf8(client):
    response = client.get("/api/v1/lots/06901234567892/%E6%89%B9/trace")  # no token: our one error shape
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert response.get_data().endswith(b"\n") and b'", "' not in response.get_data()
    assert set(response.json) == {"error"} and response.json["error"]["status"] == 401
