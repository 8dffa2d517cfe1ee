"""Each field counts on a resend: the same eventID with the same content is a duplicate (a no-op), with any one field
changed a conflict (refused, the stored event kept as it was)."""

from __future__ import annotations

import copy
import json

import pytest

from gs1.identifiers import Ref
from tests.capture.helpers import commission, document, event_path, loc
from tests.factories import auth, gln, gtin, lot_code
from tests.fingerprint import named_in, unchanged


def _party(gln_: str) -> str:
    return Ref("party", gln=gln_).digital_link()


@pytest.fixture
def sent(client, factory):
    """A commissioning event carrying every field a resend may change, captured once."""
    farm, buyer = factory.party(), factory.party(roles=("distributor",))
    event = commission(farm["gln"], gtin(), lot_code(), 10.0)
    event.update({
        "sourceList": [{"type": "owning_party", "source": _party(farm["gln"])}],
        "destinationList": [{"type": "owning_party", "destination": _party(buyer["gln"])}],
        "ilmd": {"cbvmda:harvestStartDate": "2026-09-19"},
        "sensorElementList": [{"sensorMetadata": {"time": "2026-09-20T07:00:00+08:00"},
                               "sensorReport": [{"type": "Temperature", "value": 4.0, "uom": "CEL"}]}],
        "certificationInfo": ["https://example.org/certificates/organic-1"],
    })
    first = client.post("/epcis/capture", json=document(event), headers=auth(factory.admin_token))
    job = client.get(first.headers["Location"], headers=auth(factory.admin_token)).json
    assert job["success"] is True and job["capturedCount"] == 1, job
    return event


def _resend(client, token, event) -> dict:
    response = client.post("/epcis/capture", json=document(event), headers=auth(token))
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    return client.get(response.headers["Location"], headers=auth(token)).json


def test_the_same_content_again_is_a_duplicate(client, admin_token, sent):
    job = _resend(client, admin_token, copy.deepcopy(sent))
    assert job["success"] is True and job["duplicateCount"] == 1 and job["capturedCount"] == 0, job


def test_the_same_content_with_its_keys_in_another_order_is_a_duplicate(client, admin_token, sent):
    reordered = json.loads(json.dumps(sent, sort_keys=True))
    reordered["quantityList"] = [dict(reversed(list(q.items()))) for q in reordered["quantityList"]]
    job = _resend(client, admin_token, dict(reversed(list(reordered.items()))))
    assert job["success"] is True and job["duplicateCount"] == 1, job


def _set(path: str, value):
    """A change of one field, by its path in the event (dots and list indexes)."""
    def change(event: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = event
        for p in parents:
            node = node[p]
        node[last] = value(event) if callable(value) else value
    return change


# field -> the change: one value each, the rest of the event as sent
CHANGES = {
    "eventTime": _set("eventTime", "2026-09-20T09:00:00+08:00"),
    "eventTimeZoneOffset": _set("eventTimeZoneOffset", "+09:00"),
    "quantity": _set("quantityList.0.quantity", 11.0),
    "uom": _set("quantityList.0.uom", "GRM"),
    "bizStep": _set("bizStep", "creating_class_instance"),
    "disposition": _set("disposition", "in_progress"),
    "readPoint": _set("readPoint", lambda ev: loc(gln())),
    "bizLocation": _set("bizLocation", lambda ev: loc(gln())),
    "source": _set("sourceList.0.source", lambda ev: _party(gln())),
    "source type": _set("sourceList.0.type", "possessing_party"),
    "destination": _set("destinationList.0.destination", lambda ev: _party(gln())),
    "ilmd": _set("ilmd.cbvmda:harvestStartDate", "2026-09-18"),
    "sensor value": _set("sensorElementList.0.sensorReport.0.value", 4.5),
    "sensor time": _set("sensorElementList.0.sensorMetadata.time", "2026-09-20T07:30:00+08:00"),
    "certificationInfo": _set("certificationInfo", ["https://example.org/certificates/organic-2"]),
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_the_same_event_id_with_one_field_changed_is_a_conflict(client, graph, admin_token, sent, field):
    changed = copy.deepcopy(sent)
    CHANGES[field](changed)
    assert changed != sent
    with unchanged(graph, **named_in(document(sent))):
        job = _resend(client, admin_token, changed)
    assert job["success"] is False and job["duplicateCount"] == 0, job
    assert [e["code"] for e in job["errors"]] == ["conflict"], job["errors"]
    answer = client.get(event_path(sent["eventID"]), headers=auth(admin_token)).json
    [stored] = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert {k: v for k, v in stored.items() if k != "recordTime"} == sent  # the first capture stands
