"""Time each workbench page as a logged-in person opens it on a phone: median and p95 per page (issue 14: each page
answers in under 100 ms on the demo data).

    .venv/bin/python scripts/bench_pages.py                      # NEO4J_URI, else the test server (port 7697)
    .venv/bin/python scripts/bench_pages.py --uri bolt://127.0.0.1:7687 --requests 100
    .venv/bin/python scripts/bench_pages.py --markdown           # also print the rows for docs/benchmarks.md

What it does, against the project's own server:
1. loads the demo province into that Neo4j when its parties are missing (`flask demo load`'s data, through the
   app's API; idempotent) and creates two fresh accounts with random passwords: one for the demo's Shulan rice
   mill (producer: home, a lot, batch, ship, transform, pack, labels, certificates, import) and one for the demo's
   lab (the lab page); a third for the demo's Changchun logistics centre, whose home is where deliveries wait to
   be confirmed (the receive list);
2. starts gunicorn as `make run` does (2 workers x 3 threads, gthread) on a free port, rate limits off;
3. logs each account in through the log-in form (CSRF token and all) over HTTP, then requests every page in turn,
   one at a time on a keep-alive connection, a few warm-up rounds first; each page must answer 200;
4. prints per page the median and p95 of the wall time from sending the request to the last byte of the answer.

Run it on a quiet machine (the figures include the client, which shares the cores): `uptime` is printed with them.
On the test server the audit chain's key must be the tests' (tests/conftest.py): the script uses it there.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts import benchlib  # noqa: E402
from scripts.bench_scan import start_gunicorn, stop_gunicorn  # noqa: E402

TEST_PORT = "7697"
TESTS_AUDIT_KEY = "tests-audit-key-" + "k" * 24  # tests/conftest.py: every app on the test store shares it
TARGET_MS = 100.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def arrange(uri: str) -> dict:
    """Demo data present, three fresh accounts; return their log-ins and the pages each one times."""
    from app import create_app, demo
    from app.accounts import generate_password, hash_password
    from graph import users, workbench

    app = create_app({"NEO4J_URI": uri, "MIGRATE_ON_START": False, "TESTING": True})
    graph = app.extensions["graph"]
    with app.app_context():
        mill, lab, dc = (demo.P[k]["gln"] for k in ("shulan_mill", "lab", "changchun_dc"))
        if not workbench.home(graph, mill)["lots"]:
            print("loading the demo province ...", flush=True)
            demo.load(app)
        lots = workbench.home(graph, mill)["lots"]
        owned = [x for x in lots if x["owner_gln"] == mill]
        if not owned:
            raise SystemExit("the demo's Shulan mill owns no lot: is this the demo store?")
        lot = max(owned, key=lambda x: x["quantity"] - x["pending"])
        accounts = {}
        for who, role, gln in (("mill", "producer", mill), ("lab", "lab", lab), ("receiver", "producer", dc)):
            password = generate_password()
            made = users.create(graph, {"username": f"bench-{who}-{secrets.token_hex(4)}", "role": role,
                                        "party_gln": gln, "display_name": f"bench {who}"},
                                hash_password(password), "bench")
            accounts[who] = (made["username"], password)
    graph.close()
    lot_path = f"{lot['gtin']}/{lot['lot']}"
    return {"accounts": accounts, "lot": lot_path, "pages": [
        ("mill", "home", "/work/"),
        ("mill", "lot", f"/work/lots/{lot_path}"),
        ("mill", "batch", "/work/batch"),
        ("mill", "ship", "/work/ship"),
        ("receiver", "receive list (home)", "/work/"),
        ("mill", "transform", "/work/transform"),
        ("mill", "pack", "/work/pack"),
        ("mill", "labels", f"/work/labels/{lot_path}"),
        ("mill", "certificates", f"/work/certificates/{lot_path}"),
        ("mill", "import", "/work/import"),
        ("lab", "lab", "/work/lab"),
    ]}


class Browser:
    """One person's keep-alive connection with its session cookie, as a phone's browser keeps them."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, dict]:
        headers = {"Accept": "text/html", "User-Agent": "bench-pages"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # gunicorn closes a keep-alive connection idle past its keepalive (2 s): open a new one, as a browser does
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text, dict(response.headers)

    def log_in(self, username: str, password: str) -> None:
        status, page, _ = self.request("GET", "/work/login")
        token = _CSRF.search(page)
        if status != 200 or token is None:
            raise SystemExit(f"no log-in form ({status})")
        status, _, headers = self.request("POST", "/work/login", urlencode(
            {"login": username, "password": password, "csrf_token": token.group(1), "next": "/work/"}))
        if status != 303:
            raise SystemExit(f"log-in of {username} refused ({status})")

    def timed_get(self, path: str) -> float:
        start = time.perf_counter()
        status, _, _ = self.request("GET", path)
        seconds = time.perf_counter() - start
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        return seconds


def measure(url: str, plan: dict, requests: int, warmup: int) -> list[tuple[str, str, list[float]]]:
    """Each page's request times in seconds, pages interleaved round by round (a slow moment hits them all)."""
    browsers = {}
    for who, (username, password) in plan["accounts"].items():
        browsers[who] = Browser(url)
        browsers[who].log_in(username, password)
    samples: dict[str, list[float]] = {name: [] for _, name, _ in plan["pages"]}
    for round_ in range(warmup + requests):
        for who, name, path in plan["pages"]:
            seconds = browsers[who].timed_get(path)
            if round_ >= warmup:
                samples[name].append(seconds)
    return [(name, path, samples[name]) for _, name, path in plan["pages"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI") or f"bolt://127.0.0.1:{TEST_PORT}")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=3)
    ap.add_argument("--markdown", action="store_true", help="also print the table as docs/benchmarks.md rows")
    args = ap.parse_args()
    if urlsplit(args.uri).port == int(TEST_PORT):
        os.environ.setdefault("AUDIT_KEY", TESTS_AUDIT_KEY)
    plan = arrange(args.uri)
    proc, url = start_gunicorn(args.uri, args.workers, args.threads)
    try:
        results = measure(url, plan, args.requests, args.warmup)
    finally:
        stop_gunicorn(proc)
    print(f"workbench pages, {args.requests} requests each after {args.warmup} warm-up rounds, gunicorn "
          f"{args.workers}x{args.threads}, Neo4j {args.uri}")
    print(f"commit {benchlib.git_commit()} · {benchlib.machine()} · load {benchlib.load_average()}")
    rows = []
    slow = []
    for name, path, seconds in results:
        median_ms = statistics.median(seconds) * 1000
        p95_ms = benchlib.percentile(seconds, 95) * 1000
        rows.append((name, path, median_ms, p95_ms))
        if p95_ms > TARGET_MS:
            slow.append(name)
    width = max(len(r[0]) for r in rows)
    print(f"{'page':<{width}}  {'median ms':>9}  {'p95 ms':>7}  path")
    for name, path, median_ms, p95_ms in rows:
        print(f"{name:<{width}}  {median_ms:>9.1f}  {p95_ms:>7.1f}  {path}")
    if args.markdown:
        print("\n| page | path | median ms | p95 ms |\n|---|---|---:|---:|")
        for name, path, median_ms, p95_ms in rows:
            print(f"| {name} | `{path}` | {median_ms:.1f} | {p95_ms:.1f} |")
    print(f"over {TARGET_MS:.0f} ms at p95: {', '.join(slow) if slow else 'none'}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
