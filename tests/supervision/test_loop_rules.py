"""Pure rules of the supervision loop: the 双随机 draw, credit transitions, report forms and limits (no database)."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from graph import credit_rules, report_rules, sampling_rules

TARGETS = [f"0690000{n:05d}0" for n in range(40)]
INSPECTORS = [f"u_{n:02d}" for n in range(8)]


def _reference_draw(seed, targets, inspectors, count, per_target, conflicts):
    """The published recipe, written again here: SHA-256 of the seed seeds a Mersenne Twister; sort; sample."""
    rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big"))
    chosen = rng.sample(sorted(set(targets)), min(count, len(set(targets))))
    out = []
    for party in chosen:
        free = [i for i in sorted(set(inspectors)) if party not in conflicts.get(i, {})]
        out.append((party, rng.sample(free, min(per_target, len(free)))))
    return out


def _pairs(draw):
    return [(a.party_gln, a.inspector_ids) for a in draw.assignments]


def test_the_same_seed_reproduces_the_draw_whatever_the_candidates_order():
    shuffled_t, shuffled_i = TARGETS[::-1], INSPECTORS[3:] + INSPECTORS[:3]
    first = sampling_rules.draw("lottery-2026-12", TARGETS, INSPECTORS, 6, 2)
    again = sampling_rules.draw("lottery-2026-12", shuffled_t + TARGETS[:5], shuffled_i, 6, 2)
    assert _pairs(first) == _pairs(again)
    assert _pairs(first) == _reference_draw("lottery-2026-12", TARGETS, INSPECTORS, 6, 2, {})


def test_another_seed_draws_differently():
    draws = {tuple(a.party_gln for a in sampling_rules.draw(f"seed-{n}", TARGETS, INSPECTORS, 6, 2).assignments)
             for n in range(5)}
    assert len(draws) == 5


def test_draw_takes_the_count_asked_and_never_repeats_a_target():
    d = sampling_rules.draw("s", TARGETS, INSPECTORS, 10, 3)
    parties = [a.party_gln for a in d.assignments]
    assert len(parties) == 10 == len(set(parties))
    assert all(len(set(a.inspector_ids)) == 3 for a in d.assignments)
    assert len(sampling_rules.draw("s", TARGETS[:4], INSPECTORS, 10, 1).assignments) == 4


def test_an_inspector_never_draws_a_conflicting_party():
    conflicts = sampling_rules.conflicts_of({"u_00": TARGETS[:20]}, {"u_01": TARGETS[20:]})
    for n in range(30):
        d = sampling_rules.draw(f"c{n}", TARGETS, ["u_00", "u_01", "u_02"], 5, 2, conflicts)
        for a in d.assignments:
            assert not ("u_00" in a.inspector_ids and a.party_gln in TARGETS[:20])
            assert not ("u_01" in a.inspector_ids and a.party_gln in TARGETS[20:])
        assert _pairs(d) == _reference_draw(f"c{n}", TARGETS, ["u_00", "u_01", "u_02"], 5, 2, conflicts)


def test_a_target_short_of_free_inspectors_says_so_and_lists_the_exclusions():
    conflicts = sampling_rules.conflicts_of({"u_00": [TARGETS[0]]}, {"u_01": [TARGETS[0]]})
    d = sampling_rules.draw("x", TARGETS[:1], ["u_00", "u_01", "u_02"], 1, 2, conflicts)
    assert d.assignments[0].inspector_ids == ["u_02"] and d.assignments[0].short
    assert {(e["inspector"], e["kind"]) for e in d.excluded} == {("u_00", "former_employer"),
                                                                  ("u_01", "inspected_last_time")}


def test_former_employer_is_the_reason_kept_when_both_apply():
    c = sampling_rules.conflicts_of({"u": ["p"]}, {"u": ["p"]})
    assert c == {"u": {"p": "former_employer"}}


@pytest.mark.parametrize("count,per", [(0, 1), (501, 1), (1, 0), (1, 6)])
def test_draw_bounds(count, per):
    with pytest.raises(ValueError):
        sampling_rules.draw("s", TARGETS, INSPECTORS, count, per)


@pytest.mark.parametrize("before,after,kind,ok", [
    ("normal", "watch", "failed_inspection", True),
    ("normal", "blacklist", "failed_inspection", False),  # one step at most
    ("watch", "blacklist", "recall_caused", True),
    ("normal", "blacklist", "counterfeit", True),  # serious: straight to the list
    ("normal", "blacklist", "falsified_records", True),
    ("watch", "normal", "failed_inspection", False),  # a violation never lowers
    ("blacklist", "normal", "rectified", True),
    ("normal", "watch", "rectified", False),  # rectified never raises
    ("watch", "watch", "overdue_acknowledgement", False),  # no change
    ("normal", "watch", "gossip", False),
    ("normal", "grey", "counterfeit", False),
])
def test_credit_transitions(before, after, kind, ok):
    assert (credit_rules.transition_error(before, after, kind) is None) is ok


def test_suggested_status_follows_the_rule():
    assert credit_rules.suggested("normal", "failed_inspection") == "watch"
    assert credit_rules.suggested("watch", "recall_caused") == "blacklist"
    assert credit_rules.suggested("blacklist", "overdue_acknowledgement") == "blacklist"
    assert credit_rules.suggested("normal", "counterfeit") == "blacklist"
    assert credit_rules.suggested("blacklist", "rectified") == "normal"


def test_appeal_and_decision_rules():
    change = {"change_id": "c1", "party_gln": "g", "reversed": False, "appeal_state": None}
    assert credit_rules.appeal_error(change, "g", "c1") is None
    assert credit_rules.appeal_error(change, None, "c1") is None
    assert "own" in credit_rules.appeal_error(change, "other", "c1")
    assert "latest" in credit_rules.appeal_error(change, "g", "c2")
    assert "pending" in credit_rules.appeal_error({**change, "appeal_state": "pending"}, "g", "c1")
    assert "reversed" in credit_rules.appeal_error({**change, "reversed": True}, "g", "c1")
    assert credit_rules.decision_error("pending", "reversed", "token:a", "token:b") is None
    assert "another" in credit_rules.decision_error("pending", "upheld", "token:a", "token:a")
    assert "already" in credit_rules.decision_error("upheld", "reversed", "token:a", "token:b")
    assert credit_rules.needs_approval("blacklist") and not credit_rules.needs_approval("watch")


KEY = b"k" * 32


def test_form_token_accepts_a_human_paced_submission_only():
    token = report_rules.form_token(KEY, 1000, "https://id.gs1.org/01/1")
    assert report_rules.form_error(KEY, token, "https://id.gs1.org/01/1", 1010, "") is None
    assert report_rules.form_error(KEY, token, "https://id.gs1.org/01/1", 1010, "http://spam") == "honeypot"
    assert report_rules.form_error(KEY, token, "https://id.gs1.org/01/1", 1001, "") == "too_fast"
    assert report_rules.form_error(KEY, token, "https://id.gs1.org/01/1", 1000 + 2 * 3600 + 1, "") == "expired"
    assert report_rules.form_error(KEY, token, "https://id.gs1.org/01/2", 1010, "") == "bad_token"
    assert report_rules.form_error(b"other" * 8, token, "https://id.gs1.org/01/1", 1010, "") == "bad_token"
    forged = "900." + token.split(".")[1]  # an earlier time with the old MAC
    assert report_rules.form_error(KEY, forged, "https://id.gs1.org/01/1", 1010, "") == "bad_token"
    assert report_rules.form_error(KEY, None, "c", 1010, "") == "bad_token"


def test_form_token_is_an_hmac_of_time_and_code():
    mac = hmac.new(KEY, b"tracegraph/report-form/v1|1000|c", hashlib.sha256).hexdigest()[:32]
    assert report_rules.form_token(KEY, 1000, "c") == f"1000.{mac}"


def test_report_limits_and_states():
    assert report_rules.limit_error(2, 19) is None
    assert report_rules.limit_error(3, 0) == "phone_limit"
    assert report_rules.limit_error(0, 20) == "code_limit"
    assert report_rules.transition_error("received", "investigating") is None
    assert report_rules.transition_error("received", "closed") is None
    assert report_rules.transition_error("closed", "investigating") is not None
    assert report_rules.transition_error("investigating", "received") is not None
    assert report_rules.transition_error("closed", "closed") is None


def test_photo_types_by_content_and_size():
    assert report_rules.photo_type(b"\xff\xd8\xff\xe0" + b"0" * 10) == "image/jpeg"
    assert report_rules.photo_type(b"\x89PNG\r\n\x1a\n" + b"0" * 10) == "image/png"
    assert report_rules.photo_type(b"GIF89a") is None
    assert report_rules.photo_type(b"<svg/>") is None
    assert report_rules.photo_type(b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024)) is None


def test_numbers_and_phones():
    no = report_rules.new_number("20261204")
    assert report_rules.NUMBER.match(no) and no.startswith("JB-20261204-")
    assert report_rules.normal_phone("138-0000 0000") == "13800000000"
    assert report_rules.normal_phone("12800000000") is None
