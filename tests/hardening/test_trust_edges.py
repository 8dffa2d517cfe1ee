"""Issue 12 items 5 and 7, tried as an attacker through the real app and Neo4j.

The lockout locks only what failed (a token, an address) and never /healthz, the consumer page or a valid token;
no body is read before the token is checked; exports do not run formulas; acknowledgements cannot inflate a
recall; the anonymous lot view keeps holdings private; download names cannot break their header; made-up page
tokens and out-of-range times are 400s; a revoked token stops at once; the development key is announced.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import uuid
from email.message import Message
from urllib.parse import quote, unquote

import openpyxl
import pytest

from app import create_app
from app.config import Config
from graph import tokens
from tests.factories import auth, gtin, lot_code

PASSWORD_FREE = {"TESTING": True, "MIGRATE_ON_START": False, "SECRET_KEY": "test-secret-key-" + "x" * 20}


def _close(application) -> None:
    if "scan_buffer" in application.extensions:
        application.extensions["scan_buffer"].close()
    application.extensions["graph"].close()


@pytest.fixture
def locking_app(neo4j_uri):
    """An app of its own (its own in-memory counters) that locks after 5 failures a minute, served directly."""
    application = create_app({**PASSWORD_FREE, "NEO4J_URI": neo4j_uri, "RATELIMIT_AUTH_FAILURES": "5/minute"})
    yield application
    _close(application)


@pytest.fixture
def proxied_app(neo4j_uri):
    """As locking_app, behind one trusted proxy (a load balancer adding X-Forwarded-For)."""
    application = create_app({**PASSWORD_FREE, "NEO4J_URI": neo4j_uri, "RATELIMIT_AUTH_FAILURES": "5/minute",
                              "TRUSTED_PROXIES": 1})
    yield application
    _close(application)


@pytest.fixture(scope="module")
def regulator(graph):
    """A regulator token."""
    return tokens.create(graph, "regulator", None, "trust edges")["token"]


def _registered_lot(client, factory, quantity=100.0, lot=None, **party_fields):
    """A farm (a producer token), its product and a lot registered through the API (so it has its origin event)."""
    farm = factory.party(**party_fields)
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "lot": lot or lot_code(), "quantity": quantity, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": farm["gln"]}
    made = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    assert made.status_code == 201, made.json
    return farm, product, body


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


# --- item 5: the lockout -------------------------------------------------------------------------------------


def test_bad_tokens_from_one_address_lock_only_bad_tokens(locking_app, factory, regulator):
    farm, product, lot = _registered_lot(locking_app.test_client(), factory)
    client = locking_app.test_client()
    nat = _from("100.64.0.7")  # a carrier-grade NAT: the attacker and honest phones share it
    statuses = [client.get("/api/v1/parties", headers=auth(f"tg_bad_{i}"), **nat).status_code for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    locked = client.get("/api/v1/parties", headers=auth("tg_bad_next"), **nat)
    assert locked.json["error"]["code"] == "too_many_requests" and locked.headers["Retry-After"]

    # Everyone else behind the same address goes on as before.
    assert client.get("/healthz", **nat).status_code == 200
    page = client.get(f"/01/{product['gtin']}/10/{lot['lot']}", headers={"Accept": "application/json"}, **nat)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert client.get(f"/api/v1/lots/{product['gtin']}/{lot['lot']}", **nat).status_code == 200
    shown = client.get(f"/api/v1/lots/{product['gtin']}/{lot['lot']}", headers=auth(regulator), **nat)
    assert shown.status_code == 200 and shown.json["holders"]
    assert client.get(f"/api/v1/lots/{product['gtin']}/{lot['lot']}", headers=auth(farm["token"]),
                      **nat).status_code == 200
    # and another address is not locked at all
    assert client.get("/api/v1/parties", headers=auth("tg_bad_elsewhere"), **_from("203.0.113.9")).status_code == 401


def test_failed_writes_count_too_and_are_locked_before_their_body(locking_app):
    client = locking_app.test_client()
    document = {"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": []}}
    statuses = [client.post(path, json=document, headers=auth(f"tg_bad_{i}"), **_from("192.0.2.150")).status_code
                for i, path in enumerate(["/epcis/capture", "/api/v1/parties"] * 4)]
    assert statuses == [401] * 5 + [429] * 3


def test_one_bad_token_is_locked_from_any_address(locking_app):
    client = locking_app.test_client()
    stolen = "tg_deadbeef_revoked-or-made-up"
    statuses = [client.get("/api/v1/parties", headers=auth(stolen), **_from(f"198.51.100.{i}")).status_code
                for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3


def test_behind_a_trusted_proxy_the_lockout_keys_on_the_real_client(proxied_app, regulator):
    client = proxied_app.test_client()
    balancer = "10.0.0.2"

    def via_balancer(client_address, token):
        return client.get("/api/v1/parties", headers={**auth(token), "X-Forwarded-For": client_address},
                          **_from(balancer)).status_code

    assert [via_balancer("192.0.2.66", f"tg_guess_{i}") for i in range(7)] == [401] * 5 + [429] * 2
    # the balancer's own address is not what is locked: other clients behind it still get their answers
    assert via_balancer("192.0.2.67", "tg_typo") == 401
    assert client.get("/epcis/capture", headers={**auth(regulator), "X-Forwarded-For": "192.0.2.66"},
                      **_from(balancer)).status_code == 200
    assert client.get("/healthz", **_from(balancer)).status_code == 200


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_lockout(locking_app):
    client = locking_app.test_client()
    statuses = [client.get("/api/v1/parties", headers={**auth(f"tg_guess_{i}"), "X-Forwarded-For": f"192.0.2.{i}"},
                           **_from("198.18.0.1")).status_code for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3


class Tripwire(io.BytesIO):
    """A request body that notes whether anything read it."""

    touched = False

    def read(self, *args):
        Tripwire.touched = True
        return super().read(*args)

    def readline(self, *args):
        Tripwire.touched = True
        return super().readline(*args)


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer tg_bad_token"},
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Authorization": ""},
    {},
], ids=["unknown token", "other scheme", "empty header", "no header"])
@pytest.mark.parametrize("path", ["/api/v1/parties", "/epcis/capture"])
def test_no_body_is_read_before_the_token_is_checked(locking_app, headers, path):
    body = b'{"a": ' + b"1" * 50_000 + b"}"  # over the 1,000 bytes this app accepts, and would take parsing
    locking_app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        Tripwire.touched = False
        response = locking_app.test_client().post(
            path, input_stream=Tripwire(body), content_length=len(body), content_type="application/json",
            headers=headers, **_from("192.0.2.200"))
    finally:
        locking_app.config["MAX_CONTENT_LENGTH"] = Config.MAX_CONTENT_LENGTH
    assert response.status_code == 401, response.json  # not 413 nor 400: the body was never looked at
    assert response.json["error"]["code"] == "unauthorized"
    assert not Tripwire.touched


# --- item 7: revocation --------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_on_the_next_request(client, graph, factory):
    farm = factory.party()
    created = tokens.create(graph, "producer", farm["gln"], "to revoke")
    assert client.get("/epcis/capture", headers=auth(created["token"])).status_code == 200
    # revoked as `flask tokens revoke` does it: another process, this worker's memory untouched
    tokens.revoke(graph, created["token_id"])
    refused = client.get("/epcis/capture", headers=auth(created["token"]))
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"


# --- item 7: exports -----------------------------------------------------------------------------------------


FORMULA_LOT = "=1+2*3"  # GS1 AI (10) allows = + - in lot codes


def test_exports_write_formula_like_text_as_text_and_numbers_as_numbers(client, factory, regulator):
    farm, product, lot = _registered_lot(client, factory, quantity=120.5, lot=FORMULA_LOT[:1] + lot_code()[:8]
                                         + "+1", name_zh="@SUM(1+1)", name_en="-2+3")
    url = f"/api/v1/lots/{product['gtin']}/{lot['lot']}/trace/export"
    as_csv = client.get(url, query_string={"format": "csv", "direction": "back"}, headers=auth(regulator))
    assert as_csv.status_code == 200, as_csv.get_data(as_text=True)[:300]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data().decode("utf-8-sig"))))
    assert rows
    for row in rows:
        assert row["Traceability Lot Code"] == "'" + lot["lot"]
        assert row["Location Name"] == "'@SUM(1+1)"
        assert row["Quantity"] == "120.5"  # a number, not '120.5
    dangerous = [v for row in rows for v in row.values() if v and v[0] in "=+-@\t\r"]
    assert dangerous == []

    as_xlsx = client.get(url, query_string={"format": "xlsx", "direction": "back"}, headers=auth(regulator))
    assert as_xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.get_data())).active
    header = [c.value for c in sheet[1]]
    lot_cell = sheet.cell(row=2, column=header.index("Traceability Lot Code") + 1)
    assert lot_cell.value == lot["lot"] and lot_cell.data_type == "s" and lot_cell.quotePrefix
    name_cell = sheet.cell(row=2, column=header.index("Location Name") + 1)
    assert name_cell.value == "@SUM(1+1)" and name_cell.quotePrefix
    quantity = sheet.cell(row=2, column=header.index("Quantity") + 1)
    assert quantity.value == 120.5 and quantity.data_type == "n" and not quantity.quotePrefix
    assert not sheet.cell(row=2, column=header.index("GTIN") + 1).quotePrefix


@pytest.mark.parametrize("lot", ['X";filename=a.sh', "A;B=C'D", "%22,'x'"])
def test_a_lot_code_cannot_break_the_download_header(client, factory, regulator, lot):
    _, product, body = _registered_lot(client, factory, lot=lot)
    response = client.get(f"/api/v1/lots/{product['gtin']}/{quote(body['lot'], safe='')}/trace/export",
                          query_string={"format": "csv"}, headers=auth(regulator))
    assert response.status_code == 200, response.json
    value = response.headers["Content-Disposition"]
    parsed = Message()
    parsed["Content-Disposition"] = value
    params = parsed.get_params(header="Content-Disposition", unquote=False)
    # attachment, an ASCII filename and an RFC 2231 filename* (which email reports as a (charset, lang, value) tuple)
    assert len(params) == 3 and params[0] == ("attachment", "")
    assert params[1][0] == "filename" and isinstance(params[1][1], str)
    fallback = params[1][1].strip('"')
    assert fallback.isascii() and not set(fallback) & set('";\\%')
    assert params[2][0] == "filename" and isinstance(params[2][1], tuple) and params[2][1][0] == "UTF-8"
    encoded = value.split("filename*=UTF-8''", 1)[1]
    assert not set(encoded) & set('"; \t')  # one token to the end of the header
    assert unquote(encoded) == f"trace-{product['gtin']}-{lot.replace('/', '_')}.csv"


# --- item 7: recall acknowledgements -------------------------------------------------------------------------


def test_acknowledgements_beyond_what_the_holder_held_are_refused_and_change_nothing(client, factory, regulator):
    farm, product, lot = _registered_lot(client, factory, quantity=100.0)
    opened = client.post("/api/v1/recalls", json={"lots": [{"gtin": product["gtin"], "lot": lot["lot"]}],
                                                  "reason": "trust edges", "level": 3}, headers=auth(regulator))
    assert opened.status_code == 201, opened.json
    case_url = f"/api/v1/recalls/{opened.json['recall_id']}"
    ack_url = f"{case_url}/acknowledgements"

    def ack(removed, recovered, who=farm["token"], unit="KGM"):
        return client.post(ack_url, json={"party_gln": farm["gln"], "quantity_removed": removed,
                                          "quantity_recovered": recovered, "unit": unit}, headers=auth(who))

    before = client.get(case_url, headers=auth(regulator)).json
    inflated = ack(1e9, 1e9)
    assert inflated.status_code == 422
    assert inflated.json["error"]["code"] == "rule_violation"
    assert set(inflated.json["error"]["errors"]["json"]) <= {"quantity_removed", "quantity_recovered"}
    assert ack(0, 100.5, who=regulator).status_code == 422  # a regulator cannot report it either
    assert ack(3, 0, unit="EA").status_code == 422  # a unit it never held
    after = client.get(case_url, headers=auth(regulator)).json
    assert after["effectiveness"] == before["effectiveness"]
    assert after["holders"] == before["holders"]

    assert ack(60, 60).status_code == 201
    step = client.get(case_url, headers=auth(regulator)).json
    assert ack(41, 0).status_code == 422  # 60 + 41 > 100: the cap is on the total
    assert client.get(case_url, headers=auth(regulator)).json["effectiveness"] == step["effectiveness"]
    assert ack(40, 40).status_code == 201
    kgm = next(u for u in client.get(case_url, headers=auth(regulator)).json["effectiveness"]["by_unit"]
               if u["unit"] == "KGM")
    assert kgm["removed"] == 100 and kgm["recovered"] == 100 and kgm["recovered_ratio"] == 1.0
    assert ack(0, 0).status_code == 201  # saying "nothing more" stays possible


# --- item 7: the lot view ------------------------------------------------------------------------------------


def test_the_lot_view_shows_holdings_only_to_those_allowed(client, factory, regulator):
    farm, product, lot = _registered_lot(client, factory, quantity=100.0)
    shop = factory.party(roles=("retailer",))
    stranger = factory.party()
    moved = {"lots": [{"gtin": product["gtin"], "lot": lot["lot"], "quantity": 30, "unit": "KGM"}]}
    assert client.post("/api/v1/shipments", json={**moved, "party_gln": farm["gln"], "destination_gln": shop["gln"]},
                       headers=auth(farm["token"])).status_code == 201
    received = client.post("/api/v1/receipts", json={**moved, "party_gln": shop["gln"], "source_gln": farm["gln"]},
                           headers=auth(shop["token"]))
    assert received.status_code == 201, received.json
    url = f"/api/v1/lots/{product['gtin']}/{lot['lot']}"
    everyone = {farm["gln"]: 70, shop["gln"]: 30}

    anonymous = client.get(url).json
    assert "holders" not in anonymous and "quantity" not in anonymous
    assert str(farm["gln"]) not in json.dumps({k: v for k, v in anonymous.items() if k != "owner_gln"})
    assert anonymous["gtin"] == product["gtin"] and anonymous["status"] == "active"

    def holders(token):
        return {h["gln"]: h["quantity"] for h in client.get(url, headers=auth(token)).json["holders"]}

    assert holders(regulator) == everyone
    assert holders(factory.admin_token) == everyone
    assert holders(farm["token"]) == everyone  # the lot's owner
    assert holders(shop["token"]) == {shop["gln"]: 30}  # a holder: its own line only
    assert holders(stranger["token"]) == {}
    assert "quantity" not in client.get(url, headers=auth(shop["token"])).json


# --- item 7: page tokens and times ---------------------------------------------------------------------------


def _token(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def _fingerprint() -> str:
    """The fingerprint of a query without filters, as anyone can recompute it from the published source."""
    from app.schemas.epcis import EventQueryArgs

    return EventQueryArgs().load({})["fingerprint"]


@pytest.mark.parametrize("made_up", [
    ("not a time", "x"), ("9999-12-31T23:59:59Z", "x"), ("0001-01-01T00:00:00Z", "x"),
    ("2026-01-01T00:00:00+99:00", "x"), ("2026-01-01T00:00:00+23:59", "x"), ("2026-13-45T00:00:00Z", "x"),
    ("2026-01-01T00:00:00Z", "x" * 5000),
], ids=["text", "year 9999", "year 1", "offset 99h", "offset 23:59", "month 13", "huge id"])
@pytest.mark.parametrize("path", ["/epcis/events", "/epcis/capture"])
def test_a_made_up_page_token_is_400(client, regulator, made_up, path):
    fingerprint = _fingerprint() if path == "/epcis/events" else "captures"
    response = client.get(path, query_string={"nextPageToken": _token(*made_up, fingerprint)},
                          headers=auth(regulator))
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "bad_request"
    assert "nextPageToken" in response.json["error"]["errors"]["query"]


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
                                  "0001-01-01T00:00:00Z", "2026-01-01T00:00:00+23:59"])
@pytest.mark.parametrize("param", ["GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime"])
def test_an_out_of_range_query_time_is_400(client, regulator, param, when):
    response = client.get("/epcis/events", query_string={param: when}, headers=auth(regulator))
    assert response.status_code == 400, response.json
    assert list(response.json["error"]["errors"]["query"]) == [param]


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                  "2026-01-01T00:00:00+23:59"])
def test_an_out_of_range_event_time_is_refused_at_capture_and_stores_nothing(client, factory, graph, when):
    farm = factory.party()
    event_id = f"urn:uuid:{uuid.uuid4()}"
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-09-20T00:00:00Z",
                "epcisBody": {"eventList": [{
                    "type": "ObjectEvent", "eventID": event_id, "eventTime": when, "eventTimeZoneOffset": "+08:00",
                    "action": "OBSERVE", "bizStep": "inspecting",
                    "readPoint": {"id": f"https://id.gs1.org/414/{farm['gln']}"},
                    "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin()}/10/{lot_code()}",
                                      "quantity": 1, "uom": "KGM"}]}]}}
    response = client.post("/epcis/capture", json=document, headers=auth(farm["token"]))
    assert response.status_code in (202, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 202:
        assert response.json["success"] is False
        assert any("eventTime" in e["location"] for e in response.json["errors"])
    assert client.get(f"/epcis/events?EQ_eventID={event_id}",
                      headers=auth(factory.admin_token)).json["epcisBody"]["queryResults"]["resultsBody"][
        "eventList"] == []


# --- item 7: the development SECRET_KEY ----------------------------------------------------------------------


def test_serving_with_the_development_key_is_announced_on_stderr_and_in_the_log(neo4j_uri, capsys, caplog):
    with caplog.at_level(logging.WARNING, logger="app"):
        application = create_app({"NEO4J_URI": neo4j_uri, "MIGRATE_ON_START": False})
    _close(application)
    assert application.config["SECRET_KEY"] == Config.SECRET_KEY
    assert "SECRET_KEY is the development key" in capsys.readouterr().err
    assert any("SECRET_KEY is the development key" in r.getMessage() for r in caplog.records)

    with caplog.at_level(logging.WARNING, logger="app"):
        caplog.clear()
        quiet = create_app({**PASSWORD_FREE, "NEO4J_URI": neo4j_uri})
    _close(quiet)
    assert "development key" not in capsys.readouterr().err
    assert not any("development key" in r.getMessage() for r in caplog.records)


def test_production_refuses_the_development_key(neo4j_uri):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"NEO4J_URI": neo4j_uri, "MIGRATE_ON_START": False, "ENV": "production"})
