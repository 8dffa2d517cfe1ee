"""The scan writer's memory of stored scans (graph/scan_log.Recent): what it may prove a repeat, and what it must
leave to the store (pure; no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.scan_log import Recent

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
CODE = ("fp-a", "06901234000017", "LOT1", "")


def test_a_scan_within_thirty_minutes_of_a_stored_one_is_a_proven_repeat():
    recent = Recent()
    recent.note(CODE, T0)
    assert recent.proves_repeat(CODE, T0 + timedelta(minutes=29, seconds=59))


def test_thirty_minutes_after_the_last_stored_scan_nothing_is_proven():
    recent = Recent()
    recent.note(CODE, T0)
    assert not recent.proves_repeat(CODE, T0 + timedelta(minutes=30))


def test_another_client_or_code_is_never_proven_by_this_one():
    recent = Recent()
    recent.note(CODE, T0)
    assert not recent.proves_repeat(("fp-b", *CODE[1:]), T0 + timedelta(minutes=1))
    assert not recent.proves_repeat((*CODE[:3], "SERIAL9"), T0 + timedelta(minutes=1))


def test_an_older_time_never_replaces_a_newer_one():
    recent = Recent()
    recent.note(CODE, T0 + timedelta(minutes=20))
    recent.note(CODE, T0)
    assert recent.proves_repeat(CODE, T0 + timedelta(minutes=45))


def test_a_full_memory_drops_what_the_window_no_longer_needs_and_keeps_the_newest():
    recent = Recent(max_entries=4)
    for i in range(4):
        recent.note((f"fp-{i}", "g", "l", ""), T0 + timedelta(minutes=i * 20))  # 0, 20, 40, 60 minutes
    recent.note(("fp-new", "g", "l", ""), T0 + timedelta(minutes=61))
    assert recent.proves_repeat(("fp-new", "g", "l", ""), T0 + timedelta(minutes=62))
    assert recent.proves_repeat(("fp-3", "g", "l", ""), T0 + timedelta(minutes=62))
    assert not recent.proves_repeat(("fp-0", "g", "l", ""), T0 + timedelta(minutes=10))  # pruned: asked of the store
