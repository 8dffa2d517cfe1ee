"""The web tier is stateless: two app instances (gunicorn processes) against one Neo4j and one Redis behave as one
service. Rate limits and lockouts count across both, a session and a form made on one work on the other, print runs
on both give disjoint serials, scans are recorded once each (a SIGTERM'd instance writes what it had buffered), two
notification workers deliver each message once, and a recall opened through one shows its banner on the other at
once, page caches and all (docs/scaling.md).

Real processes only: redis-server and gunicorn are started here, the test Neo4j (7697) by tests/conftest.py. Data is
fresh per test (tests/factories.py); each test speaks from its own client address (X-Forwarded-For behind one
trusted proxy, as behind a load balancer), so the shared counters of one test are not another's.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from graph import tokens
from tests import factories
from tests.capture.helpers import commission, document
from tests.factories import auth
from tests.notify.arrange import shipped_lot
from tests.notify.receivers import Mailbox, WebhookReceiver
from tests.notify.test_subscriptions import Receiver
from tests.scale.instances import REPO, Instance, RedisServer, instance_env
from tests.web.helpers import make_user

RESOLVER_LIMIT = 10  # consumer-page requests per client address and hour, for these instances
AUTH_FAILURES = 6  # requests with a bad token per address (and per token) and hour
LOGIN_FAILURES = 4  # wrong passwords in a row that lock an account
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ALERTS = "/api/v1/alerts?per_page=1"  # an API read any valid token may make
# A consumer page's read gives up after SCAN_QUERY_TIMEOUT (30 s here) and answers 503, recording nothing; should a
# busy shared test server make it, the page is asked again, as its shopper would.
PAGE_TRIES = 3


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pair(neo4j_uri, redis_server, tmp_path_factory):
    """Instances A and B: the same Neo4j, Redis, SECRET_KEY and AUDIT_KEY; page caches on (60 s) as when serving."""
    workdir = tmp_path_factory.mktemp("web")
    env = instance_env(neo4j_uri, redis_server.url, RATELIMIT_RESOLVER=f"{RESOLVER_LIMIT}/hour",
                       RATELIMIT_AUTH_FAILURES=f"{AUTH_FAILURES}/hour", LOGIN_MAX_FAILURES=str(LOGIN_FAILURES),
                       SCAN_CACHE_SECONDS="60")
    started = [Instance("a", workdir, env), Instance("b", workdir, env)]
    try:
        yield tuple(i.wait_ready() for i in started)
    finally:
        for i in started:
            i.terminate()


class Client:
    """A browser or app behind the load balancer: its own address, cookies shared whichever instance answers."""

    def __init__(self):
        self.address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.http = requests.Session()

    def call(self, method: str, instance: Instance, path: str, headers: dict | None = None, **kw):
        """One request to one instance, from this client's address; redirects are not followed."""
        return self.http.request(method, instance.url + path, headers={"X-Forwarded-For": self.address,
                                                                       **(headers or {})},
                                 allow_redirects=False, timeout=60, **kw)

    def page(self, instance: Instance, path: str, accept: str = "text/html"):
        """A consumer page; a 503 (the page's read gave up on a busy database: nothing recorded) is asked again."""
        for _ in range(PAGE_TRIES):
            answer = self.call("GET", instance, path, headers={"Accept": accept})
            if answer.status_code != 503:
                return answer
            time.sleep(0.5)
        return answer

    def csrf(self, instance: Instance) -> str:
        """The CSRF token of the log-in form as one instance serves it."""
        found = _CSRF.search(self.call("GET", instance, "/work/login").text)
        assert found, "no CSRF token on the log-in form"
        return found.group(1)

    def login(self, instance: Instance, name: str, password: str, token: str):
        return self.call("POST", instance, "/work/login", data={"login": name, "password": password,
                                                                 "csrf_token": token})


def test_every_instance_serves_with_the_shared_key_from_the_environment(pair, neo4j_uri):
    for instance in pair:
        assert "development key" not in instance.log.read_text("utf-8", "replace")
    # and production starts with it (a key from the environment is a real key, not the development default)
    started = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"], cwd=REPO,
                             env={**os.environ, **instance_env(neo4j_uri, None, TRACEGRAPH_ENV="production")},
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]


def test_a_rate_limit_counts_the_requests_to_both_instances_together(pair):
    a, b = pair
    client = Client()
    path = f"/01/{factories.gtin()}/10/NOLOT"  # an unregistered product: a cheap 404 page, nothing written
    codes = [client.call("GET", (a, b)[i % 2], path).status_code for i in range(RESOLVER_LIMIT + 4)]
    # 10 per hour for the address, whichever instance answers: 5 + 5, then both refuse (alone, each would allow 10)
    # (a 503 is a page whose read gave up on a busy database: it was served, and counted, all the same)
    assert set(codes[:RESOLVER_LIMIT]) <= {404, 503} and 404 in codes, codes
    assert codes[RESOLVER_LIMIT:] == [429] * 4, codes


