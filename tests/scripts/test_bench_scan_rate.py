"""The open-loop generator of scripts/bench_scan.py against a real local HTTP/1.1 server (stdlib, real sockets).

It must offer its schedule whatever the server does, read Content-Length and chunked answers, reconnect when the
server closes, and count a stall in the latency of every request scheduled during it (coordinated omission).
Rates are low and runs short: what is checked is counting and measuring, not speed.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.bench_scan import arrival_offsets, run_open


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the path asks to close
    disable_nagle_algorithm = True  # headers and body go in two writes: without this each waits for a delayed ACK

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.seen.append((self.path, self.headers.get("Accept"), self.headers.get("User-Agent")))
            stall = len(server.seen) == server.stall_at
            server.stalled = server.stalled or stall
        if stall:
            time.sleep(0.3)
        body = b"<p>scan</p>" * 50
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:100], body[100:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    """A threaded HTTP/1.1 server on a free local port, with the requests it saw."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads, httpd.block_on_close = True, False
    httpd.seen, httpd.lock, httpd.stalled, httpd.stall_at = [], threading.Lock(), False, None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(httpd: ThreadingHTTPServer) -> str:
    """The server's base URL."""
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def test_uniform_arrivals_are_evenly_spaced_and_poisson_keeps_the_rate():
    uniform = arrival_offsets(500, 2)
    assert len(uniform) == 1000 and uniform[1] - uniform[0] == pytest.approx(0.002)
    poisson = arrival_offsets(500, 20, "poisson", random.Random(7))
    assert 9500 < len(poisson) < 10500 and all(0 <= t < 20 for t in poisson)


def test_every_scheduled_request_is_sent_as_a_scan_and_answered(server):
    r = run_open(url(server), ["/a", "/chunked", "/close"], rate=100, seconds=1, accept="text/html", seed=1)
    assert r["scheduled"] == 100 and r["pages"] == 100 and r["errors"] == {}
    assert len(server.seen) == 100
    assert {accept for _, accept, _ in server.seen} == {"text/html"}
    assert all(agent.startswith("bench-phone-") for _, _, agent in server.seen)
    assert {path for path, _, _ in server.seen} == {"/a", "/chunked", "/close"}
    assert 0 < r["p50"] <= r["p99"] <= r["max"] and r["rate"] <= 100.5


def test_idle_connections_the_server_closed_are_reopened_without_errors(server):
    server.RequestHandlerClass.timeout = 0.05  # the server drops a keep-alive connection idle for 50 ms
    try:
        r = run_open(url(server), ["/a"], rate=10, seconds=1, seed=2)
    finally:
        server.RequestHandlerClass.timeout = None
    assert r["pages"] == 10 and r["errors"] == {}


def test_a_stall_counts_for_every_request_scheduled_during_it(server):
    # One connection only: requests scheduled while the stalled 20th holds it must wait, and that wait counts.
    server.stall_at = 20
    r = run_open(url(server), ["/a"], rate=100, seconds=1, max_connections=1, seed=3)
    assert server.stalled and r["pages"] == 100 and r["errors"] == {}
    assert r["waited"] > 10
    assert r["max"] >= 290
    # About 30 requests were scheduled during the 300 ms stall: far more than 1% of the run saw over 100 ms.
    assert r["p90"] > 100
