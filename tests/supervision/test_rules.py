"""The supervision loop's pure rules: alert states, regions by code, each warning rule at its boundary, the
classification stored on an inspection and pass-rate slices against targets (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from graph import alert_rules as ar
from graph import supervision_rules as sr
from graph.regions import NAMES, name_of, valid_code


@pytest.mark.parametrize(("before", "after", "ok"), [
    ("open", "acknowledged", True), ("open", "closed", True), ("acknowledged", "closed", True),
    ("open", "open", True), ("acknowledged", "acknowledged", True),
    ("acknowledged", "open", False), ("closed", "open", False), ("closed", "acknowledged", False),
    ("closed", "closed", False), ("open", "resolved", False),
])
def test_alert_moves_only_forward_and_closed_is_final(before, after, ok):
    assert (ar.transition_error(before, after) is None) is ok


def test_region_levels_come_from_the_code():
    assert ar.region_levels("220283") == {"province": "220000", "city": "220200", "county": "220283"}
    assert ar.region_levels("222400") == {"province": "220000", "city": "222400", "county": None}
    assert ar.region_levels("220000") == {"province": "220000", "city": None, "county": None}
    assert ar.region_levels("2202") == {"province": None, "city": None, "county": None}
    assert ar.region_levels(None)["province"] is None


def test_a_region_filter_at_each_level_keeps_what_is_inside():
    assert ar.region_prefix("220000") == "22"
    assert ar.region_prefix("220200") == "2202"
    assert ar.region_prefix("220283") == "220283"
    assert ar.in_region("220283", "220200") and ar.in_region("220283", "220000")
    assert not ar.in_region("220581", "220200") and not ar.in_region(None, "220000")
    assert not ar.in_region("220284", "220283")


def test_jilin_codes_are_checked_and_named():
    assert valid_code("220283") and valid_code("110105")  # outside Jilin: any six digits
    assert not valid_code("229999") and not valid_code("22028") and not valid_code("00abcd")
    assert name_of("220283") == "舒兰市" and name_of("220283", "en") == "Shulan"
    assert name_of("110105") is None
    # every county's city and province are in the table too (a name for every level of a Jilin code)
    for code in NAMES:
        levels = ar.region_levels(code)
        assert levels["province"] in NAMES and (levels["city"] is None or levels["city"] in NAMES)


def test_hazard_cluster_fires_at_n_failures_not_n_minus_one():
    today = date(2026, 11, 30)
    two = [today - timedelta(days=3), today]
    assert not ar.hazard_cluster_fires(two, today, n=3)
    assert ar.hazard_cluster_fires([*two, today - timedelta(days=1)], today, n=3)
    assert ar.hazard_cluster_fires(two, today, n=2)


def test_hazard_cluster_window_is_thirty_days_ending_today():
    today = date(2026, 11, 30)
    assert ar.hazard_cluster_fires([today - timedelta(days=29), today - timedelta(days=1), today], today)
    assert not ar.hazard_cluster_fires([today - timedelta(days=30), today - timedelta(days=1), today], today)
    assert not ar.hazard_cluster_fires([today - timedelta(days=31), today - timedelta(days=1), today], today)
    # a failure dated after the day the rule looks at is not in its window
    assert not ar.hazard_cluster_fires([today + timedelta(days=1), today, today], today)


def test_hazard_cluster_key_is_one_per_county_hazard_and_period():
    d = date(2026, 11, 30)
    assert ar.hazard_cluster_key("cadmium", "220581", d) == ar.hazard_cluster_key("cadmium", "220581", d)
    assert ar.hazard_cluster_key("cadmium", "220581", d) != ar.hazard_cluster_key("lead", "220581", d)
    assert ar.hazard_cluster_key("cadmium", "220581", d) != ar.hazard_cluster_key("cadmium", "220283", d)
    assert ar.hazard_cluster_key("cadmium", "220581", d) != ar.hazard_cluster_key("cadmium", "220581",
                                                                                 d + timedelta(days=30))


def test_certificate_expiring_within_thirty_days():
    today = date(2026, 12, 4)
    assert ar.expiring(today + timedelta(days=29), today)
    assert ar.expiring(today + timedelta(days=30), today)
    assert not ar.expiring(today + timedelta(days=31), today)
    assert ar.expiring(today, today)
    assert not ar.expiring(today - timedelta(days=1), today)  # expired already: another rule


def test_certificate_used_after_its_last_valid_day():
    last = date(2026, 12, 4)
    assert not ar.expired_on(last, last)
    assert ar.expired_on(last, last + timedelta(days=1))


def test_scan_burst_counts_n_within_the_window():
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    inside = [now - timedelta(hours=h) for h in (0, 1, 5, 20)]
    assert not ar.scan_burst_fires(inside, now, n=5)
    assert ar.scan_burst_fires([*inside, now - timedelta(hours=23, minutes=59)], now, n=5)
    assert not ar.scan_burst_fires([*inside, now - timedelta(hours=24)], now, n=5)
    assert not ar.scan_burst_fires([*inside, now + timedelta(minutes=1)], now, n=5)


def test_failed_hazards_prefer_the_declared_hazard():
    results = [{"item": "镉 Cd", "pass": False}, {"item": "Lead  Pb", "pass": False}, {"item": "As", "pass": True}]
    assert ar.failed_hazards(results, " Cadmium ") == ["cadmium"]
    assert ar.failed_hazards(results, None) == ["lead pb", "镉 cd"]
    assert ar.failed_hazards([{"item": "As", "pass": True}], "") == []


def test_classification_defaults_and_precedence():
    facts = {"category": "rice", "owner_gln": "6990000000001", "owner_region": "220581"}
    c = sr.classify({"category": "beef", "hazard": " Cadmium", "sampling_body": "  "}, facts)
    assert c["category"] == "rice"  # the product's category wins
    assert c["programme"] == sr.DEFAULT_PROGRAMME == "commissioned_test"
    assert (c["region_code"], c["province_code"], c["city_code"], c["county_code"]) == (
        "220581", "220000", "220500", "220581")
    assert c["region_zh"] == "梅河口市" and c["hazard"] == "cadmium" and c["sampling_body"] is None
    c = sr.classify({"programme": "routine_monitoring", "region_code": "220283"}, {"category": None})
    assert c["region_code"] == "220283" and c["category"] == "other" and c["programme"] == "routine_monitoring"


def test_slices_hold_a_programme_to_its_target_and_nothing_else():
    rows = [{"key": "routine_monitoring", "count": 100, "passed": 96},
            {"key": "food_safety_sampling", "count": 20, "passed": 19},
            {"key": "risk_monitoring", "count": 3, "passed": 1}]
    out = {s["key"]: s for s in sr.slices(rows, "programme", None, sr.DEFAULT_TARGETS)}
    assert out["routine_monitoring"]["target"] == 0.97 and out["routine_monitoring"]["below_target"] is True
    assert out["food_safety_sampling"]["rate"] == 0.95 and out["food_safety_sampling"]["below_target"] is False
    assert out["risk_monitoring"]["target"] is None and out["risk_monitoring"]["below_target"] is None
    assert out["routine_monitoring"]["name_zh"] == "例行监测"
    counties = sr.slices([{"key": "220283", "count": 2, "passed": 2}], "county", None, sr.DEFAULT_TARGETS)
    assert counties[0]["target"] is None and counties[0]["name_zh"] == "舒兰市"
    fixed = sr.slices([{"key": "220283", "count": 100, "passed": 97}], "county", "routine_monitoring",
                      sr.DEFAULT_TARGETS)
    assert fixed[0]["target"] == 0.97 and fixed[0]["below_target"] is False


def test_configured_targets_go_over_the_plans():
    assert sr.targets_from(None) == {"routine_monitoring": 0.97, "food_safety_sampling": 0.95}
    t = sr.targets_from({"supervisory_sampling": 0.9, "routine_monitoring": 0.98, "nonsense": 0.5,
                         "risk_monitoring": 2})
    assert t == {"routine_monitoring": 0.98, "food_safety_sampling": 0.95, "supervisory_sampling": 0.9}


def test_a_party_sees_only_its_own_lots_of_an_alert():
    alert = {"subject_keys": ["lot:1:A", "lot:1:B", "class:1"], "parties": ["A", "B"],
             "details": {"held": ["lot:1:A", "lot:1:B"], "recalled": ["lot:1:B"], "already_held": [],
                         "owners": {"lot:1:A": "A", "lot:1:B": "B"}, "report_no": "R1"}}
    a = ar.party_view(alert, "A")
    assert a["subject_keys"] == ["lot:1:A", "class:1"] and a["parties"] == ["A"]
    assert a["details"] == {"held": ["lot:1:A"], "recalled": [], "already_held": [], "report_no": "R1"}
    b = ar.party_view(alert, "B")
    assert b["details"]["held"] == ["lot:1:B"] and b["details"]["recalled"] == ["lot:1:B"]
    assert "owners" not in b["details"] and "owners" in alert["details"]  # the stored alert is untouched
    assert ar.party_view(alert, "C")["subject_keys"] == ["class:1"]
