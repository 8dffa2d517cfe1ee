"""Load-test the consumer scan page through gunicorn: pages/s and latency percentiles (p50/p90/p99).

    .venv/bin/python scripts/bench_scan.py --seconds 10 --connections 16          # starts gunicorn itself
    .venv/bin/python scripts/bench_scan.py --url http://127.0.0.1:8000 ...        # an already running server
    .venv/bin/python scripts/bench_scan.py --mix 2x4,3x4,4x4 --runs 3             # compare worker x thread mixes
    .venv/bin/python scripts/bench_scan.py --arrange 2 ...                        # add 2 small test chains first

Codes are sampled from the database (lots and their items; `flask demo load` gives the demo province). Every
request is a real scan: the page query runs and the scan is queued for the batched writer. The target on the
2-core reference machine is >= 500 pages/s with p99 <= 50 ms (issue 4).

The load generator is `wrk` (C, keep-alive connections, a Lua script picking a random code per request) when it
is installed (`apt-get install wrk`), else a Python fallback (one process, threads over keep-alive connections),
which costs a good part of a core itself and so understates the server. Either way the generator shares the
machine's cores with gunicorn and Neo4j: the figures are a floor. Rate limiting is off for the server started here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts import benchlib  # noqa: E402

# Recommended for a 2-core box with Neo4j on it (see docs/benchmarks.md "Scan and labels"): a worker per core
# plus one, threads to overlap the database round trip.
WORKERS, THREADS = 3, 4

_WRK_LUA = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local accept = os.getenv("BENCH_ACCEPT")
local n = 0
setup = function(thread) n = n + 1; thread:set("id", n) end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = accept, ["User-Agent"] = "bench-phone-" .. id})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests": %d, "duration_us": %d, "p50": %d, "p90": %d, "p99": %d, '
    .. '"max": %d, "non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def code_paths(neo4j_uri: str, arrange: int, limit: int, secret: str | None = None) -> list[str]:
    """Resolver paths of codes in the database (after arranging small chains if asked)."""
    from graph import scan
    from graph.driver import Graph

    graph = Graph(neo4j_uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    try:
        if arrange:
            from tests.scan import arrange as arranging

            for _ in range(arrange):
                arranging.ginseng_chain(graph, secret or os.environ.get("SECRET_KEY", "dev-only-not-secret"))
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


def paths_of_uris(uris: list[str]) -> list[str]:
    """Resolver paths of Digital Link URIs (the host part dropped)."""
    return [urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "") for u in uris]


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(neo4j_uri: str, workers: int, threads: int, secret: str | None = None,
                   cache_seconds: float | None = None) -> tuple[subprocess.Popen, str]:
    """Start gunicorn (gthread) on a free port and wait until it answers."""
    port = free_port()
    env = {**os.environ, "NEO4J_URI": neo4j_uri, "RATELIMIT_ENABLED": "false", "MIGRATE_ON_START": "false"}
    if secret:
        env["SECRET_KEY"] = secret
    if cache_seconds is not None:
        env["SCAN_CACHE_SECONDS"] = str(cache_seconds)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "-w", str(workers), "--threads", str(threads), "--worker-class", "gthread",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=REPO, env=env)
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


def stop_gunicorn(proc: subprocess.Popen) -> None:
    """Stop gunicorn; it flushes each worker's queued scans on the way out."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def run_wrk(url: str, paths: list[str], connections: int, seconds: float, accept: str) -> dict:
    """Drive the server with wrk for `seconds`; return pages/s, percentiles (ms) and errors."""
    with tempfile.TemporaryDirectory() as tmp:
        script, listing = Path(tmp) / "scan.lua", Path(tmp) / "paths.txt"
        script.write_text(_WRK_LUA)
        listing.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "BENCH_PATHS": str(listing), "BENCH_ACCEPT": accept}
        threads = max(1, min(2, connections))
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
                              "--timeout", "10s", "-s", str(script), url], capture_output=True, text=True, env=env,
                             timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {out.stdout[-400:]} {out.stderr[-400:]}")
    r = json.loads(line.split(" ", 1)[1])
    errors = {k: r[k] for k in ("non2xx", "connect", "read", "write", "timeout") if r[k]}
    good = r["requests"] - r["non2xx"]
    return {"rate": good / (r["duration_us"] / 1e6), "p50": r["p50"] / 1000, "p90": r["p90"] / 1000,
            "p99": r["p99"] / 1000, "pages": good, "errors": errors, "generator": "wrk"}


def run_python(url: str, paths: list[str], clients: int, seconds: float, accept: str) -> dict:
    """The fallback generator: `clients` threads, each a keep-alive connection requesting random codes."""
    parts = urlsplit(url)
    latencies: list[float] = []
    errors: dict[str, int] = {}
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
                bad[str(status)] = bad.get(str(status), 0) + 1
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
    elapsed = time.monotonic() - started
    ms = [x * 1000 for x in latencies]
    return {"rate": len(ms) / elapsed, "p50": benchlib.percentile(ms, 50), "p90": benchlib.percentile(ms, 90),
            "p99": benchlib.percentile(ms, 99), "pages": len(ms), "errors": errors, "generator": "python"}


