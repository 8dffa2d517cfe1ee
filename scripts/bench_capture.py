"""Capture throughput through HTTP: POST /epcis/capture with documents of N events, events/s (median of runs).

Starts gunicorn (wsgi:app) against a Neo4j you name, creates an admin token, sends fresh documents (commissioning +
shipping pairs, new lots each time) from concurrent clients, prints the figures and, with --record, appends them to
docs/benchmarks.md (section "Capture"). Use a dedicated Neo4j: it writes real events.

    .venv/bin/python scripts/bench_capture.py --neo4j bolt://127.0.0.1:7730 --record
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gs1.digital_link import DEFAULT_BASE as DL  # noqa: E402
from gs1.keys import check_digit  # noqa: E402
from gs1.timezones import CHINA_OFFSET as TZ  # noqa: E402


def _key(prefix: str, length: int) -> str:
    body = prefix + "".join(random.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + check_digit(body)


def make_document(size: int) -> bytes:
    """A fresh EPCISDocument of ``size`` events: commissioning and shipping of new lots between two parties."""
    farm, mill = _key("69", 13), _key("69", 13)
    events = []
    for i in range(size // 2):
        gtin, lot = _key("069", 14), f"B{uuid.uuid4().hex[:10]}"
        cls = f"{DL}/01/{gtin}/10/{lot}"
        events.append({"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "action": "ADD",
                       "eventTime": f"2026-09-20T08:{i % 60:02d}:00{TZ}", "eventTimeZoneOffset": TZ,
                       "bizStep": "commissioning", "disposition": "active",
                       "quantityList": [{"epcClass": cls, "quantity": 100, "uom": "KGM"}],
                       "readPoint": {"id": f"{DL}/414/{farm}"},
                       "bizLocation": {"id": f"{DL}/414/{farm}"}})
        events.append({"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "action": "OBSERVE",
                       "eventTime": f"2026-09-21T08:{i % 60:02d}:00{TZ}", "eventTimeZoneOffset": TZ,
                       "bizStep": "shipping", "disposition": "in_transit",
                       "quantityList": [{"epcClass": cls, "quantity": 40, "uom": "KGM"}],
                       "readPoint": {"id": f"{DL}/414/{farm}"},
                       "sourceList": [{"type": "owning_party", "source": f"{DL}/417/{farm}"}],
                       "destinationList": [{"type": "owning_party",
                                            "destination": f"{DL}/417/{mill}"}],
                       "bizTransactionList": [{"type": "desadv",
                                               "bizTransaction": f"urn:epcglobal:cbv:bt:{farm}:D{i}"}]})
    doc = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
           "schemaVersion": "2.0", "creationDate": "2026-09-21T09:00:00Z", "epcisBody": {"eventList": events}}
    return json.dumps(doc).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, body: bytes, token: str, host: str = "127.0.0.1") -> int:
    conn = http.client.HTTPConnection(host, port, timeout=300)
    conn.request("POST", "/epcis/capture", body, {"Content-Type": "application/json",
                                                   "Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    conn.close()
    if response.status != 202 or not payload.get("success"):
        raise RuntimeError(f"capture failed: {response.status} {str(payload)[:300]}")
    return payload["capturedCount"]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes (and their threads) have used, from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / ticks


def run_once(port: int, token: str, docs: list[bytes], clients: int, host: str = "127.0.0.1") -> float:
    """Send every document (``clients`` at a time); return events per second."""
    queue = list(docs)
    lock = threading.Lock()
    counted = [0]
    errors: list[Exception] = []

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            try:
                n = _post(port, body, token, host)
            except Exception as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
                return
            with lock:
                counted[0] += n

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return counted[0] / elapsed


def bench(ctx) -> list:
    """scripts/bench.py plug-in: POST /epcis/capture of fresh 1,000-event documents to the suite's gunicorn."""
    from urllib.parse import urlsplit

    from scripts import benchlib

    url = urlsplit(ctx.base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    _post(port, make_document(1000), ctx.admin_token, host)  # warm-up
    rates = [run_once(port, ctx.admin_token, [make_document(1000) for _ in range(6)], 2, host)
             for _ in range(max(1, min(ctx.runs, 3)))]
    return [benchlib.Figure("capture POST /epcis/capture (1,000-event docs)", "events/s", rates,
                            "2 clients, 6 docs per run, " + (f"on a database of {ctx.events:,} events" if ctx.events
                                                             else "on the reused store (--reuse)"))]


def _machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def _record(text: str) -> None:
    path = REPO / "docs" / "benchmarks.md"
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    if "\n## Capture\n" not in content:
        content = content.rstrip("\n") + "\n\n## Capture\n\nPOST /epcis/capture through HTTP (gunicorn), " \
            "`scripts/bench_capture.py`: documents of N events (commissioning + shipping of new lots), events/s = " \
            "events captured / wall time, median of runs.\n\n| date | commit | machine | setup | events/s (median) " \
            "| runs |\n|---|---|---|---|---|---|\n"
        path.write_text(content)
        content = path.read_text()
    head, sep, tail = content.partition("\n## Capture\n")
    # Append the row at the end of the Capture section's table (before the next section, if any).
    nxt = tail.find("\n## ")
    section, rest = (tail, "") if nxt == -1 else (tail[:nxt], tail[nxt:])
    section = section.rstrip("\n") + "\n" + text + "\n"
    path.write_text(head + sep + section + rest)


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neo4j", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--events", type=int, default=1000, help="events per document")
    ap.add_argument("--docs", type=int, default=8, help="documents per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--clients", type=int, default=2, help="concurrent HTTP clients")
    ap.add_argument("--neo4j-home", type=Path, help="the server's NEO4J_HOME_DIR: its pid file lets the run split the "
                    "CPU per 1,000 events between the app's workers and Neo4j")
    ap.add_argument("--record", action="store_true", help="append the result to docs/benchmarks.md")
    args = ap.parse_args()

    from graph import tokens
    from graph.driver import Graph
    from graph.migrate import migrate

    graph = Graph(args.neo4j)
    migrate(graph)
    token = tokens.create(graph, "admin", None, "bench_capture")["token"]
    graph.close()

    port = _free_port()
    env = {**os.environ, "NEO4J_URI": args.neo4j, "RATELIMIT_ENABLED": "0", "MIGRATE_ON_START": "0"}
    server = subprocess.Popen([str(REPO / ".venv" / "bin" / "gunicorn"), "-w", str(args.workers), "-b",
                               f"127.0.0.1:{port}", "--timeout", "300", "wsgi:app"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        _post(port, make_document(args.events), token)  # warm-up: connections, schema compile, query plans
        from scripts.benchlib import children

        workers = children(server.pid)
        neo4j = [int((args.neo4j_home / "neo4j.pid").read_text())] if args.neo4j_home else []
        per = 1000 / (args.docs * args.events) * 1000  # CPU seconds of a run -> ms per 1,000 events
        rates = []
        for i in range(args.runs):
            docs = [make_document(args.events) for _ in range(args.docs)]
            app0, db0, t0 = cpu_seconds(workers), cpu_seconds(neo4j), time.monotonic()
            rate = run_once(port, token, docs, args.clients)
            wall = time.monotonic() - t0
            app, db = cpu_seconds(workers) - app0, cpu_seconds(neo4j) - db0
            line = f"run {i + 1}: {rate:,.0f} events/s ({args.docs} documents x {args.events} events)"
            line += f"; CPU per 1,000 events: app {app * per:.0f} ms"
            if neo4j:
                line += f", Neo4j {db * per:.0f} ms; cores busy {(app + db) / wall:.2f}"
            print(line, flush=True)
            rates.append(rate)
        median = statistics.median(rates)
        print(f"median: {median:,.0f} events/s")
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.record:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        setup = f"{args.events}-event docs x {args.docs}, {args.workers} gunicorn workers, {args.clients} clients"
        load = os.getloadavg()[0]
        if load > 1:
            setup += f"; load average {load:.1f}: machine shared with other engineers' tests"
        _record(f"| {datetime.now(UTC):%Y-%m-%d} | {commit} | {_machine()} | {setup} | {median:,.0f} | "
                f"{', '.join(f'{r:,.0f}' for r in rates)} |")
        print("recorded in docs/benchmarks.md")


if __name__ == "__main__":
    main()
