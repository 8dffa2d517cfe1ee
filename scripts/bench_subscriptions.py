"""EPCIS stream subscriptions: from a capture's answer to its query document at the subscriber.

    NEO4J_URI=bolt://127.0.0.1:7697 .venv/bin/python scripts/bench_subscriptions.py --captures 20

Arranges a party with a named query and a signed stream subscription to a local HTTP receiver, starts
`flask notify worker --channel epcis` as its own process (as `make run` starts the worker), captures one event at a
time through the API and measures how long after each capture's answer its document arrives. The first capture warms
the server's plan cache and is not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.benchlib import git_commit, load_average, machine, percentile  # noqa: E402
from tests.capture.helpers import commission, document  # noqa: E402
from tests.factories import Factory, auth, lot_code  # noqa: E402
from tests.notify.test_subscriptions import Receiver  # noqa: E402

SECRET = "bench-subscriptions-secret-" + "y" * 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=20)
    args = parser.parse_args()
    uri = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    os.environ.setdefault("AUDIT_KEY", "tests-audit-key-" + "k" * 24)
    from app import create_app
    from graph import tokens

    app = create_app({"NEO4J_URI": uri, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    graph, client, hook = app.extensions["graph"], app.test_client(), Receiver()
    factory = Factory(graph, tokens.create(graph, "admin", None, "bench_subscriptions")["token"])
    farm = factory.party(roles=("farm",))
    product = factory.product(farm["gln"])
    name = f"bench{lot_code()}"
    assert client.post("/epcis/queries", json={"name": name, "query": {"EQ_bizStep": ["commissioning"]}},
                       headers=auth(farm["token"])).status_code == 201
    sub = client.post(f"/epcis/queries/{name}/subscriptions", headers=auth(farm["token"]), json={
        "dest": hook.url("bench"), "signatureToken": "b" * 40, "stream": True}).json["subscriptionID"]
    env = {**os.environ, "NEO4J_URI": uri, "SECRET_KEY": SECRET, "MIGRATE_ON_START": "0",
           "NOTIFY_ESCALATE_SECONDS": "0"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker", "--channel",
                               "epcis"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    latencies = []
    try:
        for i in range(args.captures + 1):
            event = commission(farm["gln"], product["gtin"], lot_code(), 1.0)
            answer = client.post("/epcis/capture", json=document(event), headers=auth(farm["token"]))
            answered = time.perf_counter()
            assert answer.status_code == 202, answer.json
            deadline = answered + 60
            while time.perf_counter() < deadline and event["eventID"] not in hook.events("bench"):
                time.sleep(0.01)
            got = [g for g in hook.to("bench") if g["doc"]["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
                   [0]["eventID"] == event["eventID"]]
            assert got, f"capture {i} was not delivered within 60 s"
            if i:
                latencies.append(got[0]["at"] - answered)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(10)
        client.delete(f"/epcis/queries/{name}/subscriptions/{sub}", headers=auth(farm["token"]))
        hook.close()
        graph.close()
    print(f"machine: {machine()}")
    print(f"commit: {git_commit()}  load average (1/5/15 min): {load_average()}")
    print(f"worker: NOTIFY_POLL_SECONDS={app.config['NOTIFY_POLL_SECONDS']}")
    print(f"stream delivery, capture answered -> document received, {len(latencies)} captures: "
          f"p50 {percentile(latencies, 50):.2f} s, p90 {percentile(latencies, 90):.2f} s, max {max(latencies):.2f} s")


if __name__ == "__main__":
    main()
