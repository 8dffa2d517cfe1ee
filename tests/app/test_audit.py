"""Every write lands in the hash-chained audit trail; `flask audit verify` notices a changed or removed entry."""

from graph import audit
from tests.factories import auth, gln


def _write_something(client, admin_token) -> str:
    body = {"gln": gln(), "name_zh": "审计测试", "roles": ["retailer"]}
    assert client.post("/api/v1/parties", json=body, headers=auth(admin_token)).status_code == 201
    return body["gln"]


def _last_entry(graph) -> dict:
    return graph.query("MATCH (a:AuditEntry) RETURN a {.*} AS a ORDER BY a.seq DESC LIMIT 1", read=True)[0]["a"]


def test_a_write_is_recorded_with_who_and_what(client, admin_token, graph):
    _write_something(client, admin_token)
    entry = _last_entry(graph)
    assert entry["method"] == "POST" and entry["path"] == "/api/v1/parties" and entry["status"] == 201
    assert entry["role"] == "admin" and entry["token_id"]
    assert admin_token not in str(entry)
    assert audit.verify(graph)["ok"]


def test_a_failed_write_is_not_recorded(client, admin_token, graph):
    _write_something(client, admin_token)
    before = _last_entry(graph)["seq"]
    assert client.post("/api/v1/parties", json={"gln": "1"}, headers=auth(admin_token)).status_code == 422
    assert _last_entry(graph)["seq"] == before


def test_verify_detects_a_changed_entry_and_the_cli_fails(client, admin_token, graph, app):
    _write_something(client, admin_token)
    seq = _last_entry(graph)["seq"]
    graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.path = '/forged'", seq=seq)
    try:
        result = audit.verify(graph)
        assert not result["ok"] and f"entry {seq} was changed" in result["problem"]
        cli = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert cli.exit_code == 1 and "BROKEN" in cli.output
    finally:
        graph.query("MATCH (a:AuditEntry {seq: $seq}) SET a.path = '/api/v1/parties'", seq=seq)
    assert audit.verify(graph)["ok"]


def test_verify_detects_a_removed_entry(client, admin_token, graph):
    _write_something(client, admin_token)
    _write_something(client, admin_token)
    seq = _last_entry(graph)["seq"] - 1
    saved = graph.query("MATCH (a:AuditEntry {seq: $seq}) WITH a, a {.*} AS props DELETE a RETURN props",
                        seq=seq)[0]["props"]
    try:
        result = audit.verify(graph)
        assert not result["ok"] and f"entry {seq} is missing" in result["problem"]
    finally:
        graph.query("CREATE (a:AuditEntry) SET a = $props", props=saved)
    assert audit.verify(graph)["ok"]
