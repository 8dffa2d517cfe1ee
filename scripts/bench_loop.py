"""Time the supervision loop's public answers and the console's list functions (issue 15), in process.

    .venv/bin/python scripts/bench_loop.py                  # NEO4J_URI, else the test server (port 7697)
    .venv/bin/python scripts/bench_loop.py --requests 200

Arranges one report and one drawn plan (on the test store: data like the tests'), then times, one request at a
time through the app's test client (no network): the reporter's status page, a published plan's page, the public
plan list, the consumer page's credit look-up (graph/credit.scan_warnings) and the regulators' first pages of the
credit list and the report queue. Prints median and p95 per figure, with the machine, commit and load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts import benchlib  # noqa: E402

TESTS_AUDIT_KEY = "tests-audit-key-" + "k" * 24  # tests/conftest.py: every app on the test store shares it


def main() -> int:
    """Arrange, time, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7697"))
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    from app import create_app
    from graph import consumer_reports, credit, parties, products, sampling_plans, users

    app = create_app({"NEO4J_URI": args.uri, "MIGRATE_ON_START": False, "TESTING": True,
                      "AUDIT_KEY": TESTS_AUDIT_KEY, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "test-secret-key-" + "x" * 20})
    graph = app.extensions["graph"]
    gln = "699" + f"{uuid.uuid4().int % 10**9:09d}"
    gln += str((10 - sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(gln)))) % 10)
    parties.create(graph, {"gln": gln, "name_zh": "基准农场", "name_en": "Bench farm", "roles": ["farm"],
                           "region_code": "220724", "region_zh": "前郭县"})
    gtin_body = "0699" + f"{uuid.uuid4().int % 10**9:09d}"
    gtin = gtin_body + str((10 - sum(int(d) * (3 if i % 2 == 0 else 1)
                                     for i, d in enumerate(reversed(gtin_body)))) % 10)
    products.create(graph, {"gtin": gtin, "name_zh": "鹿茸", "name_en": "Antler", "category": "deer_antler",
                            "unit": "KGM", "owner_gln": gln})
    pool = [users.create(graph, {"username": f"bench{uuid.uuid4().hex[:10]}", "role": "regulator"}, "h")["user_id"]]
    plan = sampling_plans.create_plan(graph, {"title": "基准计划", "categories": ["deer_antler"],
                                              "region_code": "220724", "target_count": 1, "per_target": 1,
                                              "inspector_ids": pool}, "bench")
    sampling_plans.draw(graph, plan["plan_id"], "bench", "bench")
    report = consumer_reports.file_report(graph, {"code": f"https://id.gs1.org/01/{gtin}", "text": "基准",
                                                  "phone": "13900000000"}, uuid.uuid4().hex)
    client = app.test_client()

    def page(path):
        def run(_):
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
        return run

    figures = {
        "report status page /report/<no>": page(f"/report/{report['report_no']}"),
        "published plan page": page(f"/public/sampling-plans/{plan['plan_id']}"),
        "public plan list": page("/public/sampling-plans"),
        "credit.scan_warnings (consumer page)": lambda _: credit.scan_warnings(graph, gtin, None),
        "credit.list_parties first page": lambda _: credit.list_parties(graph),
        "consumer_reports.list_reports first page": lambda _: consumer_reports.list_reports(graph),
    }
    print(f"commit {benchlib.git_commit()}; {benchlib.machine()}; load {benchlib.load_average()}")
    print("| figure | median | p95 | requests |\n|---|---|---|---|")
    with app.app_context():
        for name, fn in figures.items():
            for _ in range(5):
                fn(None)
            seconds = benchlib.latencies(fn, range(args.requests))
            print(f"| {name} | {statistics.median(seconds) * 1000:.1f} ms | "
                  f"{benchlib.percentile(seconds, 95) * 1000:.1f} ms | {len(seconds)} |")
    print(f"load after: {benchlib.load_average()}")
    graph.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
