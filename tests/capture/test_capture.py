"""POST /epcis/capture: jobs, rollback vs proceed, idempotency, the refusals and who may capture what."""

from __future__ import annotations

import copy

from graph import lots
from tests.capture.helpers import commission, document, event_id, event_path, loc, lot_uri, ship
from tests.factories import auth, bad_check_digit, gtin, lot_code


def _capture(client, token, doc, behaviour=None):
    headers = auth(token)
    if behaviour:
        headers["GS1-Capture-Error-Behaviour"] = behaviour
    response = client.post("/epcis/capture", json=doc, headers=headers)
    return response


def _job(client, token, response):
    assert response.status_code == 202, response.json
    assert response.headers["Location"].startswith("/epcis/capture/")
    return client.get(response.headers["Location"], headers=auth(token)).json


def _holders(client, gtin_, lot):
    # the holders are private (the anonymous lot view leaves them out): read them as the store keeps them
    return {h["gln"]: h["quantity"] for h in lots.get(client.application.extensions["graph"], gtin_, lot)["holders"]}


def test_capture_answers_202_with_the_job_and_the_gs1_headers(client, factory):
    farm, mill = factory.party(), factory.party()
    g, lot = gtin(), lot_code()
    response = _capture(client, factory.admin_token, document(commission(farm["gln"], g, lot, 100),
                                                              ship(farm["gln"], mill["gln"], g, lot, 40)))
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert response.headers["GS1-CBV-Version"] == "2.0.0"
    assert int(response.headers["GS1-EPCIS-Capture-Limit"]) > 0
    job = _job(client, factory.admin_token, response)
    assert job["success"] is True and job["running"] is False and job["capturedCount"] == 2
    assert _holders(client, g, lot) == {farm["gln"]: 60, mill["gln"]: 40}


def test_rollback_keeps_nothing_and_proceed_keeps_the_good_events(client, factory):
    farm = factory.party()
    g, lot = gtin(), lot_code()
    good = commission(farm["gln"], g, lot, 10)
    bad = commission(farm["gln"], g, lot_code(), 5)
    bad["quantityList"][0]["epcClass"] = f"https://id.gs1.org/01/{bad_check_digit(g)}/10/X1"
    job = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(good, bad)))
    assert job["success"] is False and job["capturedCount"] == 0
    assert job["errors"][0]["eventIndex"] == 1
    assert "check digit" in job["errors"][0]["message"].lower()
    assert "quantityList[0].epcClass" in job["errors"][0]["location"]
    assert client.get(event_path(good["eventID"]), headers=auth(factory.admin_token)).status_code == 404

    job = _job(client, factory.admin_token,
               _capture(client, factory.admin_token, document(good, bad), behaviour="proceed"))
    assert job["success"] is False and job["capturedCount"] == 1 and len(job["errors"]) == 1
    assert client.get(event_path(good["eventID"]), headers=auth(factory.admin_token)).status_code == 200


def test_an_unknown_error_behaviour_is_400(client, factory):
    response = _capture(client, factory.admin_token, document(), behaviour="maybe")
    assert response.status_code == 400
    assert "GS1-Capture-Error-Behaviour" in response.json["error"]["errors"]["headers"]


def test_resending_is_a_no_op_and_the_same_id_with_other_content_is_an_error(client, factory):
    farm = factory.party()
    g, lot = gtin(), lot_code()
    event = commission(farm["gln"], g, lot, 10)
    _job(client, factory.admin_token, _capture(client, factory.admin_token, document(event)))
    again = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(event)))
    assert again["success"] is True and again["duplicateCount"] == 1 and again["capturedCount"] == 0
    assert _holders(client, g, lot) == {farm["gln"]: 10}
    changed = copy.deepcopy(event)
    changed["quantityList"][0]["quantity"] = 11
    job = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(changed)))
    assert job["success"] is False and job["errors"][0]["code"] == "conflict"
    assert _holders(client, g, lot) == {farm["gln"]: 10}


