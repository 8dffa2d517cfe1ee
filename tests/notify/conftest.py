"""Fixtures of the notification tests: a real SMTP server (aiosmtpd), a real local webhook receiver, an app whose
worker sends to them, a regulator token, and a shipped lot with its holders."""

from __future__ import annotations

import pytest

from tests.notify.arrange import shipped_lot
from tests.notify.receivers import Mailbox, WebhookReceiver

SECRET = "test-secret-key-" + "x" * 20  # the session app's (tests/conftest.py): the same notification key


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def notify_app(neo4j_uri, mailbox):
    """An app configured like the worker's: the test SMTP server, fast retries."""
    from app import create_app

    application = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "SECRET_KEY": SECRET, "SMTP_PORT": mailbox.port,
                              "SMTP_HOST": "127.0.0.1", "NOTIFY_POLL_SECONDS": 0.1, "MIGRATE_ON_START": False,
                              "PUBLIC_BASE_URL": "http://tg.test"})
    yield application
    application.extensions["graph"].close()


@pytest.fixture(scope="session")
def regulator(graph):
    from graph import tokens

    return tokens.create(graph, "regulator", None, "tests")["token"]


@pytest.fixture
def chain(graph):
    """A lot shipped to three retailers: four holders (the producer keeps the rest)."""
    return shipped_lot(graph, 3)


def register_webhooks(client, receiver, parties) -> None:
    """Each party registers the receiver under its own token; the receiver learns each secret (shown once)."""
    from tests.factories import auth

    for p in parties:
        answer = client.put(f"/api/v1/parties/{p['gln']}/webhook", json={"url": receiver.url(p["gln"])},
                            headers=auth(p["token"]))
        assert answer.status_code == 200, answer.json
        receiver.secrets[p["gln"]] = answer.json["secret"]
