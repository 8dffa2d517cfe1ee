"""Opening a recall sends one message per holder and channel, over a real SMTP server and a real HTTP receiver;
a killed worker loses nothing and sends nothing under a new delivery ID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.notify import run_worker
from tests.factories import auth
from tests.notify.conftest import SECRET, register_webhooks
from tests.notify.receivers import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]


def _open(client, token, lot, **extra):
    body = {"lots": [{"gtin": lot["gtin"], "lot": lot["lot"]}], "reason": "镉超标 cadmium above GB 2762",
            "level": 1, **extra}
    answer = client.post("/api/v1/recalls", json=body, headers=auth(token))
    assert answer.status_code == 201, answer.json
    return answer.json


def _stored(graph, recall_id):
    return graph.query("MATCH (n:Notification {recall_id: $id}) RETURN n.delivery_id AS id, n.channel AS channel, "
                       "n.party_gln AS gln, n.state AS state, n.receipt AS receipt", read=True, id=recall_id)


def test_opening_a_recall_sends_one_message_per_holder_and_channel(client, graph, notify_app, mailbox, receiver,
                                                                     chain, regulator):
    everyone = [chain["producer"], *chain["retailers"]]
    register_webhooks(client, receiver, everyone)
    case = _open(client, regulator, chain["lot"])
    stored = _stored(graph, case["recall_id"])
    # written with the case: 4 holders x 3 channels, before any worker ran
    assert sorted((s["gln"], s["channel"]) for s in stored) == sorted(
        (gln, c) for gln in chain["held"] for c in ("webhook", "email", "sms"))
    run_worker(notify_app, recall_id=case["recall_id"], once=True)

    by_channel = {c: {s["id"]: s["gln"] for s in stored if s["channel"] == c} for c in ("webhook", "email", "sms")}
    hooks = [r for r in receiver.received if r["delivery_id"] in by_channel["webhook"]]
    assert sorted(r["gln"] for r in hooks) == sorted(chain["held"])  # exactly one each, to its own endpoint
    assert {r["delivery_id"] for r in hooks} == set(by_channel["webhook"])
    assert receiver.refused == []
    # what each holder has, read from the custody edges (what it holds plus what is on its way to it)
    has = {r["gln"]: r["q"] for r in graph.query(
        "MATCH (p:Party)-[h:HOLDS]->(:Lot {key: $k}) RETURN p.gln AS gln, h.quantity + h.pending AS q", read=True,
        k=f"lot:{chain['lot']['gtin']}:{chain['lot']['lot']}")}
    mails = mailbox.of(set(by_channel["email"]))
    assert sorted(m["to"][0] for m in mails) == sorted(p["contact_email"] for p in everyone)
    for m in mails:
        gln = by_channel["email"][m["message"]["X-TraceGraph-Delivery"]]
        text = m["message"].get_content()
        # the product, the lot, this holder's own quantity, the reason, in both languages
        assert "长白山人参" in text and "Changbai ginseng" in text and chain["lot"]["lot"] in text
        assert f"：{has[gln]:g} KGM" in text and f": {has[gln]:g} KGM" in text
        assert "镉超标" in text and "召回" in text and "Stop selling" in text
        assert "/recall-ack/" in text
    sms = [s for s in _stored(graph, case["recall_id"]) if s["channel"] == "sms"]
    assert all(s["state"] == "delivered" and s["receipt"] == f"logged:{s['id']}" for s in sms)
    assert all(s["state"] == "delivered" for s in _stored(graph, case["recall_id"]))
    # a second pass finds nothing due: nothing is sent twice
    run_worker(notify_app, recall_id=case["recall_id"], once=True)
    assert len([r for r in receiver.received if r["delivery_id"] in by_channel["webhook"]]) == len(chain["held"])


def _worker(neo4j_uri, smtp_port, recall_id):
    env = {**os.environ, "NEO4J_URI": neo4j_uri, "SECRET_KEY": SECRET, "SMTP_PORT": str(smtp_port),
           "SMTP_HOST": "127.0.0.1", "NOTIFY_BATCH": "2", "NOTIFY_THREADS": "1", "NOTIFY_LEASE_SECONDS": "2",
           "NOTIFY_POLL_SECONDS": "0.2", "MIGRATE_ON_START": "0", "WEBHOOK_TIMEOUT_S": "1", "SMTP_TIMEOUT_S": "1",
           "PUBLIC_BASE_URL": "http://tg.test"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker", "--recall",
                             recall_id], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_a_worker_killed_mid_delivery_loses_nothing_and_makes_no_new_ids(client, graph, neo4j_uri, mailbox,
                                                                         regulator):
    from tests.notify.arrange import shipped_lot

    chain = shipped_lot(graph, 5)
    slow = WebhookReceiver(delay=0.4)  # slow enough that the kill lands between sending and recording
    try:
        register_webhooks(client, slow, [chain["producer"], *chain["retailers"]])
        case = _open(client, regulator, chain["lot"])
        ids = {s["id"]: s["channel"] for s in _stored(graph, case["recall_id"])}
        first = _worker(neo4j_uri, mailbox.port, case["recall_id"])
        deadline = time.monotonic() + 60
        while len(slow.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        states = [s["state"] for s in _stored(graph, case["recall_id"])]
        assert states.count("pending") > 0, "the kill came too late to prove anything"
        second = _worker(neo4j_uri, mailbox.port, case["recall_id"])
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if all(s["state"] == "delivered" for s in _stored(graph, case["recall_id"])):
                    break
                time.sleep(0.2)
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(10)
        assert all(s["state"] == "delivered" for s in _stored(graph, case["recall_id"]))
        webhook_ids = {i for i, c in ids.items() if c == "webhook"}
        got = [r["delivery_id"] for r in slow.received if r["delivery_id"] in webhook_ids]
        assert set(got) == webhook_ids  # every message arrived
        # nothing arrived under an ID the outbox does not hold for this case: a repeat is the same ID
        assert {r["delivery_id"] for r in slow.received} <= webhook_ids
        mail_ids = {m["message"]["X-TraceGraph-Delivery"] for m in mailbox.messages
                    if m["to"][0].endswith("example.test")} & set(ids)
        assert mail_ids == {i for i, c in ids.items() if c == "email"}
        assert {r["delivery_id"] for r in slow.received} | mail_ids | {i for i, c in ids.items() if c == "sms"} \
            == set(ids)
    finally:
        slow.close()


def test_a_failed_webhook_is_retried_after_backoff_under_the_same_delivery_id(client, graph, notify_app, regulator):
    from tests.notify.arrange import shipped_lot

    chain = shipped_lot(graph, 1)
    flaky = WebhookReceiver(fail_first=2)  # both holders' first tries fail (503)
    try:
        register_webhooks(client, flaky, [chain["producer"], *chain["retailers"]])
        case = _open(client, regulator, chain["lot"])
        run_worker(notify_app, recall_id=case["recall_id"], once=True)
        hooks = graph.query("MATCH (n:Notification {recall_id: $id, channel: 'webhook'}) RETURN n.delivery_id AS id, "
                            "n.state AS state, n.attempts AS attempts, n.last_error AS error, "
                            "duration.inSeconds(datetime(), n.next_at).seconds AS wait", read=True,
                            id=case["recall_id"])
        assert all(h["state"] == "pending" and h["attempts"] == 1 and "503" in h["error"] for h in hooks)
        assert all(0 < h["wait"] <= 2 for h in hooks)  # due again after the first backoff (2 s), not at once
        assert flaky.received == []
        time.sleep(2.2)
        run_worker(notify_app, recall_id=case["recall_id"], once=True)
        assert sorted(r["delivery_id"] for r in flaky.received) == sorted(h["id"] for h in hooks)
        assert sorted(flaky.attempts) == sorted(h["id"] for h in hooks for _ in range(2))  # same ID both times
        assert all(s["state"] == "delivered" for s in _stored(graph, case["recall_id"]))
    finally:
        flaky.close()


def test_the_worker_waits_out_a_database_that_does_not_answer(neo4j_uri):
    import threading

    from app import create_app

    dead = create_app({"TESTING": True, "NEO4J_URI": "bolt://127.0.0.1:9", "SECRET_KEY": SECRET,
                       "MIGRATE_ON_START": False, "NOTIFY_ESCALATE_SECONDS": 0})
    stop, outcome = threading.Event(), {}

    def work():
        try:
            outcome["sent"] = run_worker(dead, stop=stop)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(2.5)  # several failed passes: the worker must still be running, not crashed
    assert thread.is_alive() and outcome == {}
    stop.set()
    thread.join(10)
    assert outcome == {"sent": 0}
    dead.extensions["graph"].close()
