"""SIGKILL Neo4j in the middle of a capture load: no partial document, 503 for what was not stored, recovery.

Runs against the project's own test server (it kills and restarts it); skipped when NEO4J_URI names another one.
"""

from __future__ import annotations

import os
import queue
import threading
import time

import pytest

from tests.capture.helpers import commission, document
from tests.conftest import neo4jctl
from tests.factories import auth, lot_code
from tests.hardening.test_hostile_input import refused

DOCUMENTS = 40
EVENTS_PER_DOCUMENT = 40
WRITERS = 4

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("NEO4J_URI", "").strip()),
    reason="NEO4J_URI points at an external server: this test SIGKILLs the database, so it runs only on the "
           "project's own test server",
)


def _stored(graph, event_ids: list[str]) -> int:
    return graph.query("MATCH (e:Event) WHERE e.event_id IN $ids RETURN count(e) AS n", read=True,
                       ids=event_ids)[0]["n"]


def _wait_until_up(client, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get("/healthz").status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError("the app did not see Neo4j again")


def test_sigkill_mid_capture_leaves_whole_documents_and_the_app_recovers(open_app, graph, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    docs = [document(*(commission(farm["gln"], product["gtin"], lot_code(), 1.0)
                       for _ in range(EVENTS_PER_DOCUMENT))) for _ in range(DOCUMENTS)]
    ids = [[e["eventID"] for e in d["epcisBody"]["eventList"]] for d in docs]
    answers: dict[int, object] = {}
    todo: queue.Queue[int] = queue.Queue()
    for i in range(DOCUMENTS):
        todo.put(i)
    killed = threading.Event()

    def writer():
        client = open_app.test_client()
        failures = 0
        while failures < 2:  # two 503s each are proof enough; do not wait out the whole outage
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            response = client.post("/epcis/capture", json=docs[i], headers=auth(farm["token"]))
            answers[i] = response
            failures += response.status_code == 503

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        while sum(1 for r in list(answers.values()) if r.status_code == 202) < 6:
            time.sleep(0.02)
        assert neo4jctl("kill").returncode == 0
        killed.set()
        for t in threads:
            t.join(120)
    finally:
        started = neo4jctl("start")
        assert started.returncode == 0, started.stdout + started.stderr

    client = open_app.test_client()
    _wait_until_up(client)  # the same app, never restarted: its driver reconnects by itself

    succeeded = {i for i, r in answers.items() if r.status_code == 202 and r.get_json()["success"]}
    unavailable = {i for i, r in answers.items() if r.status_code == 503}
    assert killed.is_set() and succeeded and unavailable, {i: r.status_code for i, r in answers.items()}
    assert set(answers) == succeeded | unavailable, {i: r.status_code for i, r in answers.items()}
    for i in unavailable:
        refused(answers[i], 503)
        assert int(answers[i].headers["Retry-After"]) > 0

    # All or nothing per document; everything acknowledged is there.
    counts = {i: _stored(graph, ids[i]) for i in range(DOCUMENTS)}
    assert all(n in (0, EVENTS_PER_DOCUMENT) for n in counts.values()), counts
    assert all(counts[i] == EVENTS_PER_DOCUMENT for i in succeeded), counts

    # Clients retry what got 503 (and what was never sent): each document ends up stored once, whole.
    for i in range(DOCUMENTS):
        if i in succeeded:
            continue
        retry = client.post("/epcis/capture", json=docs[i], headers=auth(farm["token"]))
        assert retry.status_code == 202 and retry.get_json()["success"], retry.get_data(as_text=True)[:300]
    assert _stored(graph, [e for doc_ids in ids for e in doc_ids]) == DOCUMENTS * EVENTS_PER_DOCUMENT
    holds = graph.query("MATCH (:Party {gln: $gln})-[h:HOLDS]->(l:Lot {gtin: $gtin}) RETURN count(h) AS n, "
                        "sum(h.quantity) AS q", read=True, gln=farm["gln"], gtin=product["gtin"])[0]
    assert holds == {"n": DOCUMENTS * EVENTS_PER_DOCUMENT, "q": float(DOCUMENTS * EVENTS_PER_DOCUMENT)}