def test_a_token_lockout_made_on_one_instance_holds_on_the_other(pair, admin_token, graph):
    a, b = pair
    client = Client()
    for i in range(AUTH_FAILURES):  # a guesser rotating tokens, spread over both instances
        bad = client.call("GET", (a, b)[i % 2], ALERTS, headers=auth(f"tg_{uuid.uuid4().hex}"))
        assert bad.status_code == 401
    for instance in (b, a):
        refused = client.call("GET", instance, ALERTS, headers=auth(f"tg_{uuid.uuid4().hex}"))
        assert refused.status_code == 429, instance.name
        assert refused.json()["error"]["code"] == "too_many_requests"
    # a valid token from the same address is never locked out
    assert client.call("GET", b, ALERTS, headers=auth(admin_token)).status_code == 200
    # a token revoked from anywhere (`flask tokens revoke` on a third process) is refused by both at once
    made = tokens.create(graph, "regulator", None, "stateless test")
    fresh = Client()
    assert [fresh.call("GET", i, ALERTS, headers=auth(made["token"])).status_code for i in (a, b)] == \
        [200, 200]
    tokens.revoke(graph, made["token_id"])
    assert [fresh.call("GET", i, ALERTS, headers=auth(made["token"])).status_code for i in (a, b)] == \
        [401, 401]


def test_an_account_locked_through_one_instance_is_locked_on_the_other_and_sessions_need_no_stickiness(pair, graph):
    a, b = pair
    victim, user = make_user(graph, role="regulator"), make_user(graph, role="regulator")
    guesser = Client()
    form = guesser.csrf(a)
    for i in range(LOGIN_FAILURES):  # wrong passwords alternating between the instances, one form token
        assert guesser.login((a, b)[i % 2], victim["username"], "wrong password 1", form).status_code == 401
    # the right password is refused on both now: the account is locked, whichever instance counted the failures
    assert guesser.login(b, victim["username"], victim["password"], form).status_code == 401
    other = Client()
    assert other.login(a, victim["username"], victim["password"], other.csrf(a)).status_code == 401
    locked = graph.query("MATCH (u:User {user_id: $id}) RETURN u.locked_until > datetime() AS locked", read=True,
                         id=victim["user_id"])
    assert locked == [{"locked": True}]
    # a form from B posted to A logs in; the session made by A is honoured by B (no sticky sessions)
    person = Client()
    answer = person.login(a, user["username"], user["password"], person.csrf(b))
    assert answer.status_code == 303 and "/work/login" not in answer.headers["Location"]
    for instance in (b, a):
        page = person.call("GET", instance, "/work/")
        assert page.status_code == 200, (instance.name, page.status_code, page.headers.get("Location"))
        assert user["display_name"] in page.text


