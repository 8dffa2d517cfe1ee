"""POSTs to URLs our clients gave us: EPCIS subscription dests and parties' recall webhooks.

A URL a client registers points wherever the client likes, so the worker's POST must not become a way into our own
network. In production (``public_only``) the host's name is resolved once, refused if any of its addresses is
loopback, private, link-local, reserved or multicast (gs1/subscription_rules.public_address), and the connection goes
to the address that was checked, never to a second lookup: a name that answers a public address to the check and a
private one to the connection (DNS rebinding) gets nowhere. The name stays in the Host header and, for https, in SNI
and the certificate check. A redirect is never followed (it could point anywhere): a 3xx is a failed try, as is
every answer but 2xx. Tests and development post to local receivers (``public_only`` off). The connection is direct:
an HTTP(S)_PROXY in the environment is not used (urllib used it; a proxy resolves the name itself, past the check).
"""

from __future__ import annotations

import http.client
import socket
from functools import partial
from urllib.parse import SplitResult, urlsplit

from gs1.subscription_rules import public_address

ANSWER_READ = 64 * 1024  # what a receiver answers is not used; a little is read so the connection ends cleanly


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, public_only: bool = False,
         address: str | None = None) -> int:
    """POST the body to ``url`` once and return the HTTP status.

    Args:
        url: an http(s) URL (checked when it was registered).
        body: the request body.
        headers: request headers (Host and Content-Length are set here).
        timeout: seconds for the connection and each read.
        public_only: resolve the name once, refuse a non-public address, connect to the one checked.
        address: connect to this address instead of looking the name up (what ``public_only`` does with the
            address it checked; a test's receiver).

    Raises:
        PermissionError: ``public_only`` and the name has an address that is not public.
        OSError: the name does not resolve, no connection, a timeout, or an answer that is not 2xx.
    """
    dest = urlsplit(url)
    if public_only and address is None:
        address = public_address_of(dest)
    kind = http.client.HTTPSConnection if dest.scheme == "https" else http.client.HTTPConnection
    conn = kind(dest.hostname, _port(dest), timeout=timeout)
    if address is not None:
        # http.client opens its socket through this attribute (socket.create_connection((host, port), ...))
        conn._create_connection = partial(_connect_to, address)
    path = (dest.path or "/") + (f"?{dest.query}" if dest.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read(ANSWER_READ)
        status = answer.status
    finally:
        conn.close()
    if not 200 <= status < 300:
        raise OSError(f"HTTP {status} from {dest.hostname}" + (" (a redirect is not followed)"
                                                               if 300 <= status < 400 else ""))
    return status


def public_address_of(dest: SplitResult) -> str:
    """Resolve the URL's host once and return the address to connect to: the first, when every address the name has
    is public.

    Raises:
        PermissionError: the name has a loopback, private, link-local, reserved or multicast address.
        OSError: the name does not resolve.
    """
    infos = socket.getaddrinfo(dest.hostname, _port(dest), proto=socket.IPPROTO_TCP)
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(public_address(a) for a in addresses):
        raise PermissionError(f"{dest.hostname} resolves to a non-public address")
    return addresses[0]


def _connect_to(address: str, target: tuple[str, int], timeout: float | None, source: tuple | None = None
                ) -> socket.socket:
    return socket.create_connection((address, target[1]), timeout, source)


def _port(dest: SplitResult) -> int:
    return dest.port or (443 if dest.scheme == "https" else 80)
