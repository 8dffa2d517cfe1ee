"""Without GS1's schema file (not redistributed with us) capture still works and still refuses malformed events."""

from tests.factories import auth, gln, gtin


def _doc(events):
    return {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2026-11-01T00:00:00Z", "epcisBody": {"eventList": events}}


def test_capture_without_the_schema_file(client, admin_token, monkeypatch, tmp_path):
    monkeypatch.setenv("EPCIS_SCHEMA_PATH", str(tmp_path / "absent.json"))
    good = {"type": "ObjectEvent", "eventTime": "2026-11-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "action": "ADD", "bizStep": "commissioning", "epcList": [],
            "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin()}/10/SCHEMA1", "quantity": 5, "uom": "KGM"}],
            "readPoint": {"id": f"https://id.gs1.org/414/{gln()}"}}
    accepted = client.post("/epcis/capture", json=_doc([good]), headers=auth(admin_token))
    assert accepted.status_code == 202
    job = client.get(accepted.headers["Location"], headers=auth(admin_token)).json
    assert job["success"] is True

    bad = {**good, "eventTime": "not a time"}
    refused = client.post("/epcis/capture", json=_doc([bad]), headers=auth(admin_token))
    if refused.status_code == 202:
        job = client.get(refused.headers["Location"], headers=auth(admin_token)).json
        assert job["success"] is False and "eventTime" in str(job["errors"])
    else:
        assert refused.status_code in (400, 422) and "eventTime" in str(refused.json)
