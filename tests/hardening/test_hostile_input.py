"""What fuzzers miss: huge and deeply nested bodies, wrong media types, bad UTF-8, duplicate keys, NaN, odd dates.

Every answer is a 4xx in the one error shape, never a 500, and nothing is written: where a request names
records, the fingerprint of those records (tests/fingerprint.py) is the same after it.
"""

from __future__ import annotations

import json
import logging

import pytest

from app import create_app
from tests.capture.helpers import commission, document
from tests.factories import auth, gln, gtin, lot_code
from tests.fingerprint import graph_fingerprint, named_in, unchanged
from tests.hardening.test_fuzz import assert_error_shape


class _Answer:
    """Adapts a Flask test response to the helper that checks the error shape."""

    def __init__(self, response):
        self.status_code = response.status_code
        self._response = response

    def json(self):
        return self._response.get_json()


def refused(response, status: int | tuple[int, ...], mentions: str = "") -> dict:
    """Assert a 4xx in our one shape (optionally mentioning a word) and return its error."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:500])
    assert_error_shape(_Answer(response))
    error = response.get_json()["error"]
    assert mentions in json.dumps(error, ensure_ascii=False), error
    return error


def party_body(**extra) -> dict:
    """A valid party registration."""
    return {"gln": gln(), "name_zh": "加固测试", "roles": ["retailer"], **extra}


def post_raw(client, path: str, data: bytes, token: str, content_type: str = "application/json"):
    """POST raw bytes."""
    return client.post(path, data=data, headers={**auth(token), "Content-Type": content_type})


@pytest.fixture(autouse=True)
def _no_unhandled_errors(caplog):
    """No request in these tests may reach the 500 handler (it logs 'unhandled error')."""
    with caplog.at_level(logging.ERROR):
        yield
    assert not [r for r in caplog.records if r.getMessage() == "unhandled error"]


# --- size ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture"])
def test_a_huge_document_is_413_in_our_shape(neo4j_uri, admin_token, path):
    small = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "MAX_CONTENT_LENGTH": 64 * 1024,
                        "MIGRATE_ON_START": False})
    try:
        events = [commission(gln(), gtin(), lot_code(), 1.0) for _ in range(400)]
        body = json.dumps(document(*events) if path.startswith("/epcis") else party_body(note="x" * 100_000))
        refused(post_raw(small.test_client(), path, body.encode(), admin_token), 413)
    finally:
        small.extensions["graph"].close()


def test_very_long_strings_are_refused_by_field(client, graph, admin_token):
    body = party_body(name_zh="长" * 100_000)
    with unchanged(graph, **named_in(body)):
        response = client.post("/api/v1/parties", json=body, headers=auth(admin_token))
    error = refused(response, 422, "name_zh")
    assert len(error["message"]) < 5000  # the message names the field; it does not echo the megabyte back


def test_a_lot_code_of_ten_thousand_characters_is_refused(client, graph, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "lot": "A" * 10_000, "quantity": 5, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": farm["gln"]}
    with unchanged(graph, **named_in(body)):
        response = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    refused(response, 422, "lot")


# --- structure ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [100, 10_000, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture", "/api/v1/shipments"])
def test_deeply_nested_json_is_400_not_a_recursion_error(client, admin_token, path, depth):
    body = b'{"a":' * depth + b"1" + b"}" * depth
    refused(post_raw(client, path, body, admin_token), 400, "nests deeper")
    nested_list = b"[" * depth + b"]" * depth
    refused(post_raw(client, path, nested_list, admin_token), 400, "nests deeper")


@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture", "/api/v1/lots"])
def test_a_duplicate_key_is_refused_naming_it(client, graph, admin_token, path):
    first, second = gln(), gln()
    body = b'{"gln": "%s", "gln": "%s", "name_zh": "x", "roles": ["farm"]}' % (first.encode(), second.encode())
    with unchanged(graph, parties=[first, second]):
        response = post_raw(client, path, body, admin_token)
    refused(response, 400, "duplicate key 'gln'")


def test_a_duplicate_key_deep_inside_an_epcis_event_is_refused_and_nothing_is_stored(client, factory, graph):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    event = commission(farm["gln"], product["gtin"], lot, 10.0)
    text = json.dumps(document(event))
    # the same quantity given twice with different values: a record must not pick one silently
    text = text.replace('"quantity": 10.0', '"quantity": 10.0, "quantity": 1000.0')
    with unchanged(graph, **named_in(document(event))):
        response = post_raw(client, "/epcis/capture", text.encode(), farm["token"])
    refused(response, 400, "duplicate key 'quantity'")
    assert graph.query("MATCH (e:Event {event_id: $id}) RETURN count(e) AS n", id=event["eventID"])[0]["n"] == 0


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_nan_and_infinity_are_not_numbers(client, graph, factory, constant):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    body = (b'{"gtin": "%s", "lot": "%s", "quantity": %s, "unit": "KGM", "production_date": "2026-09-20", '
            b'"owner_gln": "%s"}') % (product["gtin"].encode(), lot.encode(), constant, farm["gln"].encode())
    with unchanged(graph, lots=[{"gtin": product["gtin"], "lot": lot}], parties=[farm["gln"]]):
        refused(post_raw(client, "/api/v1/lots", body, farm["token"]), 400)
    event = commission(farm["gln"], product["gtin"], lot, 1.0)
    doc = json.dumps(document(event)).replace('"quantity": 1.0', '"quantity": ' + constant.decode())
    with unchanged(graph, **named_in(document(event))):
        refused(post_raw(client, "/epcis/capture", doc.encode(), farm["token"]), 400)


# --- encoding and media type --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b'{"name_zh": "\xff\xfe"}', b'{"name_zh": "\xe4\xb8"}', b"\xef\xbb\xbf{}",
                                  b'{"name_zh": "\xed\xa0\x80"}'])
@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture"])
def test_invalid_utf8_is_400(client, admin_token, path, body):
    refused(post_raw(client, path, body, admin_token), 400)


@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture"])
def test_a_lone_surrogate_escape_is_400(client, admin_token, path):
    body = json.dumps(party_body(name_zh="\\ud800x")).replace("\\\\ud800", "\\ud800").encode()
    refused(post_raw(client, path, body, admin_token), 400, "surrogate")


def test_an_escaped_surrogate_pair_is_fine(client, admin_token):
    body = json.dumps(party_body(name_zh="人参 \U0001f33f"), ensure_ascii=True).encode()  # "\ud83c\udf3f"
    assert post_raw(client, "/api/v1/parties", body, admin_token).status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x"])
@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture", "/api/v1/shipments"])
def test_a_body_that_is_not_json_is_415(client, admin_token, path, content_type):
    body = json.dumps(party_body()).encode()
    if path == "/epcis/capture" and content_type == "application/xml":
        # capture reads EPCIS XML (docs/epcis-xml.md): JSON sent as XML is a document that is not XML
        answer = post_raw(client, path, body, admin_token, content_type)
        assert answer.status_code == 400 and answer.get_json()["error"]["status"] == 400, answer.get_data(as_text=True)
        return
    refused(post_raw(client, path, body, admin_token, content_type), 415, "application/json")


def test_json_with_a_json_suffix_media_type_is_accepted(client, admin_token):
    response = post_raw(client, "/api/v1/parties", json.dumps(party_body()).encode(), admin_token,
                        "application/ld+json")
    assert response.status_code == 201


def test_an_anonymous_body_gets_401_before_it_is_read(client):
    response = client.post("/api/v1/parties", data=b"\xff" * 10, headers={"Content-Type": "text/plain"})
    refused(response, 401)


# --- GS1 character set --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lot", ["LOT 1", "批次一", "A#B", "A~B", "A\\B", "LOT\n1", "A\x00B", "", "A" * 21])
def test_lot_codes_outside_gs1_set_82_are_refused(client, graph, factory, lot):
    farm = factory.party()
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "lot": lot, "quantity": 5, "unit": "KGM", "production_date": "2026-09-20",
            "owner_gln": farm["gln"]}
    with unchanged(graph, **named_in(body)):
        response = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    refused(response, 422, "lot")


@pytest.mark.parametrize("lot", ["LOT%201", "%E6%89%B9%E6%AC%A1", "A%23B", "A~B"])
def test_lot_codes_outside_gs1_set_82_in_a_path_are_refused(client, admin_token, lot):
    response = client.get(f"/api/v1/lots/06901234567892/{lot}/trace", headers=auth(admin_token))
    refused(response, 422)


def test_a_lot_code_outside_set_82_in_an_epcis_event_is_not_stored(client, factory, graph):
    farm = factory.party()
    product = factory.product(farm["gln"])
    event = commission(farm["gln"], product["gtin"], "L", 1.0)
    event["quantityList"][0]["epcClass"] = f"https://id.gs1.org/01/{product['gtin']}/10/LOT%20%E6%89%B9"
    scope = named_in(document(event))
    scope["lots"].append({"gtin": product["gtin"], "lot": "LOT 批"})  # the lot code the URI would decode to
    with unchanged(graph, **scope):
        response = client.post("/epcis/capture", json=document(event), headers=auth(farm["token"]))
    assert response.status_code in (202, 400), response.get_data(as_text=True)
    if response.status_code == 202:
        assert response.get_json()["success"] is False
    else:
        refused(response, 400)
    assert graph.query("MATCH (e:Event {event_id: $id}) RETURN count(e) AS n", id=event["eventID"])[0]["n"] == 0


# --- dates --------------------------------------------------------------------------------------------------------

def _shipment(farm: dict, lot: dict, when: str) -> dict:
    return {"party_gln": farm["gln"], "destination_gln": farm["dest"], "event_time": when,
            "lots": [{"gtin": lot["gtin"], "lot": lot["lot"], "quantity": 1, "unit": "KGM"}]}


@pytest.fixture
def holding(factory):
    """A farm holding a lot, and a party to ship to."""
    farm = factory.party()
    dest = factory.party(roles=("distributor",))
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"])
    return {**farm, "dest": dest["gln"]}, lot


@pytest.mark.parametrize("when", ["2999-01-01T00:00:00+08:00", "9999-12-31T23:59:59+00:00"])
def test_far_future_event_times_are_refused(client, graph, holding, when):
    farm, lot = holding
    body = _shipment(farm, lot, when)
    with unchanged(graph, **named_in(body)):
        response = client.post("/api/v1/shipments", json=body, headers=auth(farm["token"]))
    refused(response, 422)


@pytest.mark.parametrize("when", ["1969-12-31T23:59:59+08:00", "1900-01-01T00:00:00+08:00",
                                  "0001-01-01T00:00:00+00:00"])
def test_pre_1970_event_times_never_crash(client, graph, holding, when):
    """Before the epoch is a valid instant, but not before the lot existed: refused by the time-order rule."""
    farm, lot = holding
    body = _shipment(farm, lot, when)
    with unchanged(graph, **named_in(body)):
        response = client.post("/api/v1/shipments", json=body, headers=auth(farm["token"]))
    refused(response, 422)


@pytest.mark.parametrize("when", ["2026-09-21T08:00:00+15:00", "2026-09-21T08:00:00-23:59", "2026-13-01T00:00:00Z",
                                  "2026-09-21T08:00:00", "10000-01-01T00:00:00Z", "yesterday"])
def test_impossible_or_unzoned_times_are_422(client, graph, holding, when):
    farm, lot = holding
    body = _shipment(farm, lot, when)
    with unchanged(graph, **named_in(body)):
        response = client.post("/api/v1/shipments", json=body, headers=auth(farm["token"]))
    refused(response, 422, "event_time")


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1969-07-20T20:17:40Z", "9999-12-31T23:59:59+14:00"])
def test_extreme_trace_windows_answer(client, admin_token, holding, when):
    _, lot = holding
    response = client.get(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/trace",
                          query_string={"from": "0001-01-01T00:00:00Z", "to": when}, headers=auth(admin_token))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("field,value", [("production_date", "1899-01-01"), ("production_date", "9999-12-31"),
                                         ("production_date", "0001-01-01"), ("expiry_date", "9999-12-31")])
def test_extreme_lot_dates_never_crash(client, graph, factory, field, value):
    farm = factory.party()
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "lot": lot_code(), "quantity": 5, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": farm["gln"], field: value}
    before = graph_fingerprint(graph, **named_in(body))
    response = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    assert response.status_code in (201, 422), response.get_data(as_text=True)[:300]
    if response.status_code == 422:
        refused(response, 422, field)
        assert graph_fingerprint(graph, **named_in(body)) == before
