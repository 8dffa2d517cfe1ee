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
