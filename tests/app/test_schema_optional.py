"""Without GS1's schema file (not redistributed with us) capture still works and still refuses malformed documents.

Each test runs twice: with GS1's schema where it is installed (the cross-check on) and with EPCIS_SCHEMA_PATH
pointing at a missing file, as on a clone without ../shared. The answer must be the same: 400 before anything is
stored for a document that breaks the EPCIS 2.0 structure.
"""

import pytest

from gs1.schema import schema_available
from tests.factories import auth, gln, gtin
from tests.fingerprint import named_in, unchanged


def _doc(events):
    return {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z", "epcisBody": {"eventList": events}}


def _good() -> dict:
    return {"type": "ObjectEvent", "eventTime": "2026-11-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "action": "ADD", "bizStep": "commissioning", "epcList": [],
            "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin()}/10/SCHEMA1", "quantity": 5, "uom": "KGM"}],
            "readPoint": {"id": f"https://id.gs1.org/414/{gln()}"},
            "eventID": f"urn:uuid:00000000-0000-4000-8000-{gln()[:12]}"}


@pytest.fixture(params=["gs1-schema", "no-gs1-schema"])
def schema_file(request, monkeypatch, tmp_path):
    """With GS1's schema as installed (skipped where it is not), then with none."""
    if request.param == "no-gs1-schema":
        monkeypatch.setenv("EPCIS_SCHEMA_PATH", str(tmp_path / "absent.json"))
    elif not schema_available():
        pytest.skip("GS1's EPCIS JSON schema is not installed (../shared/epcis or EPCIS_SCHEMA_PATH)")
    return request.param


def test_capture_accepts_a_well_formed_document(client, admin_token, schema_file):
    accepted = client.post("/epcis/capture", json=_doc([_good()]), headers=auth(admin_token))
    assert accepted.status_code == 202
    job = client.get(accepted.headers["Location"], headers=auth(admin_token)).json
    assert job["success"] is True


@pytest.mark.parametrize("change,where", [
    ({"action": "MOVE"}, "epcisBody.eventList[0].action"),
    ({"eventTimeZoneOffset": "+8:00"}, "epcisBody.eventList[0].eventTimeZoneOffset"),
    ({"quantityList": [{"epcClass": "https://id.gs1.org/01/06901234567892/10/L", "quantity": "5"}]},
     "epcisBody.eventList[0].quantityList[0].quantity"),
    ({"readPoint": "https://id.gs1.org/414/6901234567892"}, "epcisBody.eventList[0].readPoint"),
    ({"eventTime": None}, "epcisBody.eventList[0].eventTime"),
])
def test_a_broken_structure_is_400_before_anything_is_stored(client, graph, admin_token, schema_file, change, where):
    event = {**_good(), **change}
    with unchanged(graph, **named_in(_doc([event]))):
        response = client.post("/epcis/capture", json=_doc([event]), headers=auth(admin_token))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert any(p.startswith(where) for p in response.json["error"]["errors"]["json"]["schema"]), response.json
    assert graph.query("MATCH (e:Event {event_id: $id}) RETURN count(e) AS n", id=event["eventID"])[0]["n"] == 0


def test_a_bad_time_value_is_still_refused_naming_eventtime(client, admin_token, schema_file):
    bad = {**_good(), "eventTime": "not a time"}  # a string: the structure holds, gs1.epcis refuses the value
    refused = client.post("/epcis/capture", json=_doc([bad]), headers=auth(admin_token))
    if refused.status_code == 202:
        job = client.get(refused.headers["Location"], headers=auth(admin_token)).json
        assert job["success"] is False and "eventTime" in str(job["errors"])
    else:
        assert refused.status_code in (400, 422) and "eventTime" in str(refused.json)
