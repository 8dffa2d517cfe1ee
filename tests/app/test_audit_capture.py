"""A capture and its audit entry commit in one transaction: one entry per request, with the job's counts."""

from __future__ import annotations

import json

from tests.capture.helpers import commission, document
from tests.factories import auth, lot_code


def _entries(graph, text: str) -> list[dict]:
    return graph.query("MATCH (a:AuditEntry) WHERE a.detail CONTAINS $t OR a.body CONTAINS $t RETURN a {.*} AS a",
                       read=True, t=text)


def test_a_capture_and_its_entry_commit_together_once(client, graph, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    answer = client.post("/epcis/capture", json=document(commission(farm["gln"], product["gtin"], lot, 5)),
                         headers=auth(farm["token"]))
    assert answer.status_code == 202
    job = answer.get_json()
    entries = [e["a"] for e in _entries(graph, job["captureID"])]
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["outcome"] == "committed" and entry["path"] == "/epcis/capture"
    assert json.loads(entry["detail"]) == {"captureID": job["captureID"], "captured": 1, "duplicates": 0,
                                           "errors": 0, "warnings": 0}
    assert lot in entry["body"]  # the document itself is kept


def test_a_refused_producer_call_is_recorded_once_as_refused(client, graph, factory):
    farm, other = factory.party(), factory.party()
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"], quantity=10.0)
    note = "DN-" + lot_code()
    answer = client.post("/api/v1/shipments", headers=auth(farm["token"]), json={
        "party_gln": farm["gln"], "destination_gln": other["gln"],
        "lots": [{"gtin": product["gtin"], "lot": lot["lot"], "quantity": 50, "unit": "KGM"}],
        "documents": [{"type": "desadv", "id": note}]})
    assert answer.status_code == 422
    entries = [e["a"] for e in _entries(graph, note)]
    assert [e["outcome"] for e in entries] == ["refused"], entries
    assert entries[0]["status"] == 422
