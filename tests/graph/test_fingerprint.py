"""The refused-write fingerprint (tests/fingerprint.py) sees every kind of write a refused request could make."""

from __future__ import annotations

import pytest

from graph import recalls
from tests.capture.helpers import commission, document, ship
from tests.factories import auth, gln, lot_code
from tests.fingerprint import graph_fingerprint, unchanged


@pytest.fixture
def held(factory):
    """A farm holding a lot, and a distributor."""
    farm = factory.party()
    dist = factory.party(roles=("distributor",))
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"], quantity=10.0)
    return farm, dist, lot


def test_a_read_leaves_the_fingerprint_equal(client, graph, held, admin_token):
    farm, dist, lot = held
    with unchanged(graph, lots=[lot], parties=[farm["gln"], dist["gln"]], global_counts=False):
        assert client.get(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/trace", headers=auth(admin_token)).status_code \
            == 200


def test_a_shipment_changes_holds_and_events(client, graph, held):
    farm, dist, lot = held
    before = graph_fingerprint(graph, [lot], [farm["gln"], dist["gln"]])
    answer = client.post("/epcis/capture", json=document(ship(farm["gln"], dist["gln"], lot["gtin"], lot["lot"], 2.0)),
                         headers=auth(farm["token"]))
    assert answer.status_code == 202 and answer.get_json()["success"], answer.get_data(as_text=True)[:300]
    after = graph_fingerprint(graph, [lot], [farm["gln"], dist["gln"]])
    assert before != after
    changes = before.diff(after)
    assert "HOLDS" in changes and "OBJECT" in changes, changes


def test_the_block_fails_when_it_writes(client, graph, held):
    farm, _, lot = held
    event = commission(farm["gln"], lot["gtin"], lot["lot"], 1.0)
    with pytest.raises(AssertionError, match="changed the graph"):
        with unchanged(graph, lots=[lot], parties=[farm["gln"]]):
            client.post("/epcis/capture", json=document(event), headers=auth(farm["token"]))


def test_a_record_created_where_none_was_is_a_change(client, graph, admin_token):
    new = gln()
    with pytest.raises(AssertionError, match="absent"):
        with unchanged(graph, parties=[new]):
            client.post("/api/v1/parties", json={"gln": new, "name_zh": "新", "roles": ["retailer"]},
                        headers=auth(admin_token))


def test_a_status_change_and_a_recall_are_changes(graph, held):
    farm, _, lot = held
    with pytest.raises(AssertionError, match="recalled"):
        with unchanged(graph, lots=[lot]):
            recalls.open_case(graph, [f"lot:{lot['gtin']}:{lot['lot']}"], 3, "fingerprint", None, opened_by="test")


def test_a_lot_code_never_written_fingerprints_the_same(graph, held):
    _, _, lot = held
    ghost = {"gtin": lot["gtin"], "lot": lot_code()}
    assert graph_fingerprint(graph, [ghost]) == graph_fingerprint(graph, [ghost])
    assert graph_fingerprint(graph, [ghost]).nodes == {}


def test_global_counts_come_from_the_count_store(graph):
    counts = graph_fingerprint(graph, global_counts=True).global_counts
    assert counts["node:Party"] > 0 and counts["rel:HOLDS"] > 0
