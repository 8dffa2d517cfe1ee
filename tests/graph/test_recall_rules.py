"""The rules of a recall case (graph/recall_rules.py) without a database: deadlines by level in China's working
days, who is notified with what, how effective the case has been and how much a holder may acknowledge. The same
rules are proven through the real app and Neo4j in tests/trace/test_recalls.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph import recall_rules
from graph.recall_rules import ack_capacity, ack_limit_error, add_working_days, deadlines, effectiveness, notify_list

A, B, C = "6901234000009", "6901234000016", "6901234000023"


# -- deadlines --

def test_one_working_day_after_a_monday_is_the_tuesday_at_the_same_time():
    monday = datetime(2026, 5, 4, 1, 30, tzinfo=UTC)  # 09:30 in China
    assert add_working_days(monday, 1) == datetime(2026, 5, 5, 1, 30, tzinfo=UTC)
    assert add_working_days(monday, 0) == monday


def test_working_days_skip_saturday_and_sunday():
    friday = datetime(2026, 5, 8, 2, 0, tzinfo=UTC)
    assert add_working_days(friday, 1) == datetime(2026, 5, 11, 2, 0, tzinfo=UTC)  # Monday
    wednesday = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
    assert add_working_days(wednesday, 5) == datetime(2026, 5, 13, 2, 0, tzinfo=UTC)
    assert add_working_days(wednesday, 3) == datetime(2026, 5, 11, 2, 0, tzinfo=UTC)  # Thu, Fri, Mon


def test_working_days_are_counted_on_chinas_calendar_not_utcs():
    # Friday 18:00 UTC is already Saturday 02:00 in China: the next working day there is Monday 02:00 (Sunday UTC)
    late_friday = datetime(2026, 5, 8, 18, 0, tzinfo=UTC)
    assert add_working_days(late_friday, 1) == datetime(2026, 5, 10, 18, 0, tzinfo=UTC)
    assert add_working_days(late_friday, 1).tzinfo == UTC


@pytest.mark.parametrize(("level", "start_by", "complete_by"), [
    (1, datetime(2026, 5, 2, 10, 0, tzinfo=UTC), datetime(2026, 5, 15, 10, 0, tzinfo=UTC)),
    (2, datetime(2026, 5, 3, 10, 0, tzinfo=UTC), datetime(2026, 5, 29, 10, 0, tzinfo=UTC)),
    (3, datetime(2026, 5, 4, 10, 0, tzinfo=UTC), datetime(2026, 6, 12, 10, 0, tzinfo=UTC)),
])
def test_deadlines_by_level(level, start_by, complete_by):
    friday = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)  # 18:00 in China
    assert deadlines(friday, level) == {"start_by": start_by, "complete_by": complete_by}
    assert recall_rules.START_HOURS[level] == 24 * level
    assert recall_rules.COMPLETE_WORKING_DAYS[level] == 10 * level


# -- who is notified --

def test_notify_list_sums_quantity_and_in_transit_per_unit_and_names_each_holder_once():
    holdings = [
        (A, [("lot:1:L1", 10.0, 2.0, "KGM"), ("lot:1:L2", 3.0, None, "KGM"), ("item:1:S", 1, 0, None),
             ("lot:1:L3", None, 4.0, "BX")]),
        (B, [("lot:1:L1", None, None, "KGM")]),
    ]
    shipments = [([B, C], "urn:e1", None, None, []), ([C], "urn:e2", None, None, [])]
    assert notify_list(holdings, shipments) == [
        {"gln": A, "units": ["BX", "EA", "KGM"], "quantities": [4.0, 1.0, 15.0]},
        {"gln": B, "units": ["KGM"], "quantities": [0.0]},
        {"gln": C, "units": [], "quantities": []},  # sent some, holds none now: notified all the same
    ]
    assert notify_list([], []) == []


def test_notify_list_quantities_are_floats():
    (entry,) = notify_list([(A, [("lot:1:L1", 2, 1, "KGM")])], [])
    assert entry["quantities"] == [3.0] and isinstance(entry["quantities"][0], float)


# -- effectiveness --

def holder(gln: str, held: list[tuple[str, float | None]], acknowledged: bool) -> dict:
    return {"party": {"gln": gln}, "held_at_opening": [{"unit": u, "quantity": q} for u, q in held],
            "acknowledged": acknowledged}


def test_effectiveness_compares_recovered_with_what_was_held_per_unit():
    holders = [holder(A, [("KGM", 100.0), ("EA", 3.0)], True), holder(B, [("KGM", 50.0), ("BX", None)], False),
               holder(C, [], False)]
    acks = [{"unit": "KGM", "quantity_recovered": 30, "quantity_removed": 45},
            {"unit": "KGM", "quantity_recovered": 15, "quantity_removed": None},
            {"unit": None, "quantity_recovered": 1, "quantity_removed": 2},
            {"unit": "L", "quantity_recovered": None, "quantity_removed": 5}]
    assert effectiveness(holders, acks) == {
        "by_unit": [
            {"unit": "BX", "affected": 0.0, "removed": 0.0, "recovered": 0.0, "recovered_ratio": None},
            {"unit": "EA", "affected": 3.0, "removed": 2.0, "recovered": 1.0, "recovered_ratio": 0.3333},
            {"unit": "KGM", "affected": 150.0, "removed": 45.0, "recovered": 45.0, "recovered_ratio": 0.3},
            {"unit": "L", "affected": 0.0, "removed": 5.0, "recovered": 0.0, "recovered_ratio": None},
        ],
        "holders_total": 3,
        "holders_acknowledged": 1,
        "holders_outstanding": [B, C],
    }


def test_effectiveness_of_a_case_nobody_answered():
    assert effectiveness([holder(A, [("KGM", 2.0)], False)], []) == {
        "by_unit": [{"unit": "KGM", "affected": 2.0, "removed": 0.0, "recovered": 0.0, "recovered_ratio": 0.0}],
        "holders_total": 1, "holders_acknowledged": 0, "holders_outstanding": [A]}


# -- what a holder may acknowledge --

def shipped(quantity, uom) -> dict:
    return {"quantity": quantity, "uom": uom}


def test_ack_capacity_is_what_was_held_at_opening_plus_what_the_case_sent():
    h = {"held_at_opening": [{"unit": "KGM", "quantity": 20.0}, {"unit": None, "quantity": 2.0},
                             {"unit": "BX", "quantity": None}],
         "objects": [{"key": "lot:1:L1", "unit": "KGM", "shipments": [shipped(5.0, None), shipped(None, "BX")]},
                     {"key": "lot:1:L2", "unit": None, "shipments": [shipped(3.0, None), shipped(4.0, "L")]}]}
    assert ack_capacity(h, [{"kind": "lot", "unit": "KGM", "quantity": 999.0}]) == {
        "KGM": 25.0, "EA": 5.0, "BX": 1.0, "L": 4.0}


def test_a_holder_of_a_pallet_may_account_for_what_the_case_affected():
    h = {"held_at_opening": [{"unit": "EA", "quantity": 1.0}],
         "objects": [{"key": "sscc:069012340000000017", "unit": "EA", "shipments": []}]}
    affected = [{"kind": "sscc", "unit": "EA", "quantity": 1.0}, {"kind": "lot", "unit": "KGM", "quantity": 40.0},
                {"kind": "lot", "unit": "KGM", "quantity": 2.5}, {"kind": "item", "unit": None, "quantity": None},
                {"kind": "lot", "unit": None, "quantity": 3.0}]
    assert ack_capacity(h, affected) == {"KGM": 42.5, "EA": 5.0}


def test_ack_limit_within_capacity_is_none_up_to_the_exact_total():
    cap = {"KGM": 10.0, "EA": 2.0}
    earlier = [{"unit": "KGM", "quantity_removed": 6.0, "quantity_recovered": 4.0},
               {"unit": "EA", "quantity_removed": 2.0, "quantity_recovered": 2.0},
               {"unit": "KGM", "quantity_removed": None, "quantity_recovered": None}]
    assert ack_limit_error(cap, earlier, {"unit": "KGM", "quantity_removed": 4.0, "quantity_recovered": 6.0}) is None
    # a float sum of many partial acknowledgements may overshoot by rounding
    assert ack_limit_error({"KGM": 0.3}, [{"unit": "KGM", "quantity_removed": 0.1}] * 2,
                           {"unit": "KGM", "quantity_removed": 0.1}) is None
    assert ack_limit_error({}, [], {"unit": "KGM", "quantity_removed": 0, "quantity_recovered": None}) is None
    assert ack_limit_error({"EA": 1.0}, [], {"quantity_removed": 1.0}) is None  # no unit: EA


def test_ack_limit_names_the_quantity_that_goes_beyond():
    cap = {"KGM": 10.0, "EA": 2.0}
    earlier = [{"unit": "KGM", "quantity_removed": 6.0, "quantity_recovered": 4.0},
               {"unit": None, "quantity_removed": 2.0, "quantity_recovered": 0.0}]
    assert ack_limit_error(cap, earlier, {"unit": "KGM", "quantity_removed": 4.5}) == (
        "quantity_removed", "quantity_removed would total 10.5 KGM, more than the 10 KGM of the case the party held "
        "when it opened or was sent (already acknowledged: 6 KGM)")
    assert ack_limit_error(cap, earlier, {"unit": "KGM", "quantity_recovered": 6.001}) == (
        "quantity_recovered", "quantity_recovered would total 10.001 KGM, more than the 10 KGM of the case the party "
        "held when it opened or was sent (already acknowledged: 4 KGM)")
    assert ack_limit_error(cap, earlier, {"quantity_removed": 0.5})[0] == "quantity_removed"  # 2 EA already
    assert ack_limit_error(cap, [], {"unit": "KGM", "quantity_removed": 10.00001}) is not None
    assert ack_limit_error({}, [], {"unit": "KGM", "quantity_recovered": 0.5}) == (
        "quantity_recovered", "quantity_recovered would total 0.5 KGM, more than the 0 KGM of the case the party "
        "held when it opened or was sent (already acknowledged: 0 KGM)")


def test_ack_limit_reports_removed_before_recovered():
    assert ack_limit_error({"KGM": 1.0}, [], {"unit": "KGM", "quantity_removed": 2.0, "quantity_recovered": 3.0})[
        0] == "quantity_removed"


def test_export_keys_are_the_affected_keys_in_order():
    assert recall_rules.export_keys({"affected": [{"key": "lot:1:B"}, {"key": "lot:1:A"}]}) == ["lot:1:B", "lot:1:A"]
