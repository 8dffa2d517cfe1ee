"""Load-test the consumer scan page through gunicorn: pages/s and latency percentiles (p50/p90/p99).

    .venv/bin/python scripts/bench_scan.py --seconds 10 --clients 16            # starts gunicorn itself
    .venv/bin/python scripts/bench_scan.py --url http://127.0.0.1:8000 ...      # an already running server
    .venv/bin/python scripts/bench_scan.py --arrange 2 ...                      # add 2 small test chains first

Codes are sampled from the database (lots and their items; `flask demo load` gives the demo province). Every
request is a real scan: the page query runs and the scan is queued for the batched writer. The target on the
2-core reference machine is >= 500 pages/s with p99 <= 50 ms (issue 4); the load generator shares those cores,
so the figures are a floor. Rate limiting is switched off for the server this script starts.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), linear between closest ranks."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def code_paths(neo4j_uri: str, arrange: int, limit: int) -> list[str]:
    """Resolver paths of codes in the database (after arranging small chains if asked)."""
    from graph import scan
    from graph.driver import Graph

    graph = Graph(neo4j_uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    try:
        if arrange:
            from tests.scan import arrange as arranging

            secret = os.environ.get("SECRET_KEY", "dev-only-not-secret")
            for _ in range(arrange):
                arranging.ginseng_chain(graph, secret)
        codes = scan.sample_codes(graph, limit)
    finally:
        graph.close()
    paths = []
    for c in codes:
        path = f"/01/{c['gtin']}/10/{quote(c['lot'], safe='')}"
        if c["serial"]:
            path += f"/21/{quote(c['serial'], safe='')}"
        paths.append(path)
    return paths


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(neo4j_uri: str, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    """Start gunicorn on a free port and wait until it answers."""
    port = free_port()
    env = {**os.environ, "NEO4J_URI": neo4j_uri, "RATELIMIT_ENABLED": "false", "MIGRATE_ON_START": "true"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"], cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def run_load(url: str, paths: list[str], clients: int, seconds: float, accept: str) -> dict:
    """`clients` keep-alive connections request random codes for `seconds`; return the latency samples."""
    parts = urlsplit(url)
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, bad = [], {}
        # Each simulated phone has its own User-Agent, as real scanners would.
        headers = {"Accept": accept, "User-Agent": f"bench-phone-{n}"}
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                conn.request("GET", rng.choice(paths), headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            elapsed = time.perf_counter() - t0
            if status == 200:
                mine.append(elapsed)
            else:
                bad[status] = bad.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in bad.items():
                errors[k] = errors.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors, "elapsed": time.monotonic() - started}


def main() -> None:
    """Parse options, prepare codes and the server, run the load, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server (default: start gunicorn)")
    ap.add_argument("--neo4j", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--codes", type=int, default=200, help="most lot codes and item codes to sample")
    ap.add_argument("--arrange", type=int, default=0, help="small test chains to add first (needs no demo)")
    ap.add_argument("--json", action="store_true", help="ask for the JSON facts instead of the HTML page")
    args = ap.parse_args()

    paths = code_paths(args.neo4j, args.arrange, args.codes)
    if not paths:
        raise SystemExit("no lots in the database: run `flask demo load` or pass --arrange 2")
    proc = None
    url = args.url
    if not url:
        proc, url = start_gunicorn(args.neo4j, args.workers, args.threads)
    try:
        accept = "application/json" if args.json else "text/html"
        if args.warmup:
            run_load(url, paths, args.clients, args.warmup, accept)
        result = run_load(url, paths, args.clients, args.seconds, accept)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)  # gunicorn flushes each worker's queued scans on the way out
            proc.wait(timeout=30)
    lat = result["latencies"]
    ms = [x * 1000 for x in lat]
    print(f"scan page ({'JSON' if args.json else 'HTML'}) via {url}: {len(paths)} codes, {args.clients} clients, "
          f"{args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs")
    print(f"  pages/s  {len(lat) / result['elapsed']:8.1f}   (target >= 500)")
    print(f"  p50 ms   {percentile(ms, 50):8.1f}")
    print(f"  p90 ms   {percentile(ms, 90):8.1f}")
    print(f"  p99 ms   {percentile(ms, 99):8.1f}   (target <= 50)")
    print(f"  pages    {len(lat):8d}   errors: {result['errors'] or 'none'}")


if __name__ == "__main__":
    main()
