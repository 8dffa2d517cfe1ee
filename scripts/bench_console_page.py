#!/usr/bin/env python3
"""Time the console's overview page end to end (issue 15: under 300 ms at scale M): log in as a regulator, then
GET /console/ through the real app (Flask's test client, no network), and graph/console.overview on its own.

    .venv/bin/python scripts/bench.py --scale M --load-only --keep    # a store at M (its own Neo4j, port 7761)
    NEO4J_URI=bolt://127.0.0.1:7761 .venv/bin/python scripts/bench_console_page.py --runs 20

Against the store it is given it writes the migrations the code expects (indexes) and one regulator account (a
fresh user name each run). Figures: p50 and p95 of --runs requests after 2 warm-ups, with the load average.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import benchlib  # noqa: E402

PASSWORD = "bench console 42"


def main() -> None:
    """Print p50/p95 of the overview page and of its one query."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7761"))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from app import create_app
    from app.accounts import hash_password
    from graph import console, users
    from gs1.timezones import CHINA

    app = create_app({"NEO4J_URI": args.uri, "SECRET_KEY": "bench-console-secret-" + "x" * 16,
                      "RATELIMIT_LOGIN": "10000/minute"})
    graph = app.extensions["graph"]
    name = "bench" + uuid.uuid4().hex[:10]
    users.create(graph, {"username": name, "role": "regulator", "party_gln": None, "phone": None,
                         "display_name": "bench"}, hash_password(PASSWORD), "bench")
    client = app.test_client()
    page = client.get("/work/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/work/login", data={"login": name, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.status_code
    inspections = graph.query("MATCH (i:Inspection) RETURN count(i) AS n", read=True)[0]["n"]
    lots = graph.query("MATCH (l:Lot) RETURN count(l) AS n", read=True)[0]["n"]

    def overview_page() -> None:
        response = client.get("/console/")
        assert response.status_code == 200, response.status_code
        response.get_data()

    today = datetime.now(UTC).astimezone(CHINA).date()
    period = (date(today.year - 1, today.month, 1), today)
    report = benchlib.Report(f"Console overview ({inspections:,} inspections, {lots:,} lots, {args.runs} runs)")
    for label, call in (("GET /console/ (page, logged in)", overview_page),
                        ("graph/console.overview (its one query)", lambda: console.overview(graph, period))):
        seconds = benchlib.repeat(call, runs=args.runs, warmup=2)
        report.add(benchlib.Figure(f"{label} p50", "ms", [benchlib.percentile(seconds, 50) * 1000],
                                   higher_is_better=False))
        report.add(benchlib.Figure(f"{label} p95", "ms", [benchlib.percentile(seconds, 95) * 1000],
                                   higher_is_better=False))
    print(f"store {args.uri}; load average {benchlib.load_average()}; {time.strftime('%Y-%m-%d %H:%M')}")
    print(report.markdown())
    graph.close()


if __name__ == "__main__":
    main()
