"""The chain's rules without a database (graph.audit.ChainCheck), and body redaction (app.audit, pure parts).

Legacy entries (plain SHA-256, written before the chain was keyed) stay verifiable, and the first keyed entry after
them anchors them: rewriting the legacy prefix with recomputed hashes breaks that keyed link.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from app.audit import body_fields, redact
from graph import audit

KEY = b"k" * 32


def _legacy(prev: str, seq: int, path: str) -> dict:
    entry = {"seq": seq, "at": f"2026-01-0{seq}", "method": "POST", "path": path, "status": 201, "prev_hash": prev}
    entry["hash"] = audit.legacy_hash(prev, seq, entry)
    return entry


def _keyed(prev: str, seq: int, path: str, key: bytes = KEY) -> dict:
    entry = {"seq": seq, "at": f"2026-02-0{seq}", "kind": "http", "path": path, "status": 201, "prev_hash": prev,
             "alg": audit.KEYED, "key_id": audit.key_id(key)}
    entry["hash"] = audit.entry_mac(key, prev, seq, entry)
    return entry


def _chain() -> list[dict]:
    a = _legacy(audit.GENESIS, 1, "/a")
    b = _legacy(a["hash"], 2, "/b")
    c = _keyed(b["hash"], 3, "/c")
    d = _keyed(c["hash"], 4, "/d")
    return [a, b, c, d]


def _first_problem(entries: list[dict], key: bytes | None = KEY) -> tuple[int, str] | None:
    check = audit.ChainCheck(key)
    for e in entries:
        problem = check.feed(e)
        if problem:
            return e["seq"], problem
    return None


def test_legacy_then_keyed_entries_verify():
    check = audit.ChainCheck(KEY)
    assert [check.feed(e) for e in _chain()] == [None] * 4
    assert (check.legacy, check.keyed) == (2, 2)


def test_a_rewritten_legacy_prefix_breaks_the_first_keyed_link():
    a, b, c, d = _chain()
    forged_a = _legacy(audit.GENESIS, 1, "/forged")
    forged_b = _legacy(forged_a["hash"], 2, "/b")  # hashes recomputed all the way to the keyed entry
    assert _first_problem([forged_a, forged_b, c, d])[0] == 3
    # and the keyed entry cannot be re-linked without the key
    relinked = {**c, "prev_hash": forged_b["hash"]}
    assert _first_problem([forged_a, forged_b, relinked, d]) == (3, "entry 3 was changed (its HMAC does not verify "
                                                                  "with the configured key)")


def test_a_keyed_entry_rewritten_as_legacy_is_a_downgrade():
    a, b, c, d = _chain()
    downgraded = _legacy(c["hash"], 4, "/forged")
    assert _first_problem([a, b, c, downgraded]) == (4, "entry 4 is unkeyed after keyed entries (a downgrade)")


def test_a_keyed_entry_made_with_another_key_or_without_a_key_fails():
    a, b, c, d = _chain()
    assert "another audit key" in _first_problem([a, b, c, d], key=b"x" * 32)[1]
    assert _first_problem([a, b, c, d], key=None) == (3, "entry 3 is keyed and no audit key was given")
    other = _keyed(c["hash"], 4, "/d", key=b"x" * 32)
    assert _first_problem([a, b, c, other])[0] == 4


def test_a_mac_made_without_the_key_does_not_verify():
    a, b, c, d = _chain()
    forged = {**d, "path": "/forged"}
    forged["hash"] = audit.entry_mac(b"guessed", c["hash"], 4, forged)  # right algorithm and key_id, wrong key
    assert _first_problem([a, b, c, forged]) == (4, "entry 4 was changed (its HMAC does not verify with the "
                                                    "configured key)")
    assert _first_problem([a, b, c, {**d, "path": "/forged"}])[0] == 4
    # an attacker who read the source knows the canonical form and the public key id, only not the key
    content = {"alg": audit.KEYED, "key_id": d["key_id"], "seq": 4, "prev": c["hash"],
               "entry": {k: forged.get(k) for k in audit.ENTRY_FIELDS}}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    for attempt in (hashlib.sha256(text).hexdigest(), hmac.new(b"", text, hashlib.sha256).hexdigest(),
                    hmac.new(d["key_id"].encode(), text, hashlib.sha256).hexdigest()):
        assert _first_problem([a, b, c, {**forged, "hash": attempt}])[0] == 4


def test_a_gap_is_named():
    a, b, c, d = _chain()
    assert _first_problem([a, b, d]) == (4, "entry 3 is missing")


def test_redaction_by_field_name():
    value = {"password": "p", "userPassword": "p", "client_secret": "s", "csrf_token": "t", "apiKey": "k",
             "token_id": "keep", "tokens_issued": 3, "list": [{"secret": "s"}],
             "text": "Bearer tg_0123abcd_" + "A" * 43}
    clean, found = redact(value)
    assert {k for k, v in clean.items() if v == "[redacted]"} == {"password", "userPassword", "client_secret",
                                                                  "csrf_token", "apiKey"}
    assert clean["token_id"] == "keep" and clean["tokens_issued"] == 3 and clean["list"] == [{"secret": "[redacted]"}]
    assert clean["text"] == "Bearer tg_0123abcd_[redacted]"
    assert sorted(found) == ["apiKey", "client_secret", "csrf_token", "password", "secret", "userPassword"]


def test_a_body_without_secrets_is_kept_byte_for_byte_with_its_hash():
    raw = json.dumps({"gln": "6901234567892", "name_zh": "参"}, ensure_ascii=False, indent=2).encode()
    fields = body_fields(raw, "application/json", 1000)
    assert fields["body"].encode() == raw and fields["body_sha256"] == hashlib.sha256(raw).hexdigest()
    assert fields.get("body_note") is None


def test_form_bodies_are_redacted_and_binary_bodies_keep_only_their_hash():
    fields = body_fields(b"user=a&password=hunter2", "application/x-www-form-urlencoded", 1000)
    assert fields["body"] == "user=a&password=%5Bredacted%5D" and "hunter2" not in str(fields)
    binary = body_fields(b"\xff\xfe\x00", "application/octet-stream", 1000)
    assert binary.get("body") is None and binary["body_note"] == "not kept: not UTF-8 text"
    assert binary["body_sha256"] == hashlib.sha256(b"\xff\xfe\x00").hexdigest()
