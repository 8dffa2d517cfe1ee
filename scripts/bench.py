#!/usr/bin/env python3
"""The benchmark suite: generate a Jilin network, load it, run every benchmark, append the figures to the docs.

    .venv/bin/python scripts/bench.py --scale M            # what `make bench` runs (M: under 15 minutes)
    .venv/bin/python scripts/bench.py --scale S --runs 3   # a quick check
    .venv/bin/python scripts/bench.py --scale L --load-only

Runs its own Neo4j (NEO4J_HOME_DIR, default .neo4j-bench; NEO4J_BOLT_PORT, default 7761) on a fresh store and
its own gunicorn (BENCH_PORT, default 8761), stopping both at the end (--keep leaves them running). Each
benchmark script plugs in with ``bench(ctx: scripts.bench.Context) -> list[benchlib.Figure]``; those not there
yet are skipped with a note. Figures are medians of --runs runs with their spread; they go to
docs/benchmarks.md with the machine, date and commit (--no-docs to only print).
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import benchlib  # noqa: E402
from scripts.benchlib import Figure, Report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = ("bench_capture", "bench_trace", "bench_scan", "bench_labels")
BENCHMARKS += ("bench_pg",) if os.environ.get("BENCH_PG") else ()  # PostgreSQL side by side: +5-10 min at M
SECRET_KEY = "bench-secret-key-0123456789abcdef"  # signs generated serials too (scripts/gen/network.py)


@dataclass
class Context:
    """What a benchmark gets: the running service, the loaded database and samples of what is in it."""

    scale: str
    runs: int
    base_url: str  # gunicorn serving the app against the loaded database
    admin_token: str
    graph: Any  # graph.driver.Graph on the loaded database
    neo4j_uri: str
    lots: list[str] = field(default_factory=list)  # Digital Link URIs of loaded lots spread over chains and stages
    items: list[str] = field(default_factory=list)  # Digital Link URIs of serialized ginseng gift boxes
    events: int = 0  # events loaded
    gunicorn_pid: int | None = None
    secret_key: str = SECRET_KEY


def neo4j_env() -> dict:
    """Environment for scripts/neo4jctl.py: the bench server's own home and port."""
    env = dict(os.environ)
    env.setdefault("NEO4J_HOME_DIR", str(REPO / ".neo4j-bench"))
    env.setdefault("NEO4J_BOLT_PORT", "7761")
    env.setdefault("NEO4J_HEAP", "2g")
    env.setdefault("NEO4J_PAGECACHE_MB", "2048")
    return env


def neo4jctl(command: str) -> None:
    """Run scripts/neo4jctl.py on the bench server; stop the suite when it fails."""
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "neo4jctl.py"), command], env=neo4j_env())
    if done.returncode != 0 and command != "stop":
        raise SystemExit(f"neo4jctl {command} failed")


