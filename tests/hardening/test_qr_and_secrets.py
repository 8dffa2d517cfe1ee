"""Forged, altered, transplanted and replayed QR codes are recognised; a token never shows after its creation.

The per-rule scan tests live in tests/scan; these run every kind of attack on one chain through the public resolver.
"""

from __future__ import annotations

import logging

import pytest

from graph import authenticity
from labels.serials import ALPHABET, make_serial
from tests.factories import auth, gln, gtin
from tests.scan import arrange

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def chain(graph, app):
    """A ginseng chain with signed box serials, the last box sold at the shop."""
    return arrange.ginseng_chain(graph, app.config["SECRET_KEY"], boxes=6)


def _verdict(client, chain, serial: str, ua: str = "phone", lot: str | None = None, gtin: str | None = None,
             ip: str = "127.0.0.1") -> dict:
    path = f"/01/{gtin or chain.box_gtin}/10/{lot or chain.box_lot}/21/{serial}"
    response = client.get(path, headers={**JSON, "User-Agent": ua}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code in (200, 404), response.get_data(as_text=True)[:300]
    return response.get_json()["authenticity"] if response.status_code == 200 else {"verdict": "not_found"}


def _flip(c: str) -> str:
    return ALPHABET[(ALPHABET.index(c) + 1) % len(ALPHABET)]


def test_a_genuine_code_is_genuine(client, chain):
    assert _verdict(client, chain, chain.serials[0])["verdict"] == "genuine"


@pytest.mark.parametrize("position", range(16))
def test_any_altered_character_is_not_genuine(client, chain, position):
    good = chain.serials[0]
    altered = good[:position] + _flip(good[position]) + good[position + 1:]
    assert _verdict(client, chain, altered)["verdict"] in ("invalid_signature", "unknown_code")


def test_a_serial_signed_with_another_key_is_invalid(client, chain):
    forged = make_serial("not-our-key-" + "y" * 30, chain.box_gtin, chain.box_lot)
    assert _verdict(client, chain, forged)["verdict"] == "invalid_signature"


def test_a_genuine_serial_moved_to_another_lot_is_not_genuine(client, chain):
    moved = _verdict(client, chain, chain.serials[0], lot=chain.farm_lot)
    assert moved["verdict"] in ("invalid_signature", "unknown_code", "not_found")


@pytest.mark.parametrize("serial", ["a" * 16, "", "x" * 200, "../../etc", "%00", "0" * 16])
def test_malformed_serials_never_pass_as_genuine(client, chain, serial):
    response = client.get(f"/01/{chain.box_gtin}/10/{chain.box_lot}/21/{serial}", headers=JSON)
    assert response.status_code in (200, 400, 404), response.status_code
    if response.status_code == 200:
        assert response.get_json()["authenticity"]["verdict"] != "genuine"


def test_a_sold_code_replayed_by_many_clients_is_a_suspected_copy_and_one_client_reloading_is_not(client, app, chain):
    flush = app.extensions["scan_buffer"].flush
    for _ in range(authenticity.MAX_CLIENTS_AFTER_SALE + 3):  # the buyer reloading the page many times: still genuine
        assert _verdict(client, chain, chain.sold_serial, ua="the-buyer")["verdict"] == "genuine"
        flush()
    # the same code printed on copies, scanned by strangers elsewhere
    for n in range(authenticity.MAX_CLIENTS_AFTER_SALE):
        _verdict(client, chain, chain.sold_serial, ua=f"copy-{n}", ip=f"10.70.{n}.1")
        flush()
    replayed = _verdict(client, chain, chain.sold_serial, ua="another-copy", ip="10.71.0.1")
    assert replayed == {"verdict": "suspected_copy", "level": "item", "reason": "many_clients_after_sale"}
    flush()
    assert _verdict(client, chain, chain.sold_serial, ua="the-buyer")["verdict"] == "suspected_copy"


# --- tokens -------------------------------------------------------------------------------------------------------

def test_a_token_is_never_returned_or_logged_after_its_creation(open_app, graph, admin_token, factory, caplog):
    client = open_app.test_client()
    party = factory.party()
    created = client.post("/api/v1/tokens", json={"role": "producer", "party_gln": party["gln"], "label": "t"},
                          headers=auth(admin_token))
    assert created.status_code == 201
    token = created.get_json()["token"]
    secret_part = token.split("_", 2)[2]  # tg_<id>_<secret>; the secret itself may hold "_"
    wrong = token[:-4] + "AAAA"
    product_gtin = gtin()
    with caplog.at_level(logging.DEBUG):
        answers = [
            client.get(f"/api/v1/parties/{party['gln']}", headers=auth(token)),
            (made := client.post("/api/v1/products", headers=auth(token), json={
                "gtin": product_gtin,
                "name_zh": "人参", "category": "ginseng", "unit": "KGM", "owner_gln": party["gln"]})),
            client.post("/api/v1/products", headers=auth(token), json={
                "gtin": gtin(), "name_zh": "x", "category": "ginseng", "unit": "KGM",
                "owner_gln": gln()}),  # another party's: 403
            client.post("/api/v1/parties", headers=auth(token), json={"gln": gln(), "name_zh": "x",
                                                                      "roles": ["farm"]}),  # wrong role: 403
            client.get("/epcis/capture", headers=auth(token)),
            client.get("/epcis/events", headers=auth(token)),
            client.get("/api/v1/data-quality/warnings", headers=auth(token)),
            client.get(f"/api/v1/parties/{party['gln']}", headers=auth(wrong)),  # 401
            client.get("/api/v1/parties/0", headers={"Authorization": token}),  # no scheme: 401
            client.post("/api/v1/products", headers=auth(token), data=b"{bad json", content_type="application/json"),
            client.get("/openapi.json"),
            client.get("/healthz", headers=auth(token)),
        ]
    assert made.status_code == 201
    assert {a.status_code for a in answers} >= {200, 201, 400, 401, 403}
    for answer in answers:
        text = answer.get_data(as_text=True) + str(dict(answer.headers))
        assert secret_part not in text and wrong.rsplit("_", 1)[-1] not in text
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert secret_part not in logged and wrong.rsplit("_", 1)[-1] not in logged
    # stored only as a hash
    rows = graph.query("MATCH (t:Token) WHERE t.party_gln = $gln RETURN t {.*} AS t", read=True, gln=party["gln"])
    assert rows and all(secret_part not in str(r["t"]) for r in rows)
    audit = graph.query("MATCH (a:AuditEntry) WHERE a.party_gln = $gln RETURN a {.*} AS a", read=True,
                        gln=party["gln"])
    assert audit and all(secret_part not in str(a["a"]) for a in audit)
