"""Recall notices for a case with many holders: from the request that opens it to the last notice received.

    NEO4J_URI=bolt://127.0.0.1:7697 .venv/bin/python scripts/bench_notify.py --holders 200 --runs 3

Arranges a lot shipped to N retailers (each with an e-mail address, a phone and a webhook endpoint on a local
receiver that checks every signature with the reference code of docs/notifications.md), starts a real SMTP server
(aiosmtpd) and `flask notify worker` as its own process (as `make run` does), then opens a level-1 recall through
the API and waits until every holder's webhook and e-mail have arrived and every notice is recorded delivered.
Target (issue 16): every notice of a 200-holder case delivered within 5 s of opening.
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

from scripts.benchlib import git_commit, load_average, machine  # noqa: E402
from tests.notify.arrange import shipped_lot  # noqa: E402
from tests.notify.receivers import Mailbox, WebhookReceiver  # noqa: E402

SECRET = "bench-notify-secret-" + "y" * 20


def one_run(app, graph, regulator: str, holders: int, receiver: WebhookReceiver, mailbox: Mailbox) -> dict:
    """Arrange, open, wait; return the times (seconds from the opening request)."""
    from app.notify import notify_key
    from graph import outbox

    chain = shipped_lot(graph, holders, email_domain="bench.test")
    for p in [chain["producer"], *chain["retailers"]]:
        receiver.secrets[p["gln"]] = outbox.set_webhook(graph, notify_key(app), p["gln"], receiver.url(p["gln"]))[
            "secret"]
    client = app.test_client()
    want = len(chain["held"])
    hooks_before = len(receiver.received)
    start = time.perf_counter()
    answer = client.post("/api/v1/recalls", json={"lots": [{"gtin": chain["lot"]["gtin"], "lot": chain["lot"]["lot"]}],
                                                 "reason": "bench", "level": 1},
                         headers={"Authorization": f"Bearer {regulator}"})
    opened = time.perf_counter() - start
    assert answer.status_code == 201, answer.json
    recall_id = answer.json["recall_id"]
    ids = {r["id"]: r["channel"] for r in graph.query(
        "MATCH (n:Notification {recall_id: $id}) RETURN n.delivery_id AS id, n.channel AS channel", read=True,
        id=recall_id)}
    hook_ids = {i for i, c in ids.items() if c == "webhook"}
    mail_ids = {i for i, c in ids.items() if c == "email"}
    times: dict[str, float] = {"open_request": opened}
    deadline = start + 120
    while time.perf_counter() < deadline:
        left = graph.query("MATCH (n:Notification {recall_id: $id}) WHERE n.state <> 'delivered' "
                           "RETURN count(n) AS n", read=True, id=recall_id)[0]["n"]
        if left == 0:
            times["recorded"] = time.perf_counter() - start
            break
        time.sleep(0.05)
    # when the last webhook and the last e-mail arrived (each receiver notes the arrival time)
    hooks = [r["at"] for r in receiver.received[hooks_before:] if r["delivery_id"] in hook_ids]
    mails = [m["at"] for m in mailbox.of(mail_ids)]
    if len({r["delivery_id"] for r in receiver.received[hooks_before:] if r["delivery_id"] in hook_ids}) == want:
        times["webhooks"] = max(hooks) - start
    if len({m["delivery_id"] for m in mailbox.of(mail_ids)}) == want:
        times["emails"] = max(mails) - start
    times["holders"] = want
    times["notices"] = want * 3
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holders", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker-log", default=None, help="keep the worker's log (its per-batch timings) here")
    args = parser.parse_args()
    uri = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    mailbox, receiver = Mailbox(), WebhookReceiver()
    os.environ.setdefault("AUDIT_KEY", "tests-audit-key-" + "k" * 24)
    from app import create_app
    from graph import tokens

    app = create_app({"NEO4J_URI": uri, "SECRET_KEY": SECRET, "SMTP_PORT": mailbox.port, "SMTP_HOST": "127.0.0.1",
                      "RATELIMIT_ENABLED": False})
    graph = app.extensions["graph"]
    regulator = tokens.create(graph, "regulator", None, "bench_notify")["token"]
    env = {**os.environ, "NEO4J_URI": uri, "SECRET_KEY": SECRET, "SMTP_PORT": str(mailbox.port),
           "SMTP_HOST": "127.0.0.1", "MIGRATE_ON_START": "0", "NOTIFY_ESCALATE_SECONDS": "0"}
    log = open(args.worker_log, "w") if args.worker_log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        time.sleep(3)  # the worker is up and polling, as beside `make run`
        # what other cases left due in this database is delivered first, so the runs measure only their own
        for _ in range(300):
            if graph.query("MATCH (n:Notification {state: 'pending'}) WHERE n.next_at <= datetime() "
                           "RETURN count(n) AS n", read=True)[0]["n"] == 0:
                break
            time.sleep(0.2)
        results = [one_run(app, graph, regulator, args.holders, receiver, mailbox) for _ in range(args.runs)]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(10)
        receiver.close()
        mailbox.close()
        graph.close()
    print(f"machine: {machine()}")
    print(f"commit: {git_commit()}  load average (1/5/15 min): {load_average()}")
    print(f"worker: NOTIFY_BATCH={app.config['NOTIFY_BATCH']} NOTIFY_THREADS={app.config['NOTIFY_THREADS']} "
          f"NOTIFY_POLL_SECONDS={app.config['NOTIFY_POLL_SECONDS']}")
    print("| run | holders | notices | open request s | all webhooks s | all e-mails s | all recorded delivered s |")
    print("|---|---|---|---|---|---|---|")
    for i, r in enumerate(results, 1):
        print(f"| {i} | {r['holders']} | {r['notices']} | {r['open_request']:.2f} | "
              f"{r.get('webhooks', float('nan')):.2f} | {r.get('emails', float('nan')):.2f} | "
              f"{r.get('recorded', float('nan')):.2f} |")


if __name__ == "__main__":
    main()
