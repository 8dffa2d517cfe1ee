"""EPCIS query subscriptions through the real app, Neo4j, the real notification worker and a real local HTTP
receiver: create/list/delete, stream delivery signed with the subscriber's token (checked here with hmac, not with
the code under test), schedules with and without reportIfEmpty, initialRecordTime backfill, per-party visibility,
two workers delivering once, retries of a failing receiver, and refused requests writing nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.notify import run_worker
from tests.capture.helpers import commission, document
from tests.factories import auth, lot_code
from tests.fingerprint import unchanged
from tests.notify.conftest import SECRET

TOKEN = "13df38d8275b13f05704629e5f1cf3d45d6132d5"  # GS1's example signatureToken


class Receiver:
    """A local HTTP server keeping every POST (path, headers, raw body); the first `fail_first` answer 503, the
    others `status`."""

    def __init__(self, fail_first: int = 0, status: int = 200):
        self.fail_first = fail_first
        self.got: list[dict] = []
        self.tries: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.tries.append(self.headers.get("X-TraceGraph-Delivery"))
                    failing = outer.fail_first > 0
                    outer.fail_first -= 1 if failing else 0
                    if not failing:
                        outer.got.append({"path": self.path, "headers": self.headers, "body": body,
                                          "doc": json.loads(body), "at": time.perf_counter()})
                self.send_response(503 if failing else status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cb/{name}"

    def to(self, name: str) -> list[dict]:
        with self.lock:
            return [g for g in self.got if g["path"] == f"/cb/{name}"]

    def events(self, name: str) -> list[str]:
        return [e["eventID"] for g in self.to(name)
                for e in g["doc"]["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def sub_app(neo4j_uri):
    """An app configured like the worker's, with fast schedules (the session app shares its SECRET_KEY, so the
    same key opens the tokens the API sealed)."""
    from app import create_app

    application = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "SECRET_KEY": SECRET, "MIGRATE_ON_START": False,
                              "NOTIFY_POLL_SECONDS": 0.1, "NOTIFY_ESCALATE_SECONDS": 0, "WEBHOOK_TIMEOUT_S": 2,
                              "SUBSCRIPTION_MIN_INTERVAL_S": 1, "SUBSCRIPTION_SETTLE_SECONDS": 1})
    yield application
    application.extensions["graph"].close()


class Worker:
    """`run_worker` in a thread (as `flask notify worker` runs it), stopped at the end."""

    def __init__(self, app):
        self.stop = threading.Event()
        # only the epcis channel: other tests' notices in the shared database are their own workers' to send
        self.thread = threading.Thread(target=run_worker, args=(app,), kwargs={"stop": self.stop, "channel": "epcis"},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.stop.set()
        self.thread.join(30)


@pytest.fixture
def worker(sub_app):
    w = Worker(sub_app)
    yield w
    w.close()


@pytest.fixture
def farm(factory, client):
    """A fresh party with a product and a named query of its own (commissioning events)."""
    p = factory.party(roles=("farm",))
    p["product"] = factory.product(p["gln"])
    p["query"] = f"q{lot_code()}"
    answer = client.post("/epcis/queries", json={"name": p["query"], "query": {"EQ_bizStep": ["commissioning"]}},
                         headers=auth(p["token"]))
    assert answer.status_code == 201, answer.json
    p["subscriptions"] = []
    yield p
    for sid in p["subscriptions"]:  # the database is shared: nothing of ours keeps firing after the test
        client.delete(f"/epcis/queries/{p['query']}/subscriptions/{sid}", headers=auth(p["token"]))


def subscribe(client, party, body, status=201):
    answer = client.post(f"/epcis/queries/{party['query']}/subscriptions", json=body, headers=auth(party["token"]))
    assert answer.status_code == status, answer.get_data(as_text=True)
    if status == 201:
        party["subscriptions"].append(answer.json["subscriptionID"])
    return answer


def capture(client, party) -> str:
    event = commission(party["gln"], party["product"]["gtin"], lot_code(), 1.0)
    answer = client.post("/epcis/capture", json=document(event), headers=auth(party["token"]))
    assert answer.status_code == 202 and answer.json["success"], answer.json
    return event["eventID"]


def wait_for(check, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def signature_ok(got: dict, token: str) -> bool:
    stamp = got["headers"]["X-TraceGraph-Timestamp"]
    expected = "v1=" + hmac.new(token.encode(), stamp.encode() + b"." + got["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, got["headers"]["GS1-Signature"] or "")


def test_subscribe_list_show_unsubscribe_never_answers_the_token(client, graph, farm, hook, factory):
    # GS1's two examples, unchanged but for dest
    stream = subscribe(client, farm, {"dest": hook.url("s"), "signatureToken": TOKEN, "stream": True})
    scheduled = subscribe(client, farm, {"dest": hook.url("t"), "signatureToken": TOKEN, "reportIfEmpty": True,
                                         "schedule": {"hour": "1", "minute": "5"}})
    sid, tid = stream.json["subscriptionID"], scheduled.json["subscriptionID"]
    assert stream.headers["Location"] == f"/epcis/queries/{farm['query']}/subscriptions/{sid}"
    assert stream.json["stream"] is True and "schedule" not in stream.json and stream.json["dest"] == hook.url("s")
    assert scheduled.json["schedule"] == {"hour": "1", "minute": "5"} and scheduled.json["reportIfEmpty"] is True
    listed = client.get(f"/epcis/queries/{farm['query']}/subscriptions", headers=auth(farm["token"]))
    assert listed.status_code == 200 and sorted(s["subscriptionID"] for s in listed.json) == sorted([sid, tid])
    shown = client.get(f"/epcis/queries/{farm['query']}/subscriptions/{sid}", headers=auth(farm["token"]))
    assert shown.status_code == 200 and shown.json["subscriptionID"] == sid and shown.json["signed"] is True
    for answer in (stream, scheduled, listed, shown):
        assert TOKEN not in answer.get_data(as_text=True)
    # stored encrypted, audited redacted: the token is in no property of any node these requests wrote
    stored = graph.query("MATCH (s:Subscription) WHERE s.subscription_id IN $ids RETURN properties(s) AS p",
                         read=True, ids=[sid, tid])
    assert len(stored) == 2 and all(TOKEN not in json.dumps(r["p"], default=str) for r in stored)
    def audited():
        return graph.query("MATCH (a:AuditEntry) WHERE a.path = $path RETURN properties(a) AS p", read=True,
                           path=f"/epcis/queries/{farm['query']}/subscriptions")

    assert wait_for(lambda: len(audited()) == 2)
    assert all(TOKEN not in json.dumps(r["p"], default=str) for r in audited())
    # another party sees neither the query's subscriptions nor one of them
    other = client.get(f"/epcis/queries/{farm['query']}/subscriptions/{sid}",
                       headers=auth(factory.party(roles=("farm",))["token"]))
    assert other.status_code == 403
    gone = client.delete(f"/epcis/queries/{farm['query']}/subscriptions/{sid}", headers=auth(farm["token"]))
    assert gone.status_code == 204
    assert client.get(f"/epcis/queries/{farm['query']}/subscriptions/{sid}",
                      headers=auth(farm["token"])).status_code == 404
    listed = client.get(f"/epcis/queries/{farm['query']}/subscriptions", headers=auth(farm["token"]))
    assert [s["subscriptionID"] for s in listed.json] == [tid]


def _count(graph, query):
    return graph.query("MATCH (:NamedQuery {name: $q})-[:HAS_SUBSCRIPTION]->(s) RETURN count(s) AS n", read=True,
                       q=query)[0]["n"]


@pytest.mark.parametrize("body, status, field", [
    ({"dest": "http://127.0.0.1:9/x", "stream": True, "schedule": {"hour": "1"}}, 400, "stream"),
    ({"dest": "http://127.0.0.1:9/x"}, 400, "schedule"),
    ({"dest": "http://127.0.0.1:9/x", "stream": False}, 400, "schedule"),
    ({"dest": "http://127.0.0.1:9/x", "schedule": {"minute": "61"}}, 400, "schedule.minute"),
    ({"dest": "http://127.0.0.1:9/x", "schedule": {"dayOfMonth": "31", "month": "2"}}, 400, "schedule"),
    ({"dest": "http://127.0.0.1:9/x", "schedule": {}}, 400, "schedule"),
    ({"dest": "http://user:pw@127.0.0.1:9/x", "stream": True}, 400, "dest"),
    ({"dest": "ftp://example.test/x", "stream": True}, 400, "dest"),
    ({"dest": "http://127.0.0.1:9/x", "stream": True, "signatureToken": "short"}, 400, "signatureToken"),
])
def test_refused_subscriptions_write_nothing(client, graph, farm, body, status, field):
    with unchanged(graph, parties=[farm["gln"]]):
        answer = client.post(f"/epcis/queries/{farm['query']}/subscriptions", json=body,
                             headers={**auth(farm["token"]), "Accept": "application/problem+json"})
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert field in json.dumps(answer.json)
    assert _count(graph, farm["query"]) == 0


def test_another_partys_query_or_no_query_is_refused(client, graph, farm, factory):
    intruder = factory.party(roles=("farm",))
    body = {"dest": "http://127.0.0.1:9/x", "stream": True}
    with unchanged(graph, parties=[farm["gln"], intruder["gln"]]):
        refused = client.post(f"/epcis/queries/{farm['query']}/subscriptions", json=body,
                              headers=auth(intruder["token"]))
        missing = client.post(f"/epcis/queries/nope{lot_code()}/subscriptions", json=body,
                              headers=auth(farm["token"]))
    assert refused.status_code == 403 and missing.status_code == 404
    assert _count(graph, farm["query"]) == 0


def test_stream_delivers_a_signed_query_document_within_seconds(client, farm, hook, worker):
    sid = subscribe(client, farm, {"dest": hook.url("s"), "signatureToken": TOKEN, "stream": True}
                    ).json["subscriptionID"]
    first = capture(client, farm)  # the first also warms the server's plan cache for these statements
    cold = time.perf_counter()
    assert wait_for(lambda: hook.to("s"), seconds=60), "nothing delivered"
    began = time.perf_counter()
    eid = capture(client, farm)
    answered = time.perf_counter()
    assert wait_for(lambda: len(hook.to("s")) == 2), "the second capture was not delivered"
    got = hook.to("s")[1]
    print(f"\nstream delivery latency: capture request -> receiver {got['at'] - began:.2f} s, capture answered -> "
          f"receiver {got['at'] - answered:.2f} s (the first capture, cold: {hook.to('s')[0]['at'] - cold:.2f} s)")
    assert hook.events("s") == [first, eid]
    assert signature_ok(got, TOKEN)
    assert not signature_ok(got, TOKEN[:-1] + "0")
    results = got["doc"]["epcisBody"]["queryResults"]
    assert got["doc"]["type"] == "EPCISQueryDocument"
    assert results["subscriptionID"] == sid and results["queryName"] == farm["query"]
    assert [e["eventID"] for e in results["resultsBody"]["eventList"]] == [eid]
    time.sleep(1.0)
    assert len(hook.to("s")) == 2  # each once


def test_a_party_never_receives_another_partys_events(client, farm, factory, hook, worker):
    other = factory.party(roles=("farm",))
    other["product"] = factory.product(other["gln"])
    subscribe(client, farm, {"dest": hook.url("p"), "stream": True})
    theirs = capture(client, other)  # a commissioning event the query would match, but not the farm's to read
    mine = capture(client, farm)
    assert wait_for(lambda: mine in hook.events("p"))
    time.sleep(1.0)
    assert theirs not in hook.events("p") and hook.events("p") == [mine]
    assert "GS1-Signature" not in hook.to("p")[0]["headers"]  # no token given: unsigned


def test_schedule_reports_if_empty_only_when_asked(client, farm, hook, worker):
    every = {"second": "*"}
    subscribe(client, farm, {"dest": hook.url("empty"), "schedule": every, "reportIfEmpty": True})
    subscribe(client, farm, {"dest": hook.url("quiet"), "schedule": every})
    assert wait_for(lambda: len(hook.to("empty")) >= 2)
    assert hook.events("empty") == []
    assert hook.to("quiet") == []
    eid = capture(client, farm)
    assert wait_for(lambda: eid in hook.events("quiet"))
    assert wait_for(lambda: eid in hook.events("empty"))
    time.sleep(2.5)  # more runs: the event is not sent again
    assert hook.events("quiet") == [eid] and hook.events("empty") == [eid]


def test_initial_record_time_backfills_what_was_recorded_before(client, farm, hook, worker):
    before = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    old = capture(client, farm)
    time.sleep(0.05)
    subscribe(client, farm, {"dest": hook.url("back"), "stream": True, "initialRecordTime": before})
    subscribe(client, farm, {"dest": hook.url("now"), "stream": True})
    subscribe(client, farm, {"dest": hook.url("sched"), "schedule": {"second": "*"}, "initialRecordTime": before})
    new = capture(client, farm)
    assert wait_for(lambda: {old, new} <= set(hook.events("back")))
    assert wait_for(lambda: new in hook.events("now") and {old, new} <= set(hook.events("sched")))
    time.sleep(2.0)
    assert sorted(hook.events("back")) == sorted([old, new]) and hook.events("now") == [new]
    assert sorted(hook.events("sched")) == sorted([old, new])


def test_two_workers_deliver_each_document_once(client, graph, farm, hook, sub_app):
    sid = subscribe(client, farm, {"dest": hook.url("two"), "stream": True}).json["subscriptionID"]
    eids = [capture(client, farm) for _ in range(6)]
    workers = [Worker(sub_app), Worker(sub_app)]
    try:
        assert wait_for(lambda: set(eids) <= set(hook.events("two")))
        time.sleep(1.5)
    finally:
        for w in workers:
            w.close()
    assert sorted(hook.events("two")) == sorted(eids)  # every event once (a pass may put several captures in one)
    ids = [g["headers"]["X-TraceGraph-Delivery"] for g in hook.to("two")]
    assert len(ids) == len(set(ids))  # no document twice
    stored = graph.query("MATCH (n:Notification {subscription_id: $s}) RETURN n.delivery_id AS id, n.state AS state, "
                         "n.attempts AS a", read=True, s=sid)
    assert sorted(r["id"] for r in stored) == sorted(ids)
    assert {(r["state"], r["a"]) for r in stored} == {("delivered", 1)}  # each leased and sent once


def test_a_failing_receiver_is_retried_with_the_same_delivery_id(client, graph, farm, worker):
    hook = Receiver(fail_first=2)
    try:
        sid = subscribe(client, farm, {"dest": hook.url("r"), "signatureToken": TOKEN, "stream": True}
                        ).json["subscriptionID"]
        eid = capture(client, farm)
        assert wait_for(lambda: hook.to("r"), seconds=20), hook.tries
        assert len(hook.tries) == 3 and len(set(hook.tries)) == 1
        assert hook.events("r") == [eid] and signature_ok(hook.to("r")[0], TOKEN)
        row = graph.query("MATCH (n:Notification {subscription_id: $s}) RETURN n.state AS state, n.attempts AS a",
                          read=True, s=sid)
        assert wait_for(lambda: graph.query(
            "MATCH (n:Notification {subscription_id: $s}) RETURN n.state AS state", read=True, s=sid
        )[0]["state"] == "delivered")
        assert row and row[0]["a"] >= 3
        shown = client.get(f"/epcis/queries/{farm['query']}/subscriptions/{sid}", headers=auth(farm["token"]))
        assert "lastNotifiedAt" in shown.json
    finally:
        hook.close()


def test_unsubscribing_or_deleting_the_query_stops_deliveries(client, graph, farm, hook, sub_app):
    sid = subscribe(client, farm, {"dest": hook.url("u"), "stream": True}).json["subscriptionID"]
    capture(client, farm)
    # captured, not yet sent (no worker ran yet)
    assert client.delete(f"/epcis/queries/{farm['query']}/subscriptions/{sid}",
                         headers=auth(farm["token"])).status_code == 204
    farm["subscriptions"].remove(sid)
    again = subscribe(client, farm, {"dest": hook.url("u"), "stream": True}).json["subscriptionID"]
    assert client.delete(f"/epcis/queries/{farm['query']}", headers=auth(farm["token"])).status_code == 204
    farm["subscriptions"].remove(again)
    assert graph.query("MATCH (s:Subscription) WHERE s.subscription_id IN $ids RETURN count(s) AS n", read=True,
                       ids=[sid, again])[0]["n"] == 0
    capture(client, farm)
    w = Worker(sub_app)
    try:
        time.sleep(2.0)
    finally:
        w.close()
    assert hook.to("u") == []


def test_a_revoked_subscribers_token_ends_its_deliveries(client, graph, farm, admin_token, worker):
    from graph import tokens

    live, dead = Receiver(), Receiver()
    second = tokens.create(graph, "producer", farm["gln"], "tests")["token"]  # another token of the same party
    try:
        subscribe(client, farm, {"dest": dead.url("x"), "stream": True})
        answer = client.post(f"/epcis/queries/{farm['query']}/subscriptions", headers=auth(second),
                             json={"dest": live.url("y"), "stream": True})
        assert answer.status_code == 201
        farm["subscriptions"].append(answer.json["subscriptionID"])
        tokens.revoke(graph, tokens.lookup(graph, farm["token"])["token_id"])
        event = commission(farm["gln"], farm["product"]["gtin"], lot_code(), 1.0)  # at the farm: the farm's to read
        assert client.post("/epcis/capture", json=document(event), headers=auth(admin_token)).json["success"]
        assert wait_for(lambda: event["eventID"] in live.events("y"))  # the live token's subscription still works
        time.sleep(1.0)
        assert dead.got == []  # the revoked token's does not
    finally:
        farm["token"] = second  # the fixture unsubscribes both with a live token of the party
        live.close()
        dead.close()
