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


# What a client reads back in the SubscriptionControlsException: the field and the words, for each refusal.
@pytest.mark.parametrize("raw, field, message", [
    ("hourly", "schedule", "expected an object with second, minute, hour, dayOfMonth, month, dayOfWeek"),
    ({"year": "2027"}, "year", "not a schedule field (use second, minute, hour, dayOfMonth, month, dayOfWeek)"),
    ({"hour": None}, "schedule", 'name at least one field (e.g. {"hour": "1", "minute": "5"})'),
    ({"hour": True}, "hour", 'expected a string such as "5", "0,30", "[1-5]" or "0/15"'),
    ({"hour": 1.5}, "hour", 'expected a string such as "5", "0,30", "[1-5]" or "0/15"'),
    ({"hour": " "}, "hour", "expected one or more values separated by commas"),
    ({"hour": "1" * 201}, "hour", "expected one or more values separated by commas"),
    ({"minute": "1, x"}, "minute", "'x' is not a number, a range [a-b] or a step a/s"),
    ({"minute": "60"}, "minute", "values must lie in 0..59"),
    ({"dayOfMonth": "[0-3]"}, "dayOfMonth", "values must lie in 1..31"),
    ({"month": "[1-13]"}, "month", "values must lie in 1..12"),
    ({"month": "[5-3]"}, "month", "the range 5-3 runs backwards"),
    ({"minute": "5/0"}, "minute", "a step must be at least 1"),
    ({"dayOfMonth": "31", "month": "[4-4]"}, "schedule", "these fields never match a date (e.g. 31 February)"),
])
def test_each_refusal_names_its_field_and_says_why(raw, field, message):
    with pytest.raises(rules.ScheduleError) as caught:
        rules.parse_schedule(raw)
    assert (caught.value.field, caught.value.message) == (field, message)
    assert str(caught.value) == f"{field}: {message}"


@pytest.mark.parametrize("text, values", [
    ("*", set(range(0, 24))), ("7", {7}), ("7/5", {7, 12, 17, 22}), ("[3-5]", {3, 4, 5}), ("3-5", {3, 4, 5}),
    ("[0-23]/12", {0, 12}), (" 1 , 2 ", {1, 2}), (5, {5}), ("0,23", {0, 23}),
])
def test_each_form_of_a_field_gives_its_hours(text, values):
    assert rules.parse_schedule({"hour": text}).hour == frozenset(values)


def test_fields_finer_than_the_finest_named_take_their_least_value_and_coarser_ones_every_value():
    s = rules.parse_schedule({"hour": "1"})
    assert (s.second, s.minute, s.hour) == (frozenset({0}), frozenset({0}), frozenset({1}))
    assert s.dayOfMonth == frozenset(range(1, 32)) and s.month == frozenset(range(1, 13))
    assert s.dayOfWeek == frozenset(range(1, 8))


def test_a_schedule_matches_its_times_to_the_second_in_china_time():
    s = rules.parse_schedule({"second": "30", "minute": "5", "hour": "1", "dayOfMonth": "5", "month": "12",
                              "dayOfWeek": "6"})  # 2026-12-05 is a Saturday
    hit = datetime(2026, 12, 5, 1, 5, 30, tzinfo=CHINA)
    assert s.matches(hit) and s.matches(hit.astimezone(UTC))
    for other in (hit + timedelta(seconds=1), hit + timedelta(minutes=1), hit + timedelta(hours=1),
                  hit + timedelta(days=7), hit.replace(month=11), hit.replace(tzinfo=UTC)):
        assert not s.matches(other), other


def test_the_schedule_is_stored_as_the_text_it_was_given():
    assert rules.schedule_text({"hour": 1, "minute": " 0/30 ", "second": None}) == {"minute": "0/30", "hour": "1"}


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False), ("10.0.0.1", False),
    ("192.168.1.1", False), ("169.254.0.1", False), ("240.0.0.1", False), ("224.0.0.1", False), ("0.0.0.0", False),
    ("::1", False), ("fe80::1%eth0", False), ("::ffff:10.0.0.1", False), ("::ffff:8.8.8.8", True), ("ff02::1", False),
    ("not-an-address", False), ("", False),
])
def test_which_addresses_are_public(address, public):
    assert rules.public_address(address) is public


def test_batches_of_a_size_below_one_hold_one_event_each():
    assert rules.chunks([1, 2], 0) == [[1], [2]] and rules.chunks([], 3) == []
