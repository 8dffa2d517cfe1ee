"""`flask users create` / `flask users reset` and the demo's users, against the real app and Neo4j."""

from __future__ import annotations

import uuid

from app.accounts import create_demo_users, describe_demo_users
from tests.web.helpers import login


def test_flask_users_create_makes_the_first_admin_from_stdin(app, client, graph):
    name = "admin" + uuid.uuid4().hex[:8]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--username", name, "--role", "admin", "--password-stdin"],
                           input="a long admin secret\n")
    assert result.exit_code == 0, result.output
    assert "a long admin secret" not in result.output
    assert login(client, name, "a long admin secret").status_code == 303
    assert client.get("/work/admin/users").status_code == 200
    entry = graph.query("MATCH (a:AuditEntry {kind: 'cli.users.create'}) WHERE a.detail CONTAINS $n "
                        "RETURN a {.*} AS a", read=True, n=name)[0]["a"]
    assert "a long admin secret" not in str(entry) and "$argon2" not in str(entry)

    again = runner.invoke(args=["users", "create", "--username", name, "--role", "admin", "--password-stdin"],
                          input="another secret!\n")
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "--username", name + "x", "--role", "producer",
                                "--password-stdin"], input="short\n")
    assert short.exit_code != 0

    reset = runner.invoke(args=["users", "reset", name, "--password-stdin"], input="a newer admin secret\n")
    assert reset.exit_code == 0 and client.get("/work/").status_code == 302  # its session ended
    assert login(client, name, "a newer admin secret").status_code == 303


def test_the_demo_gets_one_user_per_party_with_a_password_printed_once(app, graph, factory):
    farm, lab = factory.party(), factory.party(roles=("lab",), role="lab")
    key = "demo" + uuid.uuid4().hex[:8]
    parties = [{"key": key + "_farm", **farm}, {"key": key + "_lab", **lab}]
    made = create_demo_users(app, parties)
    assert {key + "_farm", key + "_lab"} <= set(made)
    assert login(app.test_client(), key + "_farm", made[key + "_farm"]).status_code == 303
    roles = {r["n"]: r["role"] for r in graph.query(
        "MATCH (u:User) WHERE u.username STARTS WITH $k RETURN u.username AS n, u.role AS role", read=True, k=key)}
    assert roles == {key + "_farm": "producer", key + "_lab": "lab"}
    assert create_demo_users(app, parties) == {}  # a second load leaves them (and their passwords) alone
    text = describe_demo_users(made, "http://127.0.0.1:8000")
    assert made[key + "_farm"] in text and "/work/login" in text
