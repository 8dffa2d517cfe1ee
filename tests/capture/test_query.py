"""GET /epcis/events: the standard parameters, paging, and 400 for what it does not know."""

from __future__ import annotations

from tests.capture.helpers import commission, document, lot_uri, ship
from tests.factories import auth, gtin, lot_code
from tests.gs1.examples import epcis_problems


def _events(response):
    assert response.status_code == 200, response.json
    assert epcis_problems(response.json) == []
    return response.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _arrange(client, factory):
    farm, mill = factory.party(), factory.party()
    g, lot = gtin(), lot_code()
    evs = [commission(farm["gln"], g, lot, 100)] + [
        ship(farm["gln"], mill["gln"], g, lot, 1, when=f"2026-09-21T08:0{i}:00+08:00") for i in range(5)]
    response = client.post("/epcis/capture", json=document(*evs), headers=auth(factory.admin_token))
    assert response.status_code == 202
    return farm, mill, g, lot, evs


def test_filters_by_class_biz_step_time_and_read_point(client, factory):
    farm, _, g, lot, evs = _arrange(client, factory)
    token = auth(factory.admin_token)
    base = f"/epcis/events?MATCH_epcClass={lot_uri(g, lot)}"
    assert len(_events(client.get(base, headers=token))) == 6
    assert len(_events(client.get(base + "&EQ_bizStep=shipping", headers=token))) == 5
    assert len(_events(client.get(base + "&EQ_bizStep=commissioning|shipping&EQ_action=ADD", headers=token))) == 1
    window = base + "&GE_eventTime=2026-09-21T08:01:00%2B08:00&LT_eventTime=2026-09-21T08:03:00%2B08:00"
    # Answers come in (recordTime, eventID) order; one document shares a recordTime, so compare in eventID order.
    assert [e["eventID"] for e in _events(client.get(window, headers=token))] == sorted(e["eventID"] for e in evs[2:4])
    by_place = f"/epcis/events?EQ_bizLocation=urn:epc:id:sgln:{farm['gln'][:7]}.{farm['gln'][7:12]}.0" \
               f"&EQ_eventID={evs[0]['eventID']}"
    assert [e["eventID"] for e in _events(client.get(by_place, headers=token))] == [evs[0]["eventID"]]


def test_paging_walks_every_event_once_in_a_stable_order(client, factory):
    _, _, g, lot, evs = _arrange(client, factory)
    token = auth(factory.admin_token)
    url = f"/epcis/events?MATCH_epcClass={lot_uri(g, lot)}&perPage=4"
    seen = []
    while url:
        response = client.get(url, headers=token)
        seen += [e["eventID"] for e in _events(response)]
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert sorted(seen) == sorted(e["eventID"] for e in evs) and len(seen) == len(set(seen))


def test_unknown_parameter_or_bad_value_is_400_naming_it(client, factory):
    token = auth(factory.admin_token)
    unknown = client.get("/epcis/events?EQ_colour=red", headers=token)
    assert unknown.status_code == 400 and "EQ_colour" in unknown.json["error"]["errors"]["query"]
    bad = client.get("/epcis/events?GE_eventTime=yesterday", headers=token)
    assert bad.status_code == 400 and "GE_eventTime" in bad.json["error"]["errors"]["query"]
    bad_type = client.get("/epcis/events?eventType=FooEvent", headers=token)
    assert bad_type.status_code == 400 and "eventType" in bad_type.json["error"]["errors"]["query"]
    bad_token = client.get("/epcis/events?nextPageToken=zzz", headers=token)
    assert bad_token.status_code == 400


def test_a_producer_sees_only_its_own_events(client, factory):
    farm, mill, g, lot, evs = _arrange(client, factory)
    stranger = factory.party()
    url = f"/epcis/events?MATCH_epcClass={lot_uri(g, lot)}"
    assert len(_events(client.get(url, headers=auth(farm["token"])))) == 6
    assert _events(client.get(url, headers=auth(stranger["token"]))) == []