def test_events_without_an_id_get_the_cbv_hash_and_are_idempotent(client, factory):
    farm = factory.party()
    g, lot = gtin(), lot_code()
    event = commission(farm["gln"], g, lot, 10)
    del event["eventID"]
    for _ in range(2):
        job = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(event)))
        assert job["success"]
    found = client.get(f"/epcis/events?MATCH_epcClass={lot_uri(g, lot)}", headers=auth(factory.admin_token)).json
    events = found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == 1 and events[0]["eventID"].startswith("ni:///sha-256;")


def test_admin_mass_balance_and_time_gaps_are_warnings_listed_by_the_data_quality_endpoint(client, factory):
    farm, mill = factory.party(), factory.party()
    g, lot = gtin(), lot_code()
    doc = document(commission(farm["gln"], g, lot, 10, when="2026-09-20T08:00:00+08:00"),
                   ship(farm["gln"], mill["gln"], g, lot, 15, when="2026-09-19T08:00:00+08:00"))
    job = _job(client, factory.admin_token, _capture(client, factory.admin_token, doc))
    assert job["success"] is True
    codes = {w["code"] for w in job["warnings"]}
    assert {"mass_balance", "time"} <= codes
    listed = client.get("/api/v1/data-quality/warnings?perPage=100", headers=auth(factory.admin_token)).json
    assert any(w["captureID"] == job["captureID"] for w in listed)


def test_producer_mass_balance_and_time_order_are_refused(client, factory):
    farm, mill = factory.party(), factory.party()
    g, lot = factory.product(farm["gln"])["gtin"], lot_code()  # party tokens capture registered products only
    _job(client, farm["token"], _capture(client, farm["token"], document(commission(farm["gln"], g, lot, 10))))
    job = _job(client, farm["token"], _capture(client, farm["token"],
                                               document(ship(farm["gln"], mill["gln"], g, lot, 15))))
    assert job["success"] is False and job["errors"][0]["code"] == "mass_balance"
    early = ship(farm["gln"], mill["gln"], g, lot, 1, when="2026-09-01T08:00:00+08:00")
    job = _job(client, farm["token"], _capture(client, farm["token"], document(early)))
    assert job["errors"][0]["code"] == "time"
    future = ship(farm["gln"], mill["gln"], g, lot, 1, when="2099-01-01T00:00:00+08:00")
    job = _job(client, farm["token"], _capture(client, farm["token"], document(future)))
    assert job["errors"][0]["code"] == "time"
    assert _holders(client, g, lot) == {farm["gln"]: 10}


def test_a_transformation_cycle_is_refused_even_for_admin(client, factory):
    farm = factory.party()
    g, a, b = gtin(), lot_code(), lot_code()

    def transform(src, dst, when):
        return {"type": "TransformationEvent", "eventID": event_id(), "eventTime": when,
                "eventTimeZoneOffset": "+08:00",
                "inputQuantityList": [{"epcClass": lot_uri(g, src), "quantity": 1, "uom": "KGM"}],
                "outputQuantityList": [{"epcClass": lot_uri(g, dst), "quantity": 1, "uom": "KGM"}],
                "readPoint": loc(farm["gln"])}

    first = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(
        commission(farm["gln"], g, a, 10), transform(a, b, "2026-09-21T08:00:00+08:00"))))
    assert first["success"], first["errors"]
    back = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(
        transform(b, a, "2026-09-22T08:00:00+08:00"))))
    assert back["success"] is False and back["errors"][0]["code"] == "cycle"
    same_doc = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(
        transform(a, a, "2026-09-22T08:00:00+08:00"))))
    assert same_doc["errors"][0]["code"] == "cycle"


def test_producer_may_not_capture_at_another_partys_location(client, factory):
    farm, other = factory.party(), factory.party()
    response = _capture(client, farm["token"], document(commission(other["gln"], gtin(), lot_code(), 1)))
    assert response.status_code == 403
    assert other["gln"] in response.json["error"]["message"]


def test_producer_may_not_ship_a_lot_it_does_not_hold(client, factory):
    farm, other = factory.party(), factory.party()
    g, lot = factory.product(other["gln"])["gtin"], lot_code()
    _job(client, other["token"], _capture(client, other["token"], document(commission(other["gln"], g, lot, 5))))
    response = _capture(client, farm["token"], document(ship(farm["gln"], other["gln"], g, lot, 1)))
    assert response.status_code == 403


