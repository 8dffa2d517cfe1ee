"""The pure rules of EPCIS query subscriptions: the schedule grammar and its next time (checked against a
second-by-second walk written here), where a dest may point, delivery IDs and batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gs1 import subscription_rules as rules

CHINA = timezone(timedelta(hours=8))


def brute_next(fields: dict[str, set[int]], after: datetime, limit_s: int) -> datetime | None:
    """The first second after `after` (China time) whose parts are all in `fields`, walking one second at a time."""
    t = after.astimezone(CHINA).replace(microsecond=0)
    for _ in range(limit_s):
        t += timedelta(seconds=1)
        parts = {"second": t.second, "minute": t.minute, "hour": t.hour, "dayOfMonth": t.day, "month": t.month,
                 "dayOfWeek": t.isoweekday()}
        if all(parts[k] in v for k, v in fields.items()):
            return t
    return None


@pytest.mark.parametrize("raw, fields", [
    ({"second": "0/20", "minute": "[1-3],30"}, {"second": {0, 20, 40}, "minute": {1, 2, 3, 30}}),
    ({"second": "15", "minute": "*/7", "hour": "[22-23],0"}, {"second": {15}, "minute": set(range(0, 60, 7)),
                                                             "hour": {22, 23, 0}}),
    # GS1's example, "every morning at 1.05am": the unnamed second is its least value
    ({"hour": "1", "minute": "5"}, {"second": {0}, "minute": {5}, "hour": {1}}),
    ({"minute": "0", "dayOfWeek": "[1-5]"}, {"second": {0}, "minute": {0}, "dayOfWeek": {1, 2, 3, 4, 5}}),
])
def test_next_time_matches_a_second_by_second_walk(raw, fields):
    schedule = rules.parse_schedule(raw)
    start = datetime(2026, 12, 4, 21, 59, 13, tzinfo=CHINA)
    for step in (0, 47, 3600 * 3 + 1, 86400 + 7200, 86400 * 2 + 36000, 86400 * 4 + 100):  # across days, weekend
        after = start + timedelta(seconds=step)
        assert schedule.next_after(after) == brute_next(fields, after, 4 * 86400), (raw, after)


def test_the_next_time_is_in_china_time_whatever_zone_it_is_asked_in():
    schedule = rules.parse_schedule({"hour": "1", "minute": "5"})
    after = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)  # 08:00 in China
    assert schedule.next_after(after) == datetime(2026, 12, 5, 1, 5, tzinfo=CHINA)


@pytest.mark.parametrize("raw, field", [
    ({"minute": "60"}, "minute"), ({"hour": "24"}, "hour"), ({"dayOfMonth": "0"}, "dayOfMonth"),
    ({"dayOfWeek": "8"}, "dayOfWeek"), ({"month": "[5-3]"}, "month"), ({"second": "a"}, "second"),
    ({"second": "1,,2"}, "second"), ({"minute": "0/0"}, "minute"), ({"year": "2027"}, "year"), ({}, "schedule"),
    ({"dayOfMonth": "30", "month": "2"}, "schedule"), ("hourly", "schedule"), ({"hour": True}, "hour"),
])
def test_a_schedule_outside_the_grammar_or_never_firing_is_refused(raw, field):
    with pytest.raises(rules.ScheduleError) as caught:
        rules.parse_schedule(raw)
    assert caught.value.field == field


def test_runs_of_a_fast_schedule_are_spaced_by_the_minimum_interval():
    every_second = rules.parse_schedule({"second": "*"})
    now = datetime(2026, 12, 4, 12, 0, 0, tzinfo=CHINA)
    assert rules.next_run(every_second, now, None, 10) == now + timedelta(seconds=1)
    assert rules.next_run(every_second, now, now, 10) == now + timedelta(seconds=10)


@pytest.mark.parametrize("url, production, problem", [
    ("http://127.0.0.1:8080/cb", False, None),  # tests and development: a local receiver
    ("https://client.example.com/queryCallback", True, None),
    ("http://client.example.com/queryCallback", True, "use https"),
    ("https://127.0.0.1/cb", True, "not a public address"),
    ("https://10.1.2.3/cb", True, "not a public address"),
    ("https://169.254.169.254/latest", True, "not a public address"),
    ("https://[::1]/cb", True, "not a public address"),
    ("https://[::ffff:192.168.0.1]/cb", True, "not a public address"),
    ("https://localhost/cb", True, "not a public host"),
    ("https://user:pw@client.example.com/cb", False, "a dest may not carry a user name or password"),
    ("ftp://client.example.com/cb", False, "use an http(s) URL with a host"),
    ("https://client.example.com:99999/cb", False, "not a URL"),
])
def test_where_a_dest_may_point(url, production, problem):
    assert rules.dest_problem(url, production) == problem


def test_delivery_ids_are_stable_per_document_and_batches_cut_evenly():
    a = rules.delivery_id("sub", "capture/feed", 0)
    assert a == rules.delivery_id("sub", "capture/feed", 0)
    assert len({a, rules.delivery_id("sub", "capture/feed", 1), rules.delivery_id("sub2", "capture/feed", 0)}) == 3
    assert rules.chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert rules.chunks([], 2) == []
