"""Time the console's supervision reads in-process (graph/ functions, one query each): pass rates by every
dimension, the inspection and alert lists, and the console's overview when graph/console.py has one (issue 15:
the overview under 300 ms at scale M).

    .venv/bin/python scripts/bench.py --scale M --load-only       # a fresh store at M (its own Neo4j, port 7761)
    NEO4J_URI=bolt://127.0.0.1:7761 .venv/bin/python scripts/bench_console.py --runs 20
    .venv/bin/python scripts/bench_console.py --markdown           # also print the rows for docs/benchmarks.md

Against the store it is given (NEO4J_URI, else bench.py's on port 7761): it writes nothing (`--migrate` applies
pending migrations first, for a store loaded before V0016's indexes). Inspections loaded by bench.py are
classified as they are loaded (graph/bulk.py; the generator gives each sample a programme). Each figure is the
median (and p95) of --runs calls after 2 warm-ups; the load average is printed with them: run it on a quiet
machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts import benchlib  # noqa: E402

TARGET_MS = 300.0


def cases(graph) -> dict:
    """The reads to time: name -> a call."""
    from graph import alerts, supervision

    out = {f"pass rates by {by}": (lambda by=by: supervision.pass_rates(graph, by, {})) for by in
           ("programme", "category", "province", "city", "county", "month")}
    out["pass rates by county, routine monitoring, 2026"] = lambda: supervision.pass_rates(
        graph, "county", {"programme": "routine_monitoring", "date_from": date(2026, 1, 1),
                          "date_to": date(2026, 12, 31)})
    out["inspections, newest 50"] = lambda: supervision.list_inspections(graph, {}, per_page=50)
    out["inspections, failed in Jilin City, by report"] = lambda: supervision.list_inspections(
        graph, {"verdict": "fail", "region": "220200"}, per_page=50, sort="report_no")
    out["alerts, open, newest 50"] = lambda: alerts.list_alerts(graph, state="open", per_page=50)
    try:
        from graph import console
    except ImportError:
        console = None
    if console is not None and hasattr(console, "overview"):
        out["console overview (graph/console.overview), 2026"] = lambda: console.overview(
            graph, (date(2026, 1, 1), date(2026, 12, 31)))
    return out


def main() -> None:
    """Time each read and print median and p95 (ms)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7761"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--migrate", action="store_true", help="apply pending migrations first (indexes)")
    args = parser.parse_args()

    from graph.driver import Graph
    from graph.migrate import migrate

    graph = Graph(args.uri, password=os.environ.get("NEO4J_PASSWORD", ""))
    try:
        if args.migrate:
            migrate(graph)
        from graph import supervision

        count = supervision.pass_rates(graph, "programme", {})["total"]["count"]
        report = benchlib.Report(f"Console supervision reads ({count:,} inspections, {args.runs} runs)")
        report.note(f"store {args.uri}; target: the overview under {TARGET_MS:.0f} ms at scale M")
        for name, call in cases(graph).items():
            seconds = benchlib.repeat(call, runs=args.runs, warmup=2)
            report.add(benchlib.Figure(f"{name}", "ms", [s * 1000 for s in seconds],
                                       f"p95 {benchlib.percentile(seconds, 95) * 1000:.0f} ms",
                                       higher_is_better=False))
        print(f"load average: {benchlib.load_average()}")
        if args.markdown:
            print(report.markdown())
    finally:
        graph.close()


if __name__ == "__main__":
    main()
