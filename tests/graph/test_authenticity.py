"""Authenticity and copy detection (graph/authenticity.py) and the consumer timeline's shaping (graph/timeline.py),
without a database. The same rules are proven through the resolver and Neo4j in tests/scan/test_scans.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from graph import authenticity, timeline

FACTS = {"item": {"serial": "S1"}, "item_lot_matches": True}


def test_a_lot_code_is_genuine_only_as_a_lot():
    assert authenticity.verdict(None, None, {"item": None, "item_lot_matches": False}, None) == {
        "verdict": "genuine", "level": "lot", "reason": None}


def test_item_verdicts_need_a_valid_signature_on_a_registered_serial():
    assert authenticity.verdict("S1", "bad_signature", FACTS, None)["verdict"] == "invalid_signature"
    assert authenticity.verdict("S1", "valid", {"item": None, "item_lot_matches": False}, None)["reason"] == (
        "not_registered")
    assert authenticity.verdict("S1", "valid", {**FACTS, "item_lot_matches": False}, None)["reason"] == (
        "not_registered")
    assert authenticity.verdict("S1", "malformed", FACTS, None) == {
        "verdict": "unknown_code", "level": "item", "reason": "unsigned"}
    assert authenticity.verdict("S1", "valid", FACTS, "impossible_travel") == {
        "verdict": "suspected_copy", "level": "item", "reason": "impossible_travel"}
    assert authenticity.verdict("S1", "valid", FACTS, None) == {"verdict": "genuine", "level": "item", "reason": None}


def test_assess_rules():
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)

    def at(state, minutes, net, lat=None, lon=None):
        return authenticity.assess(state, {"time": t0 + timedelta(minutes=minutes), "fp": net + "-ua", "net": net,
                                   "lat": lat, "lon": lon})

    state, reason = at({}, 0, "a", 43.9, 125.3)
    assert reason is None and state["scan_count"] == 1 and state["first_scan_at"] == t0
    # Changchun -> Shanghai is ~1,400 km: one network claiming each place is no evidence
    state, reason = at(state, 60, "b", 31.2, 121.5)
    assert reason is None
    # a second network in Changchun and one in Shanghai: two places, each claimed by two networks, in one hour
    state, reason = at(state, 61, "c", 43.9, 125.3)
    assert reason is None
    _, reason = at(state, 62, "d", 31.2, 121.5)
    assert reason == "impossible_travel"
    # three hours later a box can have flown there
    _, reason = at(state, 180, "d", 31.2, 121.5)
    assert reason is None
    # 95 km in 10 minutes: under the 100 km floor that absorbs coarse places
    near, _ = at({}, 0, "a", 43.9, 125.3)
    near, _ = at(near, 1, "b", 43.9, 125.3)
    near, _ = at(near, 5, "c", 44.7, 125.6)
    _, reason = at(near, 10, "d", 44.7, 125.6)
    assert reason is None
    # one address with any number of User-Agents is one network
    sold = {"sold_at": t0}
    for n in range(10):
        sold, reason = authenticity.assess(sold, {"time": t0 + timedelta(hours=n + 1), "fp": f"ua-{n}", "net": "home",
                                          "lat": None, "lon": None})
        assert reason is None
    # after it was consumed: the consumer's own network may look again, a second network means a copy
    gone = {"gone_at": t0}
    gone, reason = at(gone, 60, "a")
    assert reason is None
    gone, reason = at(gone, 120, "a")
    assert reason is None
    _, reason = at(gone, 180, "b")
    assert reason == "scanned_after_consumed"


def test_a_scan_summary_survives_its_stored_form():
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    state, _ = authenticity.assess({"sold_at": t0}, {"time": t0 + timedelta(hours=1), "fp": "f", "net": "n",
                                                     "lat": 43.9, "lon": 125.3})
    stored = authenticity.stored_summary(state)
    assert "sold_at" not in stored and isinstance(stored["geo_hints"], str)
    assert authenticity.summary_of(stored) == {k: v for k, v in state.items() if k != "sold_at"}
    assert authenticity.summary_of(None) == {}


def _row(event_id, depth, step, gln, roles=(), kind="ObjectEvent", minute=0, node="lot:1:A", disposition=None):
    return {"event_id": event_id, "depth": depth, "biz_step": step, "type": kind, "disposition": disposition,
            "time": datetime(2026, 5, 1, 8, minute, tzinfo=UTC), "offset": "+08:00", "node_key": node,
            "place": {"gln": gln, "roles": list(roles), "name_zh": gln, "name_en": gln, "region_zh": None,
                      "region_en": None}}


def test_the_timeline_keeps_upstream_events_only_on_the_products_path():
    rows = [
        _row("e1", 2, "harvesting", "farm", ["farm"], minute=1),
        _row("e2", 1, "packing", "mill", ["processor"], kind="TransformationEvent", minute=2),
        _row("e3", 1, "shipping", "other-mill", minute=3),  # the farm lot also went elsewhere: not this product's
        _row("e2", 0, "packing", "mill", ["processor"], kind="TransformationEvent", minute=2),
        _row("e4", 0, "retail_selling", "shop", minute=4),
    ]
    events = timeline.path_events(rows)
    assert [(e["event_id"], e["depth"]) for e in events] == [("e1", 2), ("e2", 0), ("e4", 0)]
    shown = [timeline.public_event(e) for e in events]
    assert [e["stage"] for e in shown] == ["farm", "processing", "retail"]
    assert shown[0]["time"] == "2026-05-01T16:01:00+08:00"  # the clock at the place
    assert timeline.origin(events) == [{"name_zh": "farm", "name_en": "farm", "region_zh": None, "region_en": None}]


def test_an_items_exits_come_from_its_own_events():
    rows = [_row("e1", 0, "retail_selling", "shop", minute=5, node="item:1:S"),
            _row("e2", 0, "retail_selling", "shop", minute=1, node="item:1:OTHER"),
            _row("e3", 0, None, "home", minute=9, node="item:1:S", disposition="consumed")]
    gone, sold = authenticity.item_exits(rows, "item:1:S")
    assert (gone.minute, sold.minute) == (9, 5)
    assert authenticity.item_exits(rows, None) == (None, None)


def test_certificates_say_which_had_expired_and_list_valid_ones_first():
    rows = [{"key": k, "type": "organic", "number": k, "name_zh": None, "valid_from": "2025-01-01",
             "valid_until": until, "issuer_zh": None, "issuer_en": None, "subject_zh": None, "subject_en": None}
            for k, until in (("A", "2026-01-01"), ("B", "2027-01-01"), ("A", "2027-01-01"))]
    certs = timeline.certificates(rows, date(2026, 6, 1))
    assert [(c["number"], c["expired"]) for c in certs] == [("B", False), ("A", True)]


# -- the rules one by one: what a shopper's page and the regulator's copy report read --

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
CHANGCHUN, SHANGHAI = (43.9, 125.3), (31.2, 121.5)  # 1,451 km apart


def scan(minutes: float, net: str | None, place: tuple[float, float] | None = None, fp: str = "ua") -> dict:
    lat, lon = place or (None, None)
    return {"time": T0 + timedelta(minutes=minutes), "fp": fp, "net": net, "lat": lat, "lon": lon}


def test_every_verdict_in_full():
    unknown = {"item": None, "item_lot_matches": True}
    assert authenticity.verdict("S1", "bad_signature", unknown, "impossible_travel") == {
        "verdict": "invalid_signature", "level": "item", "reason": "signature"}
    assert authenticity.verdict("S1", "valid", unknown, None) == {
        "verdict": "unknown_code", "level": "item", "reason": "not_registered"}
    assert authenticity.verdict("S1", "valid", {**FACTS, "item_lot_matches": False}, "impossible_travel") == {
        "verdict": "unknown_code", "level": "item", "reason": "not_registered"}
    assert authenticity.verdict("S1", None, FACTS, "impossible_travel") == {
        "verdict": "unknown_code", "level": "item", "reason": "unsigned"}
    assert authenticity.verdict("S1", "valid", FACTS, "") == {"verdict": "genuine", "level": "item", "reason": None}
    assert authenticity.verdict(None, "bad_signature", FACTS, "impossible_travel") == {
        "verdict": "genuine", "level": "lot", "reason": None}


def test_a_first_scan_starts_the_summary():
    state, reason = authenticity.assess({}, scan(0, None, fp="client-1"))
    assert reason is None
    assert state == {"scan_count": 1, "first_scan_at": T0, "last_scan_at": T0}
    state, _ = authenticity.assess(state, scan(5, "n"))
    assert (state["scan_count"], state["first_scan_at"], state["last_scan_at"]) == (2, T0, T0 + timedelta(minutes=5))


def test_scans_until_its_sale_count_no_networks():
    state, reason = authenticity.assess({"sold_at": T0, "gone_at": T0}, scan(0, "a"))
    assert reason is None and "post_sale_nets" not in state and "post_gone_nets" not in state


def test_without_a_network_the_client_counts_as_one():
    state, _ = authenticity.assess({"gone_at": T0}, scan(1, None, fp="client-1"))
    assert state["post_gone_nets"] == ["client-1"]


def test_a_second_network_after_it_was_consumed_is_a_copy_with_its_detail():
    state, reason = authenticity.assess({"gone_at": T0}, scan(1, "a"))
    assert reason is None and state["post_gone_nets"] == ["a"]
    state, reason = authenticity.assess(state, scan(2, "b"))
    assert reason == "scanned_after_consumed" and state["post_gone_nets"] == ["a", "b"]
    assert state["suspect_reason"] == "scanned_after_consumed"
    assert state["suspect_since"] == T0 + timedelta(minutes=2)
    assert state["suspect_detail"] == "2+ networks scanned it after it left the supply chain at 2026-11-01T12:00:00Z"
    state, reason = authenticity.assess(state, scan(3, "c"))
    assert state["post_gone_nets"] == ["a", "b"]  # one past the limit is enough to decide
    assert reason == "scanned_after_consumed" and state["suspect_since"] == T0 + timedelta(minutes=2)


def test_more_than_three_networks_after_the_sale_is_a_copy():
    state = {"sold_at": T0}
    for n, net in enumerate("abc"):
        state, reason = authenticity.assess(state, scan(n + 1, net))
        assert reason is None
    state, _ = authenticity.assess(state, scan(4, "a"))
    assert state["post_sale_nets"] == ["a", "b", "c"]
    state, reason = authenticity.assess(state, scan(5, "d"))
    assert reason == "many_clients_after_sale" and state["post_sale_nets"] == ["a", "b", "c", "d"]
    assert state["suspect_detail"] == "4+ different networks scanned it after its sale"
    state, _ = authenticity.assess(state, scan(6, "e"))
    assert state["post_sale_nets"] == ["a", "b", "c", "d"]


def test_a_consumed_copy_outranks_a_sold_one_and_the_first_reason_stays():
    state = {"sold_at": T0, "gone_at": T0, "post_sale_nets": ["a", "b", "c"], "post_gone_nets": ["a"]}
    state, reason = authenticity.assess(state, scan(1, "d"))
    assert reason == "scanned_after_consumed" and state["post_sale_nets"] == ["a", "b", "c", "d"]
    assert state["suspect_detail"].startswith("2+ networks scanned it after it left")
    flagged = {"suspect_reason": "impossible_travel", "suspect_since": T0, "suspect_detail": "x", "gone_at": T0,
               "post_gone_nets": ["a"]}
    state, reason = authenticity.assess(flagged, scan(1, "b"))
    assert reason == "impossible_travel"
    assert (state["suspect_reason"], state["suspect_since"], state["suspect_detail"]) == ("impossible_travel", T0, "x")


def impossible(state: dict | None = None) -> tuple[dict, str | None]:
    state = state or {}
    for minutes, net, place in ((0, "a", CHANGCHUN), (60, "b", SHANGHAI), (61, "c", CHANGCHUN)):
        state, reason = authenticity.assess(state, scan(minutes, net, place))
        assert reason is None
    return authenticity.assess(state, scan(62, "d", SHANGHAI))


def test_impossible_travel_names_the_fastest_jump():
    state, reason = impossible()
    assert reason == "impossible_travel"
    assert state["suspect_detail"] == "1451 km in 1 min, each place claimed by 2+ networks"
    assert [h["net"] for h in state["geo_hints"]] == ["a", "b", "c", "d"]
    assert state["geo_hints"][-1] == {"t": T0 + timedelta(minutes=62), "net": "d", "lat": 31.2, "lon": 121.5}


def test_a_consumed_copy_outranks_impossible_travel():
    state, reason = impossible({"gone_at": T0 + timedelta(minutes=61.5), "post_gone_nets": ["x"]})
    assert reason == "scanned_after_consumed" and state["suspect_detail"].startswith("2+ networks")


def test_impossible_travel_needs_two_networks_at_each_place():
    state = {}
    for minutes, net, place in ((0, "a", CHANGCHUN), (1, "c", CHANGCHUN), (2, "b", SHANGHAI)):
        state, reason = authenticity.assess(state, scan(minutes, net, place))
        assert reason is None  # two at Changchun, one at Shanghai
    state = {}
    for minutes, net, place in ((0, "a", CHANGCHUN), (1, "b", SHANGHAI), (2, "c", SHANGHAI)):
        state, reason = authenticity.assess(state, scan(minutes, net, place))
    assert reason is None  # here (Shanghai) two networks, far (Changchun) one


def test_a_flight_is_not_impossible_travel():
    # 1,451 km: 900 km/h needs 97 minutes
    state = {}
    for minutes, net, place in ((0, "a", CHANGCHUN), (1, "c", CHANGCHUN), (98, "b", SHANGHAI)):
        state, reason = authenticity.assess(state, scan(minutes, net, place))
    _, reason = authenticity.assess(state, scan(98, "d", SHANGHAI))
    assert reason is None
    state = {}
    for minutes, net, place in ((0, "a", CHANGCHUN), (1, "c", CHANGCHUN), (96, "b", SHANGHAI)):
        state, reason = authenticity.assess(state, scan(minutes, net, place))
    _, reason = authenticity.assess(state, scan(96, "d", SHANGHAI))
    assert reason == "impossible_travel"


def test_scans_at_the_same_moment_count_as_a_minute_apart():
    state = {"geo_hints": [{"t": T0, "net": "a", "lat": 43.9, "lon": 125.3},
                           {"t": T0, "net": "c", "lat": 43.9, "lon": 125.3},
                           {"t": T0, "net": "b", "lat": 31.2, "lon": 121.5}]}
    state, reason = authenticity.assess(state, scan(0, "d", SHANGHAI))
    assert reason == "impossible_travel"
    assert state["suspect_detail"] == "1451 km in 1 min, each place claimed by 2+ networks"


def test_geo_hints_keep_the_last_day_one_per_other_network_and_at_most_sixteen():
    old = [{"t": T0 - timedelta(hours=24), "net": "old", "lat": 1.0, "lon": 1.0},
           {"t": T0 - timedelta(hours=23), "net": "recent", "lat": 1.0, "lon": 1.0},
           {"t": T0 - timedelta(hours=1), "net": "me", "lat": 2.0, "lon": 2.0}]
    state, _ = authenticity.assess({"geo_hints": old}, scan(0, "me", (0.0, 0.0)))
    assert state["geo_hints"] == [old[1], {"t": T0, "net": "me", "lat": 0.0, "lon": 0.0}]
    many = [{"t": T0 - timedelta(minutes=20 - n), "net": f"n{n}", "lat": 43.9, "lon": 125.3} for n in range(20)]
    state, _ = authenticity.assess({"geo_hints": many}, scan(0, "me", CHANGCHUN))
    assert len(state["geo_hints"]) == 16 and state["geo_hints"][0]["net"] == "n5"
    assert state["geo_hints"][-1]["net"] == "me"


def test_a_scan_without_a_full_place_leaves_the_hints_alone():
    hints = [{"t": T0, "net": "a", "lat": 1.0, "lon": 1.0}]
    for lat, lon in ((1.0, None), (None, 1.0)):
        state, _ = authenticity.assess({"geo_hints": hints}, {**scan(1, "b"), "lat": lat, "lon": lon})
        assert state["geo_hints"] is hints


def test_great_circle_distances():
    assert round(authenticity._km(0, 0, 1, 0), 3) == 111.195
    assert round(authenticity._km(0, 0, 0, 1), 3) == 111.195
    assert round(authenticity._km(60, 0, 60, 1), 3) == 55.597
    assert round(authenticity._km(0, 0, 0, 180), 1) == 20015.1
    assert round(authenticity._km(*CHANGCHUN, *SHANGHAI)) == 1451
    assert authenticity._km(10, 20, 10, 20) == 0


def test_exits_take_the_earliest_of_the_items_own_events_only():
    rows = [_row("e2", 0, None, "shop", minute=3, node="item:1:S", disposition="retail_sold"),
            _row("e1", 0, "retail_selling", "shop", minute=7, node="item:1:S"),
            _row("e3", 1, "retail_selling", "shop", minute=1, node="item:1:S"),
            _row("e4", 0, "consuming", "home", minute=20, node="item:1:S"),
            _row("e8", 0, None, "home", minute=11, node="item:1:S", disposition="disposed"),
            _row("e5", 0, "destroying", "home", minute=15, node="item:1:S"),
            _row("e6", 0, None, "home", minute=12, node="item:1:S", disposition="destroyed"),
            _row("e7", 0, "decommissioning", "home", minute=30, node="item:1:S")]
    gone, sold = authenticity.item_exits(rows, "item:1:S")
    assert (gone.minute, sold.minute) == (11, 3)
    assert authenticity.item_exits(rows[:3], "item:1:S")[0] is None
    assert authenticity.item_exits(rows[3:], "item:1:S")[1] is None
    assert authenticity.item_exits(rows, "item:1:OTHER") == (None, None)


def test_a_stored_summary_with_broken_hints_reads_as_none():
    assert authenticity.summary_of({"scan_count": 2, "geo_hints": "not json"}) == {"scan_count": 2, "geo_hints": []}
    assert authenticity.summary_of({"geo_hints": '[{"net": "a"}]'}) == {"geo_hints": []}
    assert authenticity.summary_of({"geo_hints": "{}"}) == {"geo_hints": []}
    assert authenticity.summary_of({"scan_count": None, "suspect_reason": "x"}) == {
        "suspect_reason": "x", "geo_hints": []}
    assert authenticity.summary_of({}) == {}


def test_the_stored_form_of_a_summary():
    state = {"scan_count": 3, "sold_at": T0, "gone_at": T0, "suspect_reason": None,
             "geo_hints": [{"t": T0, "net": "a", "lat": 1.0, "lon": 2.0}]}
    assert authenticity.stored_summary(state) == {
        "scan_count": 3, "suspect_reason": None,
        "geo_hints": '[{"t": "2026-11-01T12:00:00+00:00", "net": "a", "lat": 1.0, "lon": 2.0}]'}
    assert authenticity.stored_summary({}) == {"geo_hints": "[]"}


def test_the_fastest_jump_is_named_whatever_the_order_of_the_hints():
    hints = [{"t": T0 + timedelta(minutes=61), "net": "c", "lat": 43.9, "lon": 125.3},
             {"t": T0, "net": "a", "lat": 43.9, "lon": 125.3},
             {"t": T0 + timedelta(minutes=60), "net": "b", "lat": 31.2, "lon": 121.5}]
    state, reason = authenticity.assess({"geo_hints": hints}, scan(62, "d", SHANGHAI))
    assert reason == "impossible_travel"
    assert state["suspect_detail"] == "1451 km in 1 min, each place claimed by 2+ networks"


def test_the_detail_gives_the_minutes_of_the_fastest_jump():
    hints = [{"t": T0, "net": "a", "lat": 43.9, "lon": 125.3},
             {"t": T0 + timedelta(minutes=1), "net": "c", "lat": 43.9, "lon": 125.3},
             {"t": T0 + timedelta(minutes=60), "net": "b", "lat": 31.2, "lon": 121.5}]
    state, reason = authenticity.assess({"geo_hints": hints}, scan(90, "d", SHANGHAI))
    assert reason == "impossible_travel"
    assert state["suspect_detail"] == "1451 km in 89 min, each place claimed by 2+ networks"
