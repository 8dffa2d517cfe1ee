"""A URL a client gave us (a subscription's dest, a recall webhook) is posted to at the address that was checked,
never at a second lookup of its name.

Any reader may subscribe a URL and any party set its webhook, so in production a name with a loopback, private or
link-local address is refused at each delivery (docs/subscriptions.md, docs/notifications.md). Checking the name and
then letting the HTTP client resolve it again left a gap: a name that answers a public address to the check and
127.0.0.1 to the connection (DNS rebinding) would have had the worker POST inside our own network; and recall
webhooks followed redirects. app/outbound.post connects to the checked address and follows nothing.

Real sockets and a real receiver on 127.0.0.1; the names are real too: `.invalid` never resolves (RFC 2606), and
`localhost` resolves to a loopback address.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from flask import Flask

from app import notify
from app.outbound import post, public_address_of
from app.subscriptions import send
from tests.notify.test_subscriptions import Receiver


def _port(receiver: Receiver) -> int:
    return receiver.server.server_address[1]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_a_pinned_post_goes_to_the_checked_address_with_the_name_in_host(receiver):
    dest = f"http://rebind.invalid:{_port(receiver)}/cb/feed?party=6901234567892"
    with pytest.raises(OSError):
        socket.getaddrinfo("rebind.invalid", _port(receiver))  # the name resolves to nothing at all

    status = post(dest, b'{"a":1}', {"Content-Type": "application/json", "X-TraceGraph-Delivery": "d-1"}, 5.0,
                  address="127.0.0.1")

    assert status == 200
    [got] = receiver.got
    assert got["path"] == "/cb/feed?party=6901234567892"
    assert got["headers"]["Host"] == f"rebind.invalid:{_port(receiver)}"
    assert got["body"] == b'{"a":1}' and got["headers"]["X-TraceGraph-Delivery"] == "d-1"
    # without the pinned address the client would have looked the name up again, and found nothing
    with pytest.raises(OSError):
        post(dest, b"{}", {}, 5.0)
    assert len(receiver.got) == 1


@pytest.mark.parametrize("status", [302, 404, 503])
def test_anything_but_2xx_is_a_failed_try_and_a_redirect_is_not_followed(status):
    answering = Receiver(status=status)
    try:
        with pytest.raises(OSError, match=f"HTTP {status}"):
            post(f"http://127.0.0.1:{_port(answering)}/cb", b"{}", {}, 5.0, address="127.0.0.1")
        assert len(answering.tries) == 1  # one POST, nothing followed
    finally:
        answering.close()


@pytest.mark.parametrize("url", ["https://localhost/cb", "https://127.0.0.1/cb", "https://[::1]/cb",
                                 "https://10.1.2.3/cb", "https://169.254.169.254/latest/meta-data"])
def test_a_name_or_address_that_is_not_public_is_refused(url):
    with pytest.raises(PermissionError, match="non-public"):
        public_address_of(urlsplit(url))


def test_in_production_a_delivery_to_a_local_name_is_refused_before_any_connection(receiver):
    app = Flask(__name__)
    app.config.update(ENV="production", WEBHOOK_TIMEOUT_S=5)
    row = {"payload": {"type": "EPCISQueryDocument"}, "delivery_id": "d-2", "token_enc": None,
           "subscription_id": "sub-1", "dest": f"https://localhost:{_port(receiver)}/cb"}
    with pytest.raises(PermissionError):
        send(app, b"k" * 32, row)
    assert receiver.got == []


def test_in_production_a_recall_webhook_to_a_local_name_is_refused_before_any_connection(receiver):
    app = Flask(__name__)
    app.config.update(ENV="production", WEBHOOK_TIMEOUT_S=5, NOTIFY_KEY="tests-notify-key-" + "n" * 24)
    row = {"payload": {"party_gln": "6901234567892"}, "delivery_id": "d-3", "secret_version": 1,
           "previous_version": None, "webhook_url": f"https://localhost:{_port(receiver)}/hook"}
    with pytest.raises(PermissionError):
        notify.Deliverer(app)._webhook(row, b"{}")
    assert receiver.got == []
