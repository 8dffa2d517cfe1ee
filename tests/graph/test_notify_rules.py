"""Pure notification rules: delivery IDs, backoff, signatures, link tokens, message text and the drill report."""

from __future__ import annotations

import hashlib
import hmac

from graph import notify_rules as rules

CASE = {
    "recall_id": "RC-20261204-ABCDEF12", "level": 1, "reason": "镉超标 cadmium", "status": "open",
    "opened_at": "2026-12-04T02:00:00Z", "deadlines": {"start_by": "2026-12-05T02:00:00Z",
                                                       "complete_by": "2026-12-18T02:00:00Z"},
    "affected": [{"key": "lot:06900000000016:L1", "gtin": "06900000000016", "lot": "L1", "serial": None,
                  "product_zh": "大米", "product_en": "Rice"}],
    "affected_count": {"lots": 1, "items": 0, "logistic_units": 0},
    "holders": [
        {"party": {"gln": "6900000000011", "name_zh": "超市甲", "name_en": "Shop A"},
         "held_at_opening": [{"unit": "KGM", "quantity": 12.5}],
         "objects": [{"key": "lot:06900000000016:L1", "quantity": 10.0, "pending": 2.5, "unit": "KGM"}],
         "acknowledgements": [{"at": "2026-12-04T20:00:00Z"}]},
        {"party": {"gln": "6900000000028", "name_zh": "超市乙", "name_en": None},
         "held_at_opening": [{"unit": "KGM", "quantity": 3.0}],
         "objects": [{"key": "lot:06900000000016:L1", "quantity": 3.0, "pending": 0, "unit": "KGM"}],
         "acknowledgements": [{"at": "2026-12-05T12:00:00Z"}]},
    ],
    "drill": True, "trace_ms": 12.0,
}


def test_a_delivery_id_is_the_same_for_the_same_notice_and_differs_otherwise():
    one = rules.delivery_id("RC-1", "opened", "6900000000011", "email")
    assert one == rules.delivery_id("RC-1", "opened", "6900000000011", "email")
    others = {rules.delivery_id("RC-2", "opened", "6900000000011", "email"),
              rules.delivery_id("RC-1", "closed", "6900000000011", "email"),
              rules.delivery_id("RC-1", "opened", "6900000000028", "email"),
              rules.delivery_id("RC-1", "opened", "6900000000011", "sms")}
    assert one not in others and len(others) == 4


def test_backoff_doubles_from_two_seconds_and_stops_at_an_hour():
    assert [rules.backoff_seconds(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert rules.backoff_seconds(30) == 3600.0 and rules.backoff_seconds(0) == 2.0


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = '{"a":"召回"}'.encode()
    want = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert rules.sign("s3cret", 1700000000, body) == "v1=" + want
    assert rules.sign("s3cret", 1700000001, body) != "v1=" + want


def test_secrets_and_link_tokens_come_from_the_key_and_change_with_it():
    key = b"k" * 32
    assert rules.webhook_secret(key, "6900000000011", 1) == rules.webhook_secret(key, "6900000000011", 1)
    assert rules.webhook_secret(key, "6900000000011", 2) != rules.webhook_secret(key, "6900000000011", 1)
    assert rules.webhook_secret(b"x" * 32, "6900000000011", 1) != rules.webhook_secret(key, "6900000000011", 1)
    token = rules.link_token(key, "link-1")
    assert len(token) == 64 and token != rules.link_token(key, "link-2")
    assert rules.token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


def test_each_holder_gets_its_own_quantities_in_both_languages():
    notices = rules.notices(CASE, "opened", False)
    assert [n["party_gln"] for n in notices] == ["6900000000011", "6900000000028"]
    subject, text = rules.render(notices[0], "https://x.test/recall-ack/abc")
    assert "食品召回通知" in subject and "Food recall notice" in subject
    assert "大米 批号 L1：12.5 KGM" in text and "Rice lot L1: 12.5 KGM" in text
    assert "镉超标 cadmium" in text and "2026-12-05 10:00" in text  # start_by in China time
    assert "24 小时" in text and "https://x.test/recall-ack/abc" in text and "Stop selling" in text
    _, other = rules.render(notices[1], None)
    assert "3 KGM" in other and "12.5" not in other and "超市乙" in other


def test_a_drill_notice_says_so_and_asks_to_remove_nothing():
    subject, text = rules.render(rules.notices(CASE, "opened", True)[0], None)
    assert subject.startswith("【演练】") and "[DRILL]" in subject
    assert "请勿下架" in text and "do not remove" in text
    assert rules.sms_text(rules.notices(CASE, "opened", True)[0], "u").startswith("【演练】")


def test_the_drill_report_counts_reached_and_acknowledged_within_24_and_48_hours():
    notices = [
        {"party_gln": "6900000000011", "channel": "email", "kind": "opened", "state": "delivered",
         "delivered_at": "2026-12-04T02:00:05Z"},
        {"party_gln": "6900000000011", "channel": "sms", "kind": "opened", "state": "no_address",
         "delivered_at": None},
        {"party_gln": "6900000000028", "channel": "email", "kind": "opened", "state": "failed",
         "delivered_at": None},
    ]
    report = rules.drill_report(CASE, notices)
    assert report["reached"] == {"24h": 1, "48h": 1}
    assert report["acknowledged"] == {"24h": 1, "48h": 2}  # the second acknowledged after 34 h
    assert report["missed"] == ["6900000000028"]
    assert report["holders"][0]["channels"] == {"email": "delivered", "sms": "no_address"}


def test_a_log_line_never_carries_the_token():
    assert rules.redact_link("see https://x/recall-ack/abc123", "abc123") == "see https://x/recall-ack/[token]"
