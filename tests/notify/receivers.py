"""Real receivers for notification tests: an HTTP server verifying with the reference code of
docs/notifications.md (executed from the document itself), and an aiosmtpd SMTP server."""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


def reference_code() -> dict:
    """Execute the reference receiver block of docs/notifications.md and return its names (verify, Refused...)."""
    text = DOC.read_text("utf-8")
    found = re.search(r"# --- reference receiver: begin ---\n(.*?)# --- reference receiver: end ---", text, re.S)
    assert found, "docs/notifications.md has no reference receiver block"
    names: dict = {}
    exec(compile(found.group(1), str(DOC), "exec"), names)  # noqa: S102 - the documented code, run as documented
    return names


def free_port() -> int:
    """A local TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookReceiver:
    """A local HTTP server: one secret per path (/hook/<gln>), verifies each request with the reference code."""

    def __init__(self, delay: float = 0.0, fail_first: int = 0):
        self.ref = reference_code()
        self.fail_first = fail_first  # answer 503 to this many genuine requests before accepting any
        self.attempts: list[str] = []  # the delivery ID of every genuine request, failed ones included
        self.headers: list = []  # the headers of every accepted request
        self.secrets: dict[str, str] = {}
        self.received: list[dict] = []  # every accepted request, repeats included
        self.refused: list[str] = []
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gln = self.path.rsplit("/", 1)[-1]
                try:
                    delivery = receiver.ref["verify"](receiver.secrets.get(gln, ""), self.headers, body)
                except receiver.ref["Refused"] as exc:
                    with receiver.lock:
                        receiver.refused.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.attempts.append(delivery)
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= 1 if failing else 0
                if failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.received.append({"gln": gln, "delivery_id": delivery, "body": body,
                                              "at": time.perf_counter()})
                    receiver.headers.append(self.headers)  # case-insensitive, as received
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, gln: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook/{gln}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An aiosmtpd server on a free local port, keeping every message it accepts."""

    def __init__(self):
        self.messages: list = []
        self.lock = threading.Lock()
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                message = message_from_bytes(envelope.content, policy=policy.default)
                delivery = str(message["X-TraceGraph-Delivery"])
                with box.lock:
                    box.messages.append({"to": list(envelope.rcpt_tos), "message": message, "delivery_id": delivery,
                                         "at": time.perf_counter()})
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def of(self, delivery_ids: set[str]) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["delivery_id"] in delivery_ids]

    def close(self) -> None:
        self.controller.stop()
