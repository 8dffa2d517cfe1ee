#!/usr/bin/env python3
"""Benchmark the EPCIS 2.0 event query and discovery resources (docs/epcis.md).

    .venv/bin/python scripts/bench_epcis_query.py [--uri bolt://127.0.0.1:7697] [--samples 50] [--runs 5]

Runs in-process through Flask's test client against the database at --uri (default: the tests' server), or as a
scripts/bench.py plug-in (`bench(ctx)`, over HTTP to the suite's gunicorn). Printed figures:
- a lot's events (MATCH_anyEPCClass, perPage=100): graph filters only, one statement per page;
- the same with a document predicate (EQ_type=gs1:Temperature): candidates read in batches and matched in Python;
- a predicate alone over the whole store (EXISTS_errorDeclaration, perPage=30): the worst case, bounded by
  graph.epcis_query.SCAN_LIMIT candidates per request;
- /epcis/epcs and /epcis/bizLocations pages (perPage=100) as an admin.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import benchlib  # noqa: E402

QUERIES = (
    ("EPCIS events of a lot (graph filters)", "/epcis/events?perPage=100&MATCH_anyEPCClass={lot}"),
    ("EPCIS events of a lot + EQ_type predicate", "/epcis/events?perPage=100&MATCH_anyEPCClass={lot}"
                                                  "&EQ_type=gs1:Temperature"),
)
WHOLE_STORE = (
    ("EPCIS events, no filter (one page)", "/epcis/events?perPage=30"),
    ("EPCIS EXISTS_errorDeclaration, whole store", "/epcis/events?perPage=30&EXISTS_errorDeclaration="),
    ("EPCIS /epcs page (admin)", "/epcis/epcs?perPage=100"),
    ("EPCIS /bizLocations page (admin)", "/epcis/bizLocations?perPage=100"),
)


def figures(get: Callable[[str], int], lots: list[str], runs: int) -> list[benchlib.Figure]:
    """Latency figures of each query over the sampled lots, and of each whole-store request (ms per request)."""
    out: list[benchlib.Figure] = []
    for name, template in QUERIES:
        urls = [template.format(lot=quote(lot, safe="")) for lot in lots]
        get(urls[0])  # warm-up
        per_run = [benchlib.latencies(get, urls) for _ in range(runs)]
        out += benchlib.latency_figures(name, per_run, f"{len(lots)} lots")
    for name, url in WHOLE_STORE:
        status = get(url)
        seconds = benchlib.repeat(lambda u=url: get(u), runs=runs)
        out.append(benchlib.Figure(name, "ms", [s * 1000 for s in seconds], f"HTTP {status}", False))
    return out


def bench(ctx) -> list[benchlib.Figure]:
    """scripts/bench.py plug-in: the queries over HTTP to the suite's gunicorn, on its sampled lots."""

    def get(path: str) -> int:
        request = urllib.request.Request(ctx.base_url + path, headers={"Authorization": f"Bearer {ctx.admin_token}"})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status

    return figures(get, ctx.lots[:50], max(1, min(ctx.runs, 5)))


def main() -> None:
    """Run in-process against a database and print the figures with the machine, commit and load."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", default="bolt://127.0.0.1:7697")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from app import create_app
    from graph import tokens
    from gs1.identifiers import ref_from_key

    app = create_app({"TESTING": True, "NEO4J_URI": args.uri, "RATELIMIT_ENABLED": False,
                      "MIGRATE_ON_START": False})
    graph = app.extensions["graph"]
    token = tokens.create(graph, "admin", None, "bench_epcis_query")["token"]
    keys = [r["key"] for r in graph.query(
        "MATCH (n:Lot) WHERE EXISTS { (:Event)-[:OBJECT]->(n) } RETURN n.key AS key LIMIT $n", read=True,
        n=args.samples)]
    events = graph.query("MATCH (e:Event) RETURN count(e) AS n", read=True)[0]["n"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str) -> int:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, json.dumps(response.json)[:300])
        return response.status_code

    found = figures(get, [ref_from_key(k).digital_link() for k in keys], args.runs)
    print(f"# {benchlib.machine()}; commit {benchlib.git_commit()}; load {benchlib.load_average()}; "
          f"{events:,} events in the store; in-process test client")
    for figure in found:
        print(figure.line())
    print("\n| figure | median | spread | runs | note |\n|---|---|---|---|---|")
    for figure in found:
        print(figure.row())


if __name__ == "__main__":
    main()