def start_gunicorn(neo4j_uri: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    """Serve the app with gunicorn on ``port`` and wait until /healthz answers."""
    env = dict(os.environ, NEO4J_URI=neo4j_uri, SECRET_KEY=SECRET_KEY, MIGRATE_ON_START="0")
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
         "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=REPO, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def generation_rate(scale: str, seed: int) -> Figure:
    """Generate the whole network once without writing it: events per second of the generator alone."""
    from scripts.gen.network import Network

    net = Network(scale, seed, namespace=999)
    seconds, n = benchlib.timed(lambda: sum(len(events) for events, _ in net.units()))
    return Figure("generate (in memory, no output)", "events/s", [n / seconds], f"{n:,} events, {seconds:.0f} s")


def load(ctx_graph: Any, scale: str, seed: int, path: str, batch: int, base_url: str | None,
         token: str | None) -> Any:
    """Load the network by the chosen path; return the LoadStats."""
    from scripts.gen.load import load_bulk, load_http
    from scripts.gen.network import Network

    net = Network(scale, seed)
    if path == "bulk":
        return load_bulk(ctx_graph, net, batch=batch)
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def post(doc: dict) -> tuple[int, dict]:
        response = session.post(f"{base_url}/epcis/capture", json=doc, timeout=600)
        return response.status_code, response.json() if response.content else {}

    return load_http(ctx_graph, net, post, size=min(batch, 1000))


def memory_figures(ctx: Context) -> list[Figure]:
    """Peak resident memory (VmHWM) of the busiest gunicorn worker and of the Neo4j JVM."""
    out = []
    if ctx.gunicorn_pid:
        workers = benchlib.children(ctx.gunicorn_pid)
        peaks = [benchlib.peak_rss_mib(pid) for pid in workers]
        if peaks:
            out.append(Figure("peak RSS of a gunicorn worker (max of workers)", "MiB", [max(peaks)], "", False))
    pid_file = Path(neo4j_env()["NEO4J_HOME_DIR"]) / "neo4j.pid"
    if pid_file.exists():
        out.append(Figure("peak RSS of Neo4j", "MiB", [benchlib.peak_rss_mib(int(pid_file.read_text()))],
                          f"heap {neo4j_env()['NEO4J_HEAP']}, page cache {neo4j_env()['NEO4J_PAGECACHE_MB']} MiB",
                          False))
    return out


def labels_fallback(ctx: Context) -> list[Figure]:
    """Label rendering with scripts/bench_labels.py's data when it has no bench(ctx): PNG/s and a 1,000-label PDF."""
    from labels.render import render_pdf_sheet, render_png
    from scripts.bench_labels import make_labels

    png = make_labels(200)
    render_png(png[0], "50x30")
    png_runs = benchlib.repeat(lambda: [render_png(lb, "50x30") for lb in png], runs=ctx.runs, warmup=0)
    sheet = make_labels(1000)
    pdf_runs = benchlib.repeat(lambda: render_pdf_sheet(sheet, "50x30"), runs=max(1, ctx.runs // 2), warmup=0)
    return [benchlib.rate_figure("label PNG (one process)", len(png), png_runs, "200 signed gift-box labels a run"),
            Figure("label PDF sheet, 1,000 labels", "s", pdf_runs, "", False)]


def run_benchmarks(ctx: Context, report: Report) -> None:
    """Import each benchmark script's bench(ctx) and record its figures; note those not there yet."""
    for name in BENCHMARKS:
        if not (REPO / "scripts" / f"{name}.py").exists():
            report.note(f"{name}: scripts/{name}.py is not there yet; skipped")
            continue
        module = importlib.import_module(f"scripts.{name}")
        fn = getattr(module, "bench", None)
        if fn is None and name == "bench_labels":
            fn = labels_fallback
        if fn is None:
            report.note(f"{name}: has no bench(ctx) entry point yet; skipped")
            continue
        try:
            report.add(fn(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not lose the others' figures
            report.note(f"{name} failed: {type(exc).__name__}: {exc}")


def main() -> None:
    """Run the suite."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="M", choices=["XS", "S", "M", "L"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each measurement (median reported)")
    parser.add_argument("--load", choices=["bulk", "http"], default="bulk", help="how the network goes in")
    parser.add_argument("--batch", type=int, default=1000,
                        help="events per bulk transaction (http: per document); custody depends on it, see docs")
    parser.add_argument("--reuse", action="store_true", help="keep the bench store's data and skip the load")
    parser.add_argument("--load-only", action="store_true", help="generate and load, then stop (timing L)")
    parser.add_argument("--keep", action="store_true", help="leave Neo4j and gunicorn running")
    parser.add_argument("--no-docs", action="store_true", help="print only; do not append to docs/benchmarks.md")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    from graph import tokens
    from graph.driver import Graph
    from graph.migrate import migrate

    report = Report(f"Suite at scale {args.scale} (seed {args.seed}, load {args.load}, {args.runs} runs)")
    external = os.environ.get("NEO4J_URI", "").strip()
    env = neo4j_env()
    if not external and not args.reuse:
        neo4jctl("stop")
        shutil.rmtree(Path(env["NEO4J_HOME_DIR"]) / "data", ignore_errors=True)  # a fresh store every run
    if not external:
        neo4jctl("start")
    uri = external or f"bolt://127.0.0.1:{env['NEO4J_BOLT_PORT']}"
    graph = Graph(uri)
    migrate(graph)
    token = tokens.create(graph, "admin", None, "bench")["token"]
    port = int(os.environ.get("BENCH_PORT", "8761"))
    gunicorn = None
    try:
        if not args.reuse:  # a reused store was generated before (L: two minutes of generating for nothing)
            report.add(generation_rate(args.scale, args.seed))
        base_url = f"http://127.0.0.1:{port}"
        if args.load == "http" or not args.load_only:
            gunicorn = start_gunicorn(uri, port, args.workers, args.threads)
        stats = None
        if not args.reuse:
            stats = load(graph, args.scale, args.seed, args.load, args.batch, base_url, token)
            report.add(Figure(f"load through {'POST /epcis/capture' if args.load == 'http' else 'bulk path'}",
                              "events/s", [stats.rate],
                              f"{stats.events:,} events in {stats.seconds:.0f} s (+{stats.master_seconds:.0f} s "
                              f"master data), {stats.warnings} capture warnings"))
            if stats.errors:
                report.note(f"capture refused {len(stats.errors)} events, first: {stats.errors[0]}")
        if not args.load_only:
            ctx = Context(args.scale, args.runs, base_url, token, graph, uri, lots=stats.lots if stats else [],
                          items=stats.items if stats else [], events=stats.events if stats else 0,
                          gunicorn_pid=gunicorn.pid if gunicorn else None)
            run_benchmarks(ctx, report)
            report.add(memory_figures(ctx))
        spread = max((benchlib.spread(f.runs) for f in report.figures if len(f.runs) > 1), default=0.0)
        report.note(f"noise: the widest spread of any figure was ±{spread * 50:.0f}% of its median; "
                    f"load average at the end {benchlib.load_average()}")
    finally:
        graph.close()
        if gunicorn and not args.keep:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if not external and not args.keep:
            neo4jctl("stop")
    if not args.no_docs:
        report.append()
        print(f"appended to {benchlib.BENCHMARKS_MD.relative_to(REPO)}")


if __name__ == "__main__":
    main()