def test_lab_captures_inspections_only_and_admin_anything(client, factory):
    lab, farm = factory.party(roles=("lab",), role="lab"), factory.party()
    g, lot = gtin(), lot_code()
    _job(client, factory.admin_token, _capture(client, factory.admin_token,
                                                document(commission(farm["gln"], g, lot, 5))))
    shipment = ship(lab["gln"], farm["gln"], g, lot, 1)
    assert _capture(client, lab["token"], document(shipment)).status_code == 403
    inspection = {"type": "ObjectEvent", "eventID": event_id(), "eventTime": "2026-09-22T08:00:00+08:00",
                  "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "inspecting",
                  "quantityList": [{"epcClass": lot_uri(g, lot)}], "readPoint": loc(lab["gln"])}
    assert _job(client, lab["token"], _capture(client, lab["token"], document(inspection)))["success"]


def test_a_held_lot_cannot_be_shipped(client, factory, graph):
    farm, mill = factory.party(), factory.party()
    g, lot = factory.product(farm["gln"])["gtin"], lot_code()  # party tokens capture registered products only
    _job(client, farm["token"], _capture(client, farm["token"], document(commission(farm["gln"], g, lot, 10))))
    graph.query("MATCH (l:Lot {key: $k}) SET l.status = 'on_hold'", k=f"lot:{g}:{lot}")
    job = _job(client, factory.admin_token, _capture(client, factory.admin_token,
                                                      document(ship(farm["gln"], mill["gln"], g, lot, 1))))
    assert job["success"] is False and job["errors"][0]["code"] == "lot_status"


def test_error_declaration_marks_the_event_and_reverses_its_custody(client, factory):
    farm, mill = factory.party(), factory.party()
    g, lot = factory.product(farm["gln"])["gtin"], lot_code()  # party tokens capture registered products only
    shipment = ship(farm["gln"], mill["gln"], g, lot, 4)
    _job(client, farm["token"], _capture(client, farm["token"], document(commission(farm["gln"], g, lot, 10),
                                                                          shipment)))
    assert _holders(client, g, lot) == {farm["gln"]: 6, mill["gln"]: 4}
    declared = {**shipment, "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00+08:00",
                                                 "reason": "incorrect_data"}}
    job = _job(client, factory.admin_token, _capture(client, factory.admin_token, document(declared)))
    assert job["success"], job["errors"]
    assert _holders(client, g, lot) == {farm["gln"]: 10}
    back = client.get(event_path(shipment["eventID"]), headers=auth(factory.admin_token)).json
    assert back["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["errorDeclaration"]["reason"] == \
        "incorrect_data"
    rows = graph_erroneous(client, shipment["eventID"])
    assert rows == [True]


def graph_erroneous(client, eid):
    graph = client.application.extensions["graph"]
    return [r["e"] for r in graph.query("MATCH (e:Event {event_id: $id}) RETURN e.erroneous AS e", id=eid)]


def test_too_many_events_is_413(client, factory, app):
    farm = factory.party()
    limit = app.config["CAPTURE_MAX_EVENTS"]
    app.config["CAPTURE_MAX_EVENTS"] = 2
    try:
        doc = document(*(commission(farm["gln"], gtin(), lot_code(), 1) for _ in range(3)))
        response = _capture(client, factory.admin_token, doc)
    finally:
        app.config["CAPTURE_MAX_EVENTS"] = limit
    assert response.status_code == 413
    assert "at most 2" in response.json["error"]["message"]


def test_a_body_over_the_size_limit_is_413(client, factory, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        doc = document(*(commission(factory.party()["gln"], gtin(), lot_code(), 1) for _ in range(10)))
        response = _capture(client, factory.admin_token, doc)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_a_document_failing_the_epcis_schema_is_400(client, factory):
    doc = document({"type": "ObjectEvent", "action": "MOVE", "eventTime": "2026-09-20T08:00:00+08:00",
                    "eventTimeZoneOffset": "+08:00"})
    response = _capture(client, factory.admin_token, doc)
    assert response.status_code == 400
    assert "action" in response.json["error"]["message"]
