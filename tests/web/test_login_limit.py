"""Log-in attempts per client address are bounded (each costs an argon2 check), with a friendly page; the
per-account lockout (tests/web/test_accounts.py) is separate."""

from __future__ import annotations

import pytest

from tests.web.helpers import csrf


@pytest.fixture(scope="module")
def limited_app(neo4j_uri):
    from app import create_app

    application = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "SECRET_KEY": "test-secret-key-" + "x" * 20,
                              "MIGRATE_ON_START": False, "RATELIMIT_LOGIN": "3/minute"})
    yield application
    application.extensions["graph"].close()


def test_log_in_attempts_per_address_are_limited_with_a_page_in_the_users_language(limited_app):
    client = limited_app.test_client()
    client.set_cookie("lang", "en")
    answers = [client.post("/work/login", data={"login": "nobody-here", "password": "wrong password",
                                                "csrf_token": csrf(client)}) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 60  # the limiter says how long is left of its minute
    assert "Too many attempts" in refused.get_data(as_text=True)
    # another address is not affected, and reading the page is never limited
    other = limited_app.test_client()
    assert other.post("/work/login", data={"login": "nobody-here", "password": "x", "csrf_token": csrf(other)},
                      environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 401
    assert client.get("/work/login").status_code == 200
