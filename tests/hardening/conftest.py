"""Fixtures of the hardening tests: an app without rate limits (fuzzers send many requests) and role tokens."""

from __future__ import annotations

import pytest

from graph import tokens


@pytest.fixture(scope="session")
def open_app(neo4j_uri):
    """The real app on the test Neo4j, without rate limits so thousands of fuzzed requests are not throttled."""
    from app import create_app

    application = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "RATELIMIT_ENABLED": False,
                              "MIGRATE_ON_START": False, "SECRET_KEY": "test-secret-key-" + "x" * 20})
    yield application
    application.extensions["graph"].close()


@pytest.fixture(scope="session")
def role_tokens(graph):
    """One token per role; producer and lab act for fresh parties of their own."""
    from tests.factories import Factory

    factory = Factory(graph, tokens.create(graph, "admin", None, "hardening")["token"])
    producer = factory.party(roles=("farm",))
    lab = factory.party(roles=("lab",), role="lab")
    return {
        "admin": factory.admin_token,
        "regulator": tokens.create(graph, "regulator", None, "hardening")["token"],
        "producer": producer["token"],
        "lab": lab["token"],
        "producer_gln": producer["gln"],
        "lab_gln": lab["gln"],
    }
