"""The period exports (FSMA sheets, key data) cost bounded work: more than PERIOD_EXPORT_MAX_EVENTS events answers 413
(ask for shorter periods), after an index read of no more entries than that; a period within it is exported whole.

The events are put in an hour of the 1980s-90s drawn at random, which no other test writes into.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.capture.helpers import commission, document
from tests.factories import auth, lot_code

CAP = 3


@pytest.fixture(scope="module")
def bounded(neo4j_uri):
    """The real app with a bound of CAP events per FSMA period export."""
    from app import create_app

    application = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "MIGRATE_ON_START": False,
                              "SECRET_KEY": "test-secret-key-" + "x" * 20, "PERIOD_EXPORT_MAX_EVENTS": CAP})
    yield application.test_client()
    application.extensions["graph"].close()


@pytest.fixture
def four_harvests(client, factory):
    """Four harvests a minute apart in an hour of their own: (their eventIDs in time order, the hour's start)."""
    farm = factory.party(address_zh="吉林省舒兰市平安镇")
    product = factory.product(farm["gln"])
    start = datetime(1980, 1, 1, tzinfo=UTC) + timedelta(hours=random.randrange(15 * 365 * 24))
    events = [commission(farm["gln"], product["gtin"], lot_code(), 10, bizStep="harvesting",
                         when=(start + timedelta(minutes=10 + i)).isoformat().replace("+00:00", "Z"))
              for i in range(4)]
    job = client.post("/epcis/capture", json=document(*events), headers=auth(factory.admin_token))
    assert job.status_code in (200, 201, 202) and job.json["success"], job.json
    return [e["eventID"] for e in events], start, farm


def _window(start: datetime, first: int, last: int) -> dict:
    """From the first to the last of the harvests (minutes 10 + i of the hour), both included."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {"from": (start + timedelta(minutes=10 + first)).strftime(stamp),
            "to": (start + timedelta(minutes=10 + last)).strftime(stamp)}


def test_a_period_of_more_events_than_the_bound_answers_413_and_one_within_it_is_whole(bounded, four_harvests,
                                                                                       factory):
    ids, start, farm = four_harvests
    admin = auth(factory.admin_token)
    for path in ("/api/v1/fsma/export", "/api/v1/fsma/kde-gaps", "/api/v1/trace/export"):
        over = bounded.get(path, query_string=_window(start, 0, 3), headers=admin)
        assert over.status_code == 413, (path, over.status_code)
        error = over.json["error"]
        assert (error["status"], error["code"]) == (413, "payload_too_large")
        assert f"more than {CAP} events" in error["message"] and "shorter periods" in error["message"]
    # three of the four: exactly the bound, answered with every one of them (each harvest lacks its recipient)
    within = bounded.get("/api/v1/fsma/kde-gaps", query_string=_window(start, 1, 3), headers=admin)
    assert within.status_code == 200, within.json
    assert sorted(g["eventID"] for g in within.json) == sorted(ids[1:])
    rows = bounded.get("/api/v1/trace/export", query_string={**_window(start, 0, 2), "format": "csv"}, headers=admin)
    assert rows.status_code == 200 and all(i in rows.get_data(as_text=True) for i in ids[:3])
    sheet = bounded.get("/api/v1/fsma/export", query_string=_window(start, 0, 2), headers=auth(farm["token"]))
    assert sheet.status_code == 200
    assert sheet.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
