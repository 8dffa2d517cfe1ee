"""GS1's example documents: each is captured by an admin and reads back as it was sent."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from gs1.schema import schema_path
from tests.capture.helpers import event_path
from tests.factories import auth
from tests.gs1.examples import epcis_problems

EXAMPLES = Path(schema_path()).parent / "examples"
FILES = sorted(p for p in EXAMPLES.glob("*.json*") if p.name != "EPCISQueryDocument.jsonld") \
    if EXAMPLES.is_dir() else []
OURS = ("eventID", "recordTime")


def _fresh_ids(doc: dict) -> dict:
    """Give the document's own eventIDs fresh values: GS1 reuses IDs across examples with other content."""
    doc = copy.deepcopy(doc)
    suffix = uuid.uuid4().hex[:12]
    mapping: dict[str, str] = {}
    events = doc["epcisBody"].get("eventList") or [doc["epcisBody"]["event"]]
    for ev in events:
        if "eventID" in ev:
            mapping.setdefault(ev["eventID"], f"{ev['eventID']}#{suffix}")
    for ev in events:
        if "eventID" in ev:
            ev["eventID"] = mapping[ev["eventID"]]
        decl = ev.get("errorDeclaration")
        if decl and "correctiveEventIDs" in decl:
            decl["correctiveEventIDs"] = [mapping.get(x, x) for x in decl["correctiveEventIDs"]]
    return doc


@pytest.mark.skipif(not FILES, reason=f"GS1 example folder {EXAMPLES} is absent")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_gs1_example_round_trips(client, admin_token, path):
    doc = _fresh_ids(json.loads(path.read_text()))
    response = client.post("/epcis/capture", json=doc, headers=auth(admin_token))
    assert response.status_code == 202, response.json
    job = client.get(response.headers["Location"], headers=auth(admin_token)).json
    assert job["success"], job["errors"]
    assert job["running"] is False
    captured = job_events = doc["epcisBody"].get("eventList") or [doc["epcisBody"]["event"]]
    assert job["capturedCount"] + job["duplicateCount"] == len(job_events)
    answer_ids = []
    for sent in captured:
        if "eventID" not in sent:
            continue
        got = client.get(event_path(sent["eventID"]), headers=auth(admin_token))
        assert got.status_code == 200, got.json
        assert epcis_problems(got.json) == []
        back = got.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(back) == 1
        event = back[0]
        assert {k: v for k, v in event.items() if k not in OURS} == {k: v for k, v in sent.items() if k not in OURS}
        assert event["eventID"] == sent["eventID"]
        answer_ids.append(event["eventID"])
    # The events without an eventID read back under their CBV 2.0 hash, as captured.
    listed = client.get(f"/epcis/events?GE_recordTime={job['createdAt']}&perPage=1000",
                        headers=auth(admin_token))
    assert listed.status_code == 200, listed.json
    assert epcis_problems(listed.json) == []
