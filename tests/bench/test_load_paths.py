"""The generator's network loads the same graph through POST /epcis/capture and through the bulk path.

Both copies go into one database under two company-prefix namespaces (data isolation, not wiping), then their
census (nodes by label, relationships by type, custody quantities) and the lineage closures of sampled lots must
match once the namespace digits and check digits are set aside. TG_LOAD_TEST_SCALE picks the scale (default XS).
"""

from __future__ import annotations

import json
import os
import random
import re

import pytest

from graph import bulk
from graph.migrate import migrate
from gs1.identifiers import item_key, key_kind, lot_key
from scripts.gen.load import load_bulk, load_http
from scripts.gen.network import CHAINS, Network
from tests.factories import auth
from tests.gs1.examples import epcis_problems

# XS keeps the suite quick (~20 s); TG_LOAD_TEST_SCALE=S is the full check (45k events, ~4 min on 2 busy cores).
SCALE = os.environ.get("TG_LOAD_TEST_SCALE", "XS")
SEED = 20250601
BULK_BATCH = int(os.environ.get("TG_LOAD_TEST_BATCH", "1000"))
_KEY_DIGITS = re.compile(r"\d{13,18}")


def neutral(key: str) -> str:
    """A key with its namespace digits (3-5 after the 69) and check digit blanked, signature of serials dropped."""
    def blank(m: re.Match) -> str:
        digits = m.group(0)
        at = digits.find("69")
        return digits[:at + 2] + "nnn" + digits[at + 5:-1] + "c"

    if key_kind(key) == "item":
        _, gtin, serial = key.split(":", 2)
        # Ginseng serials end in an HMAC over the GTIN, which differs by namespace; the random part does not.
        key = item_key(gtin, serial[:10] if len(serial) == 16 else serial)
    return _KEY_DIGITS.sub(blank, key)


def _loaded_before(graph, ns: int) -> bool:
    """Whether this network was loaded into the database already (its parties exist)."""
    glns = [p["gln"] for p in Network(SCALE, SEED, ns).master()["parties"][:3]]
    return bool(graph.query("MATCH (p:Party) WHERE p.gln IN $glns RETURN p.gln LIMIT 1", read=True, glns=glns))


@pytest.fixture(scope="module")
def namespaces(graph):
    """Two namespaces this network was never loaded into (re-runs against a kept server never collide).

    Other tests' random GLNs/GTINs can fall into any namespace, so the test compares what each load adds.
    """
    migrate(graph)
    rng = random.SystemRandom()
    for _ in range(200):
        a = rng.randrange(100, 898)  # 900-999: the factories' (tests/factories.py)
        if not _loaded_before(graph, a) and not _loaded_before(graph, a + 1):
            return a, a + 1
    pytest.fail("no two unused company-prefix namespaces left in the test database")


def _added(before: dict, after: dict) -> dict:
    """What a load added to a namespace's census."""
    return {part: {k: round(v - before[part].get(k, 0), 3) for k, v in after[part].items()
                   if v != before[part].get(k, 0)} for part in after}


def test_every_generated_document_is_valid_epcis():
    """A sample of documents validates against GS1's EPCIS 2.0 JSON schema."""
    for n, (doc, _) in enumerate(Network("XS", SEED).documents(500)):
        assert epcis_problems(doc) == [], f"document {n}"


def test_generation_is_deterministic():
    """The same scale, seed and namespace give the same bytes."""
    def digest(net: Network) -> list[str]:
        return [json.dumps(doc, sort_keys=True) for doc, _ in net.documents(1000)]

    assert digest(Network("XS", 7)) == digest(Network("XS", 7))
    assert digest(Network("XS", 7)) != digest(Network("XS", 8))


def test_generated_events_carry_unique_event_ids():
    """Every event has its own urn:uuid eventID, different in another namespace (so loads never collide)."""
    ids = [ev["eventID"] for doc, _ in Network("XS", 7).documents(1000) for ev in doc["epcisBody"]["eventList"]]
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i)
               for i in ids)
    assert len(set(ids)) == len(ids)
    other = {ev["eventID"] for doc, _ in Network("XS", 7, 1).documents(1000) for ev in doc["epcisBody"]["eventList"]}
    assert not other & set(ids)


