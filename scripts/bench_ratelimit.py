"""What sharing rate limits in Redis costs a request: one limit check (Flask-Limiter's fixed window, as the consumer
page makes per request) against memory:// and against a local redis-server, p50 and p99 in microseconds.

Starts its own redis-server on a free loopback port (no persistence, a temp dir) unless REDIS_URL names one.
Usage: .venv/bin/python scripts/bench_ratelimit.py [--hits 5000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(workdir: str) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (make setup installs it), or set REDIS_URL")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("redis-server did not start")


def measure(uri: str, hits: int) -> tuple[float, float]:
    """p50 and p99 of one limit check, in microseconds, over `hits` checks from 100 client addresses."""
    options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if uri.startswith("redis") else {}
    limiter = FixedWindowRateLimiter(storage_from_string(uri, **options))
    limit = parse("600/minute")
    samples = []
    for i in range(hits):
        began = time.perf_counter()
        limiter.hit(limit, "resolver", f"10.0.0.{i % 100}")
        samples.append((time.perf_counter() - began) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=5000)
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory() as workdir:
        url = os.environ.get("REDIS_URL", "").strip()
        if not url:
            proc, url = _start_redis(workdir)
        try:
            for name, uri in (("memory://", "memory://"), ("redis (loopback)", url)):
                measure(uri, 200)  # connections and code paths warm
                p50, p99 = measure(uri, args.hits)
                print(f"rate-limit check, {name:<17} p50 {p50:7.1f} us   p99 {p99:7.1f} us   ({args.hits} checks)")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