def test_print_runs_on_both_instances_at_once_give_disjoint_serials(pair, factory):
    a, b = pair
    owner = factory.party(roles=["processor"])
    lot = factory.lot(factory.product(owner["gln"])["gtin"], owner["gln"])
    runs, per_run = 6, 150
    answers: list = [None] * runs

    def print_run(i: int) -> None:
        answers[i] = Client().call("POST", (a, b)[i % 2], f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/print-runs",
                                   json={"count": per_run},
                                   headers={**auth(owner["token"]), "Accept": "application/json"})

    threads = [threading.Thread(target=print_run, args=(i,)) for i in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [201] * runs, [r.text[:200] for r in answers]
    serials = [item["serial"] for r in answers for item in r.json()["items"]]
    assert len(serials) == runs * per_run and len(set(serials)) == runs * per_run
    stored = factory.graph.query(
        "MATCH (:Lot {key: $key})-[:HAS_ITEM]->(i:Item) RETURN count(i) AS n, count(DISTINCT i.serial) AS distinct",
        read=True, key=f"lot:{lot['gtin']}:{lot['lot']}")
    assert stored == [{"n": runs * per_run, "distinct": runs * per_run}]
    # a serial A signed is genuine on B (one SECRET_KEY), and B's is on A
    first_of_a, first_of_b = answers[0].json()["items"][0]["serial"], answers[1].json()["items"][0]["serial"]
    for instance, serial in ((b, first_of_a), (a, first_of_b)):
        page = Client().page(instance, f"/01/{lot['gtin']}/10/{lot['lot']}/21/{serial}", "application/json")
        assert page.status_code == 200 and page.json()["authenticity"]["verdict"] == "genuine", page.text[:300]


def _recall(client: Client, instance: Instance, token: str, lot: dict) -> dict:
    answer = client.call("POST", instance, "/api/v1/recalls", headers=auth(token), json={
        "lots": [{"gtin": lot["gtin"], "lot": lot["lot"]}], "reason": "镉超标 cadmium above GB 2762", "level": 1})
    assert answer.status_code == 201, answer.text[:300]
    return answer.json()


def test_a_recall_opened_through_one_instance_shows_its_banner_on_the_other_at_once(pair, factory, graph):
    a, b = pair
    owner = factory.party(roles=["processor"])
    lot = factory.lot(factory.product(owner["gln"])["gtin"], owner["gln"])
    regulator = tokens.create(graph, "regulator", None, "stateless test")["token"]
    path = f"/01/{lot['gtin']}/10/{lot['lot']}"
    for instance in (b, b, a):  # B has the code's lineage facts and its HTML cached (SCAN_CACHE_SECONDS=60)
        page = Client().page(instance, path)
        assert page.status_code == 200 and 'id="recall"' not in page.text
    _recall(Client(), a, regulator, lot)
    # no wait: the next page on B, and on A, carries the banner (statuses are read live on every page)
    for instance in (b, a):
        page = Client().page(instance, path)
        assert page.status_code == 200 and 'id="recall"' in page.text, instance.name


def _worker(neo4j_uri: str, smtp_port: int, only: list[str], log) -> subprocess.Popen:
    """`flask notify worker` as its own process, delivering only `only` (--recall ID or --channel NAME): other tests'
    notices in the shared database are their own workers' to send."""
    env = {**instance_env(neo4j_uri, None), "SMTP_PORT": str(smtp_port), "SMTP_HOST": "127.0.0.1",
           "NOTIFY_BATCH": "2", "NOTIFY_THREADS": "2", "NOTIFY_POLL_SECONDS": "0.1", "NOTIFY_ESCALATE_SECONDS": "0",
           "PUBLIC_BASE_URL": "http://tg.test", "SUBSCRIPTION_SETTLE_SECONDS": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker", *only], cwd=REPO,
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_two_notification_workers_deliver_each_message_exactly_once(pair, graph, neo4j_uri, tmp_path):
    a, b = pair
    chain = shipped_lot(graph, 7)
    holders = [chain["producer"], *chain["retailers"]]
    receiver, mailbox = WebhookReceiver(delay=0.5), Mailbox()
    workers: list[subprocess.Popen] = []
    try:
        for i, p in enumerate(holders):  # each party registers its webhook through either instance
            answer = Client().call("PUT", (a, b)[i % 2], f"/api/v1/parties/{p['gln']}/webhook",
                                   json={"url": receiver.url(p["gln"])}, headers=auth(p["token"]))
            assert answer.status_code == 200, answer.text[:300]
            receiver.secrets[p["gln"]] = answer.json()["secret"]
        regulator = tokens.create(graph, "regulator", None, "stateless test")["token"]
        case = _recall(Client(), b, regulator, chain["lot"])
        stored = graph.query("MATCH (n:Notification {recall_id: $id}) RETURN n.delivery_id AS id, n.channel AS ch",
                             read=True, id=case["recall_id"])
        assert len(stored) == len(holders) * 3  # webhook, e-mail and SMS per holder
        with open(tmp_path / "workers.log", "wb") as log:
            workers = [_worker(neo4j_uri, mailbox.port, ["--recall", case["recall_id"]], log) for _ in range(2)]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                states = graph.query("MATCH (n:Notification {recall_id: $id}) RETURN n.state AS state, "
                                     "n.lease_owner AS owner", read=True, id=case["recall_id"])
                if all(s["state"] == "delivered" for s in states):
                    break
                time.sleep(0.2)
        time.sleep(1.0)  # a duplicate would arrive now, if a second worker had the same notice
        assert [s["state"] for s in states] == ["delivered"] * len(stored), (tmp_path / "workers.log").read_text()
        assert len({s["owner"] for s in states}) == 2  # both workers delivered a share
        hooks = sorted(r["delivery_id"] for r in receiver.received)
        assert hooks == sorted(s["id"] for s in stored if s["ch"] == "webhook")  # each once, none twice
        assert receiver.refused == []
        mails = sorted(m["delivery_id"] for m in mailbox.messages)
        assert mails == sorted(s["id"] for s in stored if s["ch"] == "email")
    finally:
        for w in workers:
            w.terminate()
            w.wait(15)
        receiver.close()
        mailbox.close()


def test_two_workers_push_each_subscribed_event_once_whichever_instance_captured_it(pair, factory, neo4j_uri,
                                                                                     tmp_path):
    a, b = pair
    farm = factory.party(roles=("farm",))
    gtin = factory.product(farm["gln"])["gtin"]
    query = f"q{factories.lot_code()}"
    made = Client().call("POST", a, "/epcis/queries", headers=auth(farm["token"]),
                         json={"name": query, "query": {"EQ_bizStep": ["commissioning"]}})
    assert made.status_code == 201, made.text[:300]
    hook = Receiver()
    workers: list[subprocess.Popen] = []
    subscription = None
    try:
        answer = Client().call("POST", b, f"/epcis/queries/{query}/subscriptions", headers=auth(farm["token"]),
                               json={"dest": hook.url("s"), "stream": True})
        assert answer.status_code == 201, answer.text[:300]
        subscription = answer.json()["subscriptionID"]
        with open(tmp_path / "workers.log", "wb") as log:
            workers = [_worker(neo4j_uri, 25, ["--channel", "epcis"], log) for _ in range(2)]
            eids = []
            for i in range(8):  # captures through both instances, while both workers run
                event = commission(farm["gln"], gtin, factories.lot_code(), 1.0)
                captured = Client().call("POST", (a, b)[i % 2], "/epcis/capture", headers=auth(farm["token"]),
                                         json=document(event))
                assert captured.status_code == 202 and captured.json()["success"], captured.text[:300]
                eids.append(event["eventID"])
            deadline = time.monotonic() + 60
            while not set(eids) <= set(hook.events("s")) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.5)  # a second push of the same events would arrive now
        assert sorted(hook.events("s")) == sorted(eids), (tmp_path / "workers.log").read_text()[-2000:]
        ids = [g["headers"]["X-TraceGraph-Delivery"] for g in hook.to("s")]
        assert len(ids) == len(set(ids))  # no document twice
    finally:
        for w in workers:
            w.terminate()
            w.wait(15)
        if subscription:  # the database is shared: nothing of ours keeps firing after the test
            Client().call("DELETE", a, f"/epcis/queries/{query}/subscriptions/{subscription}",
                          headers=auth(farm["token"]))
        hook.close()


def _scans(graph, lot: dict) -> dict:
    return graph.query("MATCH (s:Scan {gtin: $gtin, lot: $lot}) RETURN count(s) AS n, "
                       "count(DISTINCT s.scan_id) AS distinct", read=True, gtin=lot["gtin"], lot=lot["lot"])[0]


def test_scans_on_both_instances_are_recorded_once_even_when_one_is_stopped_with_scans_buffered(
        pair, factory, graph, neo4j_uri, redis_server, tmp_path):
    a, _ = pair
    # C: a fresh instance whose scan writer waits 12 s to fill a batch, so its scans are still in memory when stopped
    c = Instance("c", tmp_path, instance_env(neo4j_uri, redis_server.url, SCAN_FLUSH_MS="12000",
                                             RATELIMIT_RESOLVER="1000/hour")).wait_ready()
    try:
        owner = factory.party(roles=["processor"])
        lot = factory.lot(factory.product(owner["gln"])["gtin"], owner["gln"])
        path = f"/01/{lot['gtin']}/10/{lot['lot']}"
        each = 10
        for _ in range(each):
            for instance in (c, a):
                assert Client().page(instance, path).status_code == 200  # each 200 is one scan, a 503 none
        seen = time.monotonic()
        while _scans(graph, lot)["n"] < each and time.monotonic() - seen < 5:
            time.sleep(0.1)
        assert _scans(graph, lot) == {"n": each, "distinct": each}  # A's, written; C's still buffered
        assert c.terminate() == 0  # SIGTERM: gunicorn stops its worker gracefully, which writes the buffer
        assert _scans(graph, lot) == {"n": 2 * each, "distinct": 2 * each}
        time.sleep(1.0)  # and nothing arrives twice later
        assert _scans(graph, lot) == {"n": 2 * each, "distinct": 2 * each}
    finally:
        c.terminate()


def test_pages_and_token_checks_still_answer_while_redis_is_down(pair, redis_server):
    a, b = pair
    redis_server.stop()  # last test of the module: nothing after it needs the shared counters
    assert not redis_server.ping()
    client = Client()
    # a bad token is still refused as such (401), uncounted, also before any limit found Redis gone; a 500 here
    # would lock out nobody and alarm everyone
    for instance in (b, a):
        bad = client.call("GET", instance, ALERTS, headers=auth(f"tg_{uuid.uuid4().hex}"))
        assert bad.status_code == 401, bad.text[:300]
    # each instance counts in memory meanwhile: the consumer page answers (404: no such product), never a 500
    path = f"/01/{factories.gtin()}/10/NOLOT"
    assert [client.page(i, path).status_code for i in (a, b, a)] == [404, 404, 404]
    assert client.call("GET", b, ALERTS, headers=auth(f"tg_{uuid.uuid4().hex}")).status_code == 401