def test_a_chain_generated_alone_is_that_chain_of_the_whole_network():
    """Each chain has its own random stream and counters: generated alone (as an import part generates it), a chain
    gives the very events and inspections it gives among the others, in the same order, and the chains together
    give every event of the network once."""
    together = list(Network("XS", SEED).units())
    events = [ev for unit, _ in together for ev in unit]
    inspections = [i["key"] for _, found in together for i in found]
    seen: list[str] = []
    for chain in CHAINS:
        alone = list(Network("XS", SEED).units((chain,)))
        mine = [ev for unit, _ in alone for ev in unit]
        ids = {ev["eventID"] for ev in mine}
        assert [ev for ev in events if ev["eventID"] in ids] == mine
        found = {i["key"] for _, group in alone for i in group}
        assert [k for k in inspections if k in found] == [i["key"] for _, group in alone for i in group]
        seen += ids
    assert sorted(seen) == sorted(ev["eventID"] for ev in events)
    assert len(set(seen)) == len(events) > 4000
    # chains number their documents and reports apart: a distributor or a lab that serves two chains never gets one
    # number for two of them
    chain_of: dict[str, set[str]] = {}
    for chain in CHAINS:
        for unit, _ in Network("XS", SEED).units((chain,)):
            for ev in unit:
                for bt in ev.get("bizTransactionList", []):
                    chain_of.setdefault(bt["bizTransaction"], set()).add(chain)
    assert chain_of and all(len(chains) == 1 for chains in chain_of.values())
    reports = [i["report_no"] for _, found in together for i in found]
    assert len(set(reports)) == len(reports) > 50


@pytest.mark.parametrize("chains", [CHAINS, ("rice",), ("ginseng", "beef"), ("beef",)])
def test_an_inspection_comes_after_the_events_of_its_lot_in_every_chain_group(chains):
    """Each inspection travels in the stream of its own lot's chain, in the batch that brings its lot's events or a
    later one: never with another chain's units (a group loaded alone would then hold inspections of lots it never
    saw, or lack its own), never before its lot. Small batches put many unit boundaries between two batches."""
    inspected, seen = [], set()
    for events, inspections in Network("XS", SEED).batches(97, chains):
        seen.update(k for ev in events for k in _lot_keys(ev))
        for i in inspections:
            assert lot_key(i["gtin"], i["lot"]) in seen, (chains, i["key"])
            inspected.append(i["key"])
    assert inspected and len(set(inspected)) == len(inspected)
    everything = [i["key"] for _, inspections in Network("XS", SEED).batches(97) for i in inspections]
    by_group = [i["key"] for chain in CHAINS for _, found in Network("XS", SEED).batches(97, (chain,)) for i in found]
    assert sorted(by_group) == sorted(everything)


def test_http_capture_and_bulk_build_the_same_graph(app, client, graph, admin_token, namespaces):
    """Census and sampled lineage closures agree between the HTTP and the bulk loads of one network."""
    ns_http, ns_bulk = namespaces
    if client.post("/epcis/capture", json={}, headers=auth(admin_token)).status_code == 404:
        pytest.skip("POST /epcis/capture is not there yet")

    def post(doc: dict) -> tuple[int, dict]:
        response = client.post("/epcis/capture", json=doc, headers=auth(admin_token))
        return response.status_code, response.get_json() or {}

    before = bulk.census(graph, f"69{ns_http:03d}"), bulk.census(graph, f"69{ns_bulk:03d}")
    http = load_http(graph, Network(SCALE, SEED, ns_http), post, size=1000)
    bulk_stats = load_bulk(graph, Network(SCALE, SEED, ns_bulk), batch=BULK_BATCH)
    assert http.errors == [] and bulk_stats.errors == []
    assert http.events == bulk_stats.events > 0
    print(f"\n{SCALE}: {http.events} events; http {http.rate:.0f} ev/s, bulk {bulk_stats.rate:.0f} ev/s")

    a = _added(before[0], bulk.census(graph, f"69{ns_http:03d}"))
    b = _added(before[1], bulk.census(graph, f"69{ns_bulk:03d}"))
    assert a == b
    assert a["nodes"]["Lot"] > 0 and a["rels"]["Lot-TRANSFORMED_INTO"] > 0 and a["rels"]["Item-PACKED_IN"] > 0

    net = Network(SCALE, SEED, ns_http)
    lots = [k for doc, _ in net.documents(5000) for ev in doc["epcisBody"]["eventList"]
            for k in _lot_keys(ev)]
    sample = random.Random(SEED).sample(sorted(set(lots)), 40)
    for key in sample:
        twin = key.replace(f"69{ns_http:03d}", f"69{ns_bulk:03d}", 1)
        twin = twin[:4] + _fix_check(twin[4:18]) + twin[18:]
        one, two = bulk.closure(graph, key), bulk.closure(graph, twin)
        assert one["forward"], key
        for direction in ("forward", "back"):
            assert sorted(map(neutral, one[direction])) == sorted(map(neutral, two[direction])), (key, direction)


def _lot_keys(ev: dict) -> list[str]:
    out = []
    for name in ("quantityList", "outputQuantityList"):
        for q in ev.get(name) or []:
            parts = q["epcClass"].split("/")
            out.append(lot_key(parts[4], parts[6]))
    return out


def _fix_check(gtin: str) -> str:
    from gs1.keys import check_digit

    return gtin[:13] + check_digit(gtin[:13])
