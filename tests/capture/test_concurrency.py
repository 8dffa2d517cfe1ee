"""16 concurrent writers capture overlapping documents over real HTTP, retrying as clients do: counts prove it.

Every event is stored exactly once, custody adds up, and mass balance holds: two concurrent shipments of the same
lot never both pass against the same holdings (graph/events.py locks the touched nodes before reading them).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.capture.helpers import commission, document, ship
from tests.factories import lot_code

REPO = Path(__file__).resolve().parents[2]
WRITERS = 16
LOTS = 6
SHIPS_PER_LOT = 14  # of 10 each, from 105: exactly 10 can pass
EVENTS_PER_DOC = 8


@pytest.fixture(scope="module")
def server(neo4j_uri):
    """The real app under gunicorn: several worker processes, so transactions really run side by side."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NEO4J_URI": neo4j_uri, "RATELIMIT_ENABLED": "0", "MIGRATE_ON_START": "0"}
    proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "gunicorn"), "-w", "4", "--threads", "4", "-b",
                             f"127.0.0.1:{port}", "--timeout", "300", "wsgi:app"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status < 500:
                    break
            except OSError:
                conn.close()
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post(port: int, token: str, doc: dict) -> dict:
    """POST a document with the client's retries (503, 409, dropped connections); return the capture job."""
    body = json.dumps(doc).encode()
    for attempt in range(30):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", "/epcis/capture", body, {
                "Content-Type": "application/json", "Authorization": f"Bearer {token}",
                "GS1-Capture-Error-Behaviour": "proceed"})
            response = conn.getresponse()
            payload = json.loads(response.read() or b"{}")
            location = response.getheader("Location")
            conn.close()
        except OSError:
            conn.close()
            time.sleep(0.1 * (attempt + 1))
            continue
        if response.status in (503, 409):
            time.sleep(0.1 * (attempt + 1))
            continue
        assert response.status == 202, (response.status, payload)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", location, headers={"Authorization": f"Bearer {token}"})
        job = json.loads(conn.getresponse().read())
        conn.close()
        return job
    raise AssertionError("the capture never went through")


def test_sixteen_writers_overlapping_documents_store_each_event_once_and_never_overship(server, graph, factory):
    farm, mill = factory.party(), factory.party(roles=("mill",))
    g = factory.product(farm["gln"])["gtin"]  # party tokens capture registered products only
    lots = [lot_code() for _ in range(LOTS)]
    setup = _post(server, farm["token"], document(*[commission(farm["gln"], g, lt, 105) for lt in lots]))
    assert setup["success"] and setup["capturedCount"] == LOTS
    ships = [ship(farm["gln"], mill["gln"], g, lt, 10, when=f"2026-09-21T08:{n:02d}:00+08:00")
             for lt in lots for n in range(SHIPS_PER_LOT)]
    refused: set[str] = set()
    codes: set[str] = set()
    lock = threading.Lock()
    failures: list[BaseException] = []
    # Every round starts all writers at once: the most concurrent transactions on the same lots.
    barrier = threading.Barrier(WRITERS, timeout=300)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for lt in lots:
                of_lot = [ev for ev in ships if ev["quantityList"][0]["epcClass"].endswith(lt)]
                # Round 1: all writers at once, one shipment each (two writers send the same one).
                # Round 2: overlapping documents of several shipments of the lot, in each writer's own order.
                for picked in ([of_lot[seed % SHIPS_PER_LOT]], rng.sample(of_lot, EVENTS_PER_DOC)):
                    barrier.wait()
                    job = _post(server, farm["token"], document(*picked))
                    with lock:
                        for e in job["errors"]:
                            refused.add(e["eventID"])
                            codes.add(e["code"])
            # Finally every shipment once more, so each was tried at least once.
            job = _post(server, farm["token"], document(*ships[seed::WRITERS]))
            with lock:
                for e in job["errors"]:
                    refused.add(e["eventID"])
                    codes.add(e["code"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures[0]
    assert codes <= {"mass_balance"}, codes

    ids = [ev["eventID"] for ev in ships]
    stored = graph.query("""
        UNWIND $ids AS id
        OPTIONAL MATCH (e:Event {event_id: id})
        RETURN id, count(e) AS n
        """, read=True, ids=ids)
    counts = {r["id"]: r["n"] for r in stored}
    assert set(counts.values()) <= {0, 1}, "an event stored twice"
    per_lot = {lt: sum(counts[ev["eventID"]] for ev in ships if ev["quantityList"][0]["epcClass"].endswith(lt))
               for lt in lots}
    # Every shipment was tried (each writer sends its share in every document): exactly what the stock allows.
    assert per_lot == {lt: 10 for lt in lots}
    refused_never_stored = {i for i in refused if counts[i] == 0}
    assert len(refused_never_stored) == LOTS * (SHIPS_PER_LOT - 10)

    holds = graph.query("""
        UNWIND $keys AS k
        MATCH (p:Party)-[h:HOLDS]->(:Lot {key: k})
        RETURN k, p.gln AS gln, h.quantity AS quantity, h.pending AS pending
        """, read=True, keys=[f"lot:{g}:{lt}" for lt in lots])
    by = {(r["k"], r["gln"]): (r["quantity"], r["pending"]) for r in holds}
    for lt in lots:
        key = f"lot:{g}:{lt}"
        assert by[(key, farm["gln"])] == (5.0, 0.0)
        assert by[(key, mill["gln"])] == (100.0, 100.0)
    events_of_lots = graph.query("""
        UNWIND $keys AS k
        MATCH (:Lot {key: k})<-[:OBJECT]-(e:Event)
        RETURN count(e) AS n, count(DISTINCT e.event_id) AS d
        """, read=True, keys=[f"lot:{g}:{lt}" for lt in lots])[0]
    assert events_of_lots["n"] == events_of_lots["d"] == LOTS * 11
