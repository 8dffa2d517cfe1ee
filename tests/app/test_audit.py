"""The audit trail: every write path appends an entry to a keyed chain; `flask audit verify` proves it or names the
first broken entry.

The chain is global: other tests append to it at the same time. Each test finds its own entries by a unique
marker, and a test that tampers with an entry puts it back in a finally block.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid

import pytest

from app.audit import audit_key
from graph import audit
from tests.factories import auth, gln


def _entry(graph, marker: str, kind: str | None = None) -> dict:
    """The one entry whose body, query or detail holds the marker."""
    rows = graph.query(
        "MATCH (a:AuditEntry) WHERE a.body CONTAINS $m OR a.query CONTAINS $m OR a.detail CONTAINS $m "
        "OR a.token_id = $m RETURN a {.*} AS a ORDER BY a.seq", read=True, m=marker)
    rows = [r["a"] for r in rows if kind is None or r["a"].get("kind") == kind]
    assert len(rows) == 1, rows
    return rows[0]


def _write_party(client, admin_token) -> tuple[dict, bytes]:
    body = {"gln": gln(), "name_zh": "审计测试", "roles": ["retailer"]}
    raw = json.dumps(body).encode()
    response = client.post("/api/v1/parties", data=raw, content_type="application/json", headers=auth(admin_token))
    assert response.status_code == 201
    return body, raw


def _verify(app, graph) -> dict:
    return audit.verify(graph, audit_key(app))


def test_a_write_is_recorded_with_who_what_and_its_body(client, admin_token, graph, app):
    body, raw = _write_party(client, admin_token)
    entry = _entry(graph, body["gln"])
    assert (entry["kind"], entry["method"], entry["path"], entry["status"]) == ("http", "POST", "/api/v1/parties", 201)
    assert entry["role"] == "admin" and entry["token_id"] and entry["actor"] == f"token:{entry['token_id']}"
    # the body as sent is kept, so the change can be reconstructed; its hash is of those bytes
    assert json.loads(entry["body"]) == body
    assert entry["body_sha256"] == hashlib.sha256(raw).hexdigest() and entry["body_bytes"] == len(raw)
    assert entry["alg"] == audit.KEYED and entry["key_id"] == audit.key_id(audit_key(app))
    assert admin_token not in str(entry) and admin_token.split("_", 2)[2] not in str(entry)
    assert _verify(app, graph)["ok"]


def test_a_refused_write_is_recorded_with_its_reason_and_caller(client, admin_token, factory, graph):
    marker = uuid.uuid4().hex
    bad = client.post("/api/v1/parties", json={"gln": "1", "name_zh": marker}, headers=auth(admin_token))
    assert bad.status_code == 422
    entry = _entry(graph, marker)
    assert (entry["kind"], entry["outcome"], entry["status"]) == ("http.refused", "refused", 422)
    assert entry["error_code"] == "validation_error" and entry["message"] == bad.json["error"]["message"]
    assert entry["role"] == "admin" and marker in entry["body"]

    producer = factory.party()
    marker = uuid.uuid4().hex
    forbidden = client.post(f"/api/v1/parties?note={marker}", json={"gln": gln(), "name_zh": "x", "roles": ["farm"]},
                            headers=auth(producer["token"]))
    assert forbidden.status_code == 403
    entry = _entry(graph, marker)
    assert (entry["status"], entry["error_code"], entry["role"]) == (403, "forbidden", "producer")
    assert entry["party_gln"] == producer["gln"] and "admin" in entry["message"]


def test_an_unauthenticated_attempt_names_the_presented_token_id_and_never_its_secret(client, graph):
    marker = uuid.uuid4().hex
    forged = "tg_0badc0de_" + "s3cret" * 8
    response = client.post(f"/api/v1/parties?note={marker}", json={"gln": gln()},
                           headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    entry = _entry(graph, marker)
    assert (entry["status"], entry["error_code"]) == (401, "unauthorized")
    assert entry["actor"] == "presented:tg_0badc0de" and entry.get("token_id") is None
    assert "s3cret" not in str(entry)
    # without any token the body is not read at all (not even for the trail): its size is noted
    marker = uuid.uuid4().hex
    raw = json.dumps({"gln": gln(), "name_zh": marker}).encode()
    response = client.post(f"/api/v1/parties?note={marker}", data=raw, content_type="application/json")
    assert response.status_code == 401
    entry = _entry(graph, marker)
    assert entry.get("body") is None and entry.get("body_sha256") is None and entry.get("actor") is None
    assert entry["body_bytes"] == len(raw) and entry["body_note"] == "not read: refused before the body was read"


def test_secrets_in_a_body_are_redacted_and_the_rest_kept(client, admin_token, graph):
    marker = uuid.uuid4().hex
    body = {"gln": "1", "name_zh": marker, "password": "hunter2", "nested": [{"clientSecret": "abc123",
            "access_token": "t0k3n", "token_id": "keepme"}], "note": "tg_0123abcd_" + "Z" * 43}
    assert client.post("/api/v1/parties", json=body, headers=auth(admin_token)).status_code == 422
    entry = _entry(graph, marker)
    for secret in ("hunter2", "abc123", "t0k3n", "Z" * 43):
        assert secret not in str(entry)
    kept = json.loads(entry["body"])
    assert kept["password"] == "[redacted]" and kept["nested"][0]["clientSecret"] == "[redacted]"
    assert kept["nested"][0]["access_token"] == "[redacted]" and kept["nested"][0]["token_id"] == "keepme"
    assert kept["note"] == "tg_0123abcd_[redacted]" and kept["name_zh"] == marker
    assert entry["body_note"] == "redacted: access_token, clientSecret, password"
    # the hash is of what is kept: a hash of the original beside the rest of it would let a password be guessed
    assert entry["body_sha256"] == hashlib.sha256(entry["body"].encode()).hexdigest()


def test_a_body_over_the_cap_keeps_its_hash_and_a_note(client, admin_token, graph, app):
    marker = uuid.uuid4().hex
    raw = json.dumps({"gln": "1", "name_zh": "x" * 300}).encode()
    app.config["AUDIT_BODY_MAX"] = 100
    try:
        assert client.post(f"/api/v1/parties?note={marker}", data=raw, content_type="application/json",
                           headers=auth(admin_token)).status_code == 422
    finally:
        app.config["AUDIT_BODY_MAX"] = 1024 * 1024
    entry = _entry(graph, marker)
    assert entry.get("body") is None and entry["body_sha256"] == hashlib.sha256(raw).hexdigest()
    assert entry["body_bytes"] == len(raw) and "AUDIT_BODY_MAX" in entry["body_note"]


def _tamper(graph, seq: int, changes: dict) -> dict:
    """Overwrite properties of an entry; return what they were."""
    saved = graph.query("MATCH (a:AuditEntry {seq: $seq}) RETURN a {.*} AS a", read=True, seq=seq)[0]["a"]
    graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a += $changes", seq=seq, changes=changes)
    return saved


def _put_back(graph, seq: int, saved: dict) -> None:
    graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a = $saved", seq=seq, saved=saved)


def test_a_rewritten_entry_with_recomputed_plain_hashes_does_not_verify(client, admin_token, graph, app):
    _write_party(client, admin_token)
    body, _ = _write_party(client, admin_token)
    entry = _entry(graph, body["gln"])
    seq = entry["seq"]
    # An attacker with write access to Neo4j changes the entry and recomputes SHA-256 links as the old chain had
    # them, downgrading the entry to the unkeyed algorithm, and re-links the next entry to the new hash.
    forged = {**entry, "path": "/forged"}
    forged_hash = audit.legacy_hash(entry["prev_hash"], seq, forged)
    saved = _tamper(graph, seq, {"path": "/forged", "hash": forged_hash, "alg": None, "key_id": None})
    following = graph.query("MATCH (a:AuditEntry {seq: $seq}) RETURN a.prev_hash AS p", read=True, seq=seq + 1)
    if following:
        graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.prev_hash = $h", seq=seq + 1, h=forged_hash)
    try:
        result = _verify(app, graph)
        assert not result["ok"] and result["broken_seq"] == seq and f"entry {seq} " in result["problem"]
        assert result["last"]["seq"] == seq - 1
        cli = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert cli.exit_code == 1 and f"BROKEN at entry #{seq}" in cli.output
        # keeping the keyed algorithm and writing a plain SHA-256 as its "MAC" fails the same way
        graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.alg = $alg, a.key_id = $kid", seq=seq, alg=audit.KEYED,
                    kid=audit.key_id(audit_key(app)))
        result = _verify(app, graph)
        assert result["broken_seq"] == seq and "HMAC does not verify" in result["problem"]
        # the attacker knows the algorithm but not the key: a MAC made with any other key does not verify
        guessed = audit.entry_mac(b"guessed-key", entry["prev_hash"], seq, forged)
        graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.hash = $h", seq=seq, h=guessed)
        if following:
            graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.prev_hash = $h", seq=seq + 1, h=guessed)
        result = _verify(app, graph)
        assert result["broken_seq"] == seq and "HMAC does not verify" in result["problem"]
    finally:
        _put_back(graph, seq, saved)
        if following:
            graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.prev_hash = $h", seq=seq + 1, h=following[0]["p"])
    assert _verify(app, graph)["ok"]


def test_a_removed_entry_and_a_field_added_beside_the_mac_are_found(client, admin_token, graph, app):
    _write_party(client, admin_token)
    body, _ = _write_party(client, admin_token)
    seq = _entry(graph, body["gln"])["seq"] - 1
    saved = graph.query("MATCH (a:AuditEntry {seq: $seq}) WITH a, a {.*} AS props DELETE a RETURN props",
                        seq=seq)[0]["props"]
    try:
        result = _verify(app, graph)
        assert not result["ok"] and result["broken_seq"] == seq and f"entry {seq} is missing" in result["problem"]
    finally:
        graph.query("CREATE (a:AuditEntry) SET a = $props", props=saved)
    saved = _tamper(graph, seq, {"approved_by": "someone"})
    try:
        result = _verify(app, graph)
        assert result["broken_seq"] == seq and "approved_by" in result["problem"]
    finally:
        _put_back(graph, seq, saved)
    assert _verify(app, graph)["ok"]


def test_verify_says_what_it_proved_and_fails_with_another_key(client, admin_token, graph, app):
    body, _ = _write_party(client, admin_token)
    seq = _entry(graph, body["gln"])["seq"]
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 0, cli.output
    lines = cli.output.splitlines()
    assert lines[0].startswith("audit trail intact: ") and "no gaps" in lines[0]
    count, last = (int(x) for x in re.match(r"audit trail intact: (\d+) entries, #1 to #(\d+)", lines[0]).groups())
    assert count == last >= seq
    assert lines[1].startswith("  verified: #1 (") and f"to #{last} (" in lines[1]
    assert f"HMAC-SHA256 link verified with the configured key (key id {audit.key_id(audit_key(app))})" in cli.output
    assert f"chain head: #{last} " in lines[-1] and "matches the last entry" in lines[-1]
    configured = app.config["AUDIT_KEY"]
    app.config["AUDIT_KEY"] = "another-key-" + "y" * 30
    try:
        other = app.test_cli_runner().invoke(args=["audit", "verify"])
    finally:
        app.config["AUDIT_KEY"] = configured
    first_keyed = graph.query("MATCH (a:AuditEntry) WHERE a.alg = $alg RETURN min(a.seq) AS s", read=True,
                              alg=audit.KEYED)[0]["s"]
    assert other.exit_code == 1 and f"BROKEN at entry #{first_keyed}: " in other.output
    assert "another audit key" in other.output


def test_the_key_is_never_stored_and_is_separate_from_secret_key(app, graph):
    configured = app.config["AUDIT_KEY"]
    try:
        app.config["AUDIT_KEY"] = ""  # unset: derived from SECRET_KEY, under its own domain
        key = audit_key(app)
        assert key != app.config["SECRET_KEY"].encode() and len(key) == 32
        assert key != audit_key(type("A", (), {"config": {"AUDIT_KEY": "", "SECRET_KEY": "other" * 8}})())
        app.config["AUDIT_KEY"] = "configured-audit-key"
        assert audit_key(app) == b"configured-audit-key"
    finally:
        app.config["AUDIT_KEY"] = configured
    texts = [text for candidate in (key, audit_key(app)) for text in (candidate.hex(), candidate.decode("latin-1"))]
    assert graph.query("MATCH (n) WHERE any(k IN keys(n) WHERE n[k] IN $texts) RETURN count(n) AS n", read=True,
                       texts=texts)[0]["n"] == 0


def test_concurrent_writers_form_one_gapless_chain(app, graph):
    marker = uuid.uuid4().hex
    seqs: list[int] = []
    errors: list[Exception] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                seqs.append(audit.append(graph, {"at": "t", "kind": "test", "detail": f"{marker}:{n}:{i}"},
                                         audit_key(app)))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(seqs)) == 40
    stored = graph.query("MATCH (a:AuditEntry) WHERE a.detail STARTS WITH $m RETURN a.seq AS s", read=True,
                         m=marker + ":")
    assert sorted(r["s"] for r in stored) == sorted(seqs)
    assert _verify(app, graph)["ok"]


def test_a_write_and_its_entry_commit_together_or_not_at_all(app, graph):
    marker = uuid.uuid4().hex

    def work(tx, m):
        tx.run("CREATE (:AuditTestMarker {m: $m})", m=m).consume()
        return m

    def markers() -> int:
        return graph.query("MATCH (n:AuditTestMarker {m: $m}) RETURN count(n) AS n", read=True, m=marker)[0]["n"]

    try:
        # the entry cannot be stored (a map is not a property value): the write before it is rolled back too
        with pytest.raises(Exception, match="(?i)map|propert|type"):
            audit.write_audited(graph, audit_key(app), work, {"at": "t", "kind": "test", "detail": {"m": marker}},
                                marker)
        assert markers() == 0
        result, seq = audit.write_audited(graph, audit_key(app), work,
                                          lambda m: {"at": "t", "kind": "test", "detail": m}, marker)
        assert result == marker and markers() == 1
        assert graph.query("MATCH (a:AuditEntry {seq: $s}) RETURN a.detail AS d", read=True, s=seq)[0]["d"] == marker
    finally:
        graph.query("MATCH (n:AuditTestMarker {m: $m}) DELETE n", m=marker)


def test_a_request_whose_write_appends_its_entry_is_recorded_once(neo4j_uri, graph, admin_token):
    """The pattern a write path uses to commit its entry with it: transaction_entry, append_tx, mark_recorded."""
    from flask import jsonify, request

    from app import create_app
    from app.audit import mark_recorded, transaction_entry
    from app.auth import require

    own = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "MIGRATE_ON_START": False,
                      "SECRET_KEY": "test-secret-key-" + "x" * 20})

    @own.post("/test-audited-write")
    @require("admin")
    def audited_write():
        entry, key = transaction_entry()
        marker = request.get_json()["marker"]

        def work(tx):
            tx.run("CREATE (:AuditTestMarker {m: $m})", m=marker).consume()
            return marker

        _, seq = audit.write_audited(own.extensions["graph"], key, work, entry)
        mark_recorded(seq)
        return jsonify(seq=seq), 201

    marker = uuid.uuid4().hex
    try:
        response = own.test_client().post("/test-audited-write", json={"marker": marker}, headers=auth(admin_token))
        assert response.status_code == 201
        rows = graph.query("MATCH (a:AuditEntry) WHERE a.body CONTAINS $m RETURN a {.*} AS a", read=True, m=marker)
        assert [r["a"]["seq"] for r in rows] == [response.json["seq"]]  # once: not again after the response
        entry = rows[0]["a"]
        assert (entry["outcome"], entry["method"], entry["role"]) == ("committed", "POST", "admin")
        assert json.loads(entry["body"]) == {"marker": marker}
    finally:
        graph.query("MATCH (n:AuditTestMarker {m: $m}) DELETE n", m=marker)
        own.extensions["graph"].close()
