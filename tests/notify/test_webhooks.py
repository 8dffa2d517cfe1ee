"""Parties register their webhook and rotate its secret under their own token; the secret is shown once and never
stored; after a rotation messages carry the new signature and, for a while, the old one too."""

from __future__ import annotations

import hashlib
import time

from app.notify import run_worker
from tests.factories import auth
from tests.notify.receivers import WebhookReceiver


def test_a_party_registers_and_rotates_its_own_webhook(client, graph, notify_app, chain, regulator):
    shop, other = chain["retailers"][0], chain["retailers"][1]
    url = "http://127.0.0.1:9/hook"
    put = client.put(f"/api/v1/parties/{shop['gln']}/webhook", json={"url": url}, headers=auth(shop["token"]))
    assert put.status_code == 200 and put.json["secret"].startswith("whsec_")
    secret = put.json["secret"]
    assert put.json["fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()[:16]
    # another party may not touch it; nobody reads the secret back; it is nowhere in the database
    assert client.put(f"/api/v1/parties/{shop['gln']}/webhook", json={"url": url},
                      headers=auth(other["token"])).status_code == 403
    assert client.post(f"/api/v1/parties/{shop['gln']}/webhook/rotate", json={},
                       headers=auth(other["token"])).status_code == 403
    got = client.get(f"/api/v1/parties/{shop['gln']}/webhook", headers=auth(shop["token"])).json
    assert got["secret"] is None and got["url"] == url
    stored = graph.query("MATCH (w:Webhook {party_gln: $g}) RETURN properties(w) AS p", read=True, g=shop["gln"])
    assert secret not in str(stored[0]["p"])
    # moving the endpoint keeps the secret (not shown again)
    moved = client.put(f"/api/v1/parties/{shop['gln']}/webhook", json={"url": url + "2"}, headers=auth(shop["token"]))
    assert moved.json["secret"] is None and moved.json["version"] == 1
    assert client.put(f"/api/v1/parties/{shop['gln']}/webhook", json={"url": "ftp://x.test/"},
                      headers=auth(shop["token"])).status_code == 422

    receiver = WebhookReceiver()
    try:
        client.put(f"/api/v1/parties/{shop['gln']}/webhook", json={"url": receiver.url(shop["gln"])},
                   headers=auth(shop["token"]))
        rotated = client.post(f"/api/v1/parties/{shop['gln']}/webhook/rotate", json={}, headers=auth(shop["token"]))
        assert rotated.status_code == 200 and rotated.json["version"] == 2
        new = rotated.json["secret"]
        assert new != secret and new.startswith("whsec_")
        receiver.secrets[shop["gln"]] = secret  # a receiver that has not switched yet still verifies
        lot = {"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}
        case = client.post("/api/v1/recalls", json={"lots": [lot], "reason": "rotation", "level": 3},
                           headers=auth(regulator)).json
        run_worker(notify_app, recall_id=case["recall_id"], once=True)
        assert [r["gln"] for r in receiver.received] == [shop["gln"]] and receiver.refused == []
        body, headers = receiver.received[0]["body"], receiver.headers[0]
        assert receiver.ref["verify"](new, headers, body)  # and the new secret verifies the same request
        assert len(headers["X-TraceGraph-Signature"].split(",")) == 2
        # once the overlap is over, only the new secret signs: a receiver still on the old one refuses
        notify_app.config["WEBHOOK_SECRET_OVERLAP_S"] = 0
        assert client.post(f"/api/v1/recalls/{case['recall_id']}/close", json={},
                           headers=auth(regulator)).status_code == 200
        run_worker(notify_app, recall_id=case["recall_id"], once=True)
        assert len(receiver.received) == 1 and receiver.refused == ["bad signature"]
        receiver.secrets[shop["gln"]] = new
        time.sleep(2.2)  # the first backoff
        run_worker(notify_app, recall_id=case["recall_id"], once=True)
        assert len(receiver.received) == 2 and len(receiver.headers[1]["X-TraceGraph-Signature"].split(",")) == 1
    finally:
        notify_app.config["WEBHOOK_SECRET_OVERLAP_S"] = 86400
        receiver.close()


def test_a_webhook_into_our_own_network_is_refused_and_nothing_is_stored(client, graph, notify_app, chain):
    """In production https only and never a loopback, private or link-local host (the worker would post into our own
    network; a name is checked again at each delivery, app/outbound.py); in every environment no credentials."""
    shop = chain["retailers"][0]
    app = client.application
    before = app.config["ENV"]
    app.config["ENV"] = "production"
    try:
        for url, why in [("http://hooks.example.com/x", "use https"),
                         ("https://10.1.2.3/hook", "not a public address"),
                         ("https://169.254.169.254/latest", "not a public address"),
                         ("https://localhost/hook", "not a public host")]:
            refused = client.put(f"/api/v1/parties/{shop['gln']}/webhook", json={"url": url},
                                 headers=auth(shop["token"]))
            assert refused.status_code == 422 and refused.json["error"]["errors"]["json"]["url"] == [why], url
    finally:
        app.config["ENV"] = before
    with_credentials = client.put(f"/api/v1/parties/{shop['gln']}/webhook",
                                  json={"url": "https://user:pw@hooks.example.com/x"}, headers=auth(shop["token"]))
    assert with_credentials.status_code == 422
    stored = graph.query("MATCH (w:Webhook {party_gln: $g}) RETURN w.url AS url", read=True, g=shop["gln"])
    assert stored == []