def run_load(url: str, paths: list[str], connections: int, seconds: float, accept: str = "text/html",
             generator: str = "auto") -> dict:
    """One measured run with wrk (when installed, or asked) or the Python fallback."""
    use_wrk = generator == "wrk" or (generator == "auto" and shutil.which("wrk"))
    if use_wrk:
        return run_wrk(url, paths, connections, seconds, accept)
    return run_python(url, paths, connections, seconds, accept)


def measure(url: str, paths: list[str], runs: int, connections: int, seconds: float, warmup: float,
            accept: str = "text/html", generator: str = "auto") -> list[dict]:
    """A warm-up, then `runs` measured runs; each run's result carries the load average after it."""
    if warmup:
        run_load(url, paths, connections, warmup, accept, generator)
    out = []
    for _ in range(runs):
        r = run_load(url, paths, connections, seconds, accept, generator)
        r["load"] = benchlib.load_average()
        out.append(r)
    return out


def figures(name: str, results: list[dict], note: str) -> list[benchlib.Figure]:
    """pages/s, p50 and p99 figures from measured runs."""
    errors = sum(sum(r["errors"].values()) for r in results)
    note = f"{note}; {results[0]['generator']}; load avg after runs {', '.join(r['load'].split()[0] for r in results)}"
    if errors:
        note += f"; {errors} failed requests"
    return [benchlib.Figure(f"{name} pages/s", "/s", [r["rate"] for r in results], note),
            benchlib.Figure(f"{name} p50", "ms", [r["p50"] for r in results], "", False),
            benchlib.Figure(f"{name} p99", "ms", [r["p99"] for r in results], "", False)]


def bench(ctx) -> list[benchlib.Figure]:
    """scripts/bench.py plug-in: the scan page through our own gunicorn (recommended mix) on the suite's data."""
    uris = (ctx.lots or [])[:150] + (ctx.items or [])[:150]
    paths = paths_of_uris(uris) if uris else code_paths(ctx.neo4j_uri, 0, 200)
    if not paths:
        return []
    out = []
    proc, url = start_gunicorn(ctx.neo4j_uri, WORKERS, THREADS, ctx.secret_key)
    try:
        setup = f"{WORKERS} gthread workers x {THREADS} threads, 16 connections, {len(paths)} codes"
        out += figures("scan page (HTML)", measure(url, paths, ctx.runs, 16, 10, 3), setup)
        out += figures("scan page (JSON)", measure(url, paths, max(1, ctx.runs // 2), 16, 10, 2,
                                                   "application/json"), setup)
    finally:
        stop_gunicorn(proc)
    return out


def main() -> None:
    """Parse options, prepare codes and the server(s), run the load, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server (default: start gunicorn)")
    ap.add_argument("--neo4j", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--mix", default=f"{WORKERS}x{THREADS}", help="gunicorn workers x threads, comma-separated")
    ap.add_argument("--connections", "--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--codes", type=int, default=200, help="most lot codes and item codes to sample")
    ap.add_argument("--arrange", type=int, default=0, help="small test chains to add first (needs no demo)")
    ap.add_argument("--json", action="store_true", help="ask for the JSON facts instead of the HTML page")
    ap.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--cache-seconds", type=float, default=None, help="SCAN_CACHE_SECONDS of the server (0: off)")
    args = ap.parse_args()

    paths = code_paths(args.neo4j, args.arrange, args.codes)
    if not paths:
        raise SystemExit("no lots in the database: run `flask demo load` or pass --arrange 2")
    accept = "application/json" if args.json else "text/html"
    mixes = [None] if args.url else [tuple(int(x) for x in m.split("x")) for m in args.mix.split(",")]
    for mix in mixes:
        proc, url = (None, args.url) if mix is None else start_gunicorn(args.neo4j, *mix,
                                                                          cache_seconds=args.cache_seconds)
        try:
            results = measure(url, paths, args.runs, args.connections, args.seconds, args.warmup, accept,
                              args.generator)
        finally:
            if proc is not None:
                stop_gunicorn(proc)
        label = "running server" if mix is None else f"{mix[0]} workers x {mix[1]} threads"
        print(f"scan page ({'JSON' if args.json else 'HTML'}) via {url}: {len(paths)} codes, {args.connections} "
              f"connections, {label}, {os.cpu_count()} CPUs, generator {results[0]['generator']}, "
              f"cache {args.cache_seconds if args.cache_seconds is not None else 'default'}")
        for r in results:
            print(f"  run: {r['rate']:7.1f} pages/s  p50 {r['p50']:6.1f} ms  p90 {r['p90']:6.1f} ms  "
                  f"p99 {r['p99']:6.1f} ms  pages {r['pages']}  errors {r['errors'] or 'none'}  load {r['load']}")
        med = {k: statistics.median(r[k] for r in results) for k in ("rate", "p50", "p99")}
        print(f"  median: {med['rate']:.0f} pages/s (target >= 500), p50 {med['p50']:.1f} ms, "
              f"p99 {med['p99']:.1f} ms (target <= 50)")


if __name__ == "__main__":
    main()
