"""The reference receiver code in docs/notifications.md (run as printed there) refuses a bad signature and a
replayed timestamp, and accepts what the worker signs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

import pytest

from graph import notify_rules
from tests.notify.receivers import WebhookReceiver, reference_code

SECRET = "whsec_" + "ab" * 32


def _headers(body: bytes, stamp: int, secret: str = SECRET, delivery: str = "d-1") -> dict:
    # computed here, independently of graph/notify_rules.sign
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-TraceGraph-Timestamp": str(stamp), "X-TraceGraph-Signature": f"v1={mac}",
            "X-TraceGraph-Delivery": delivery}


def test_reference_code_accepts_a_genuine_fresh_request():
    ref = reference_code()
    body = b'{"recall_id":"RC-1"}'
    now = int(time.time())
    assert ref["verify"](SECRET, _headers(body, now), body) == "d-1"
    # what the worker signs is what the receiver checks
    signed = {"X-TraceGraph-Timestamp": str(now), "X-TraceGraph-Delivery": "d-2",
              "X-TraceGraph-Signature": notify_rules.sign(SECRET, now, body)}
    assert ref["verify"](SECRET, signed, body) == "d-2"


def test_reference_code_refuses_a_bad_signature():
    ref = reference_code()
    body = b'{"recall_id":"RC-1","level":1}'
    now = int(time.time())
    headers = _headers(body, now)
    with pytest.raises(ref["Refused"], match="bad signature"):
        ref["verify"](SECRET, headers, body.replace(b"1}", b"3}"))  # the body changed on the way
    with pytest.raises(ref["Refused"], match="bad signature"):
        ref["verify"]("whsec_other", headers, body)  # signed with another party's secret
    with pytest.raises(ref["Refused"], match="bad signature"):
        ref["verify"](SECRET, {**headers, "X-TraceGraph-Timestamp": str(now + 1)}, body)  # timestamp is signed


def test_reference_code_refuses_a_replayed_timestamp():
    ref = reference_code()
    body = b'{"recall_id":"RC-1"}'
    captured = int(time.time()) - 301  # a genuine request, replayed five minutes later
    with pytest.raises(ref["Refused"], match="tolerance"):
        ref["verify"](SECRET, _headers(body, captured), body)
    assert ref["verify"](SECRET, _headers(body, captured + 2), body) == "d-1"  # inside the window it passes
    with pytest.raises(ref["Refused"]):
        ref["verify"](SECRET, {k: v for k, v in _headers(body, captured).items()
                               if k != "X-TraceGraph-Timestamp"}, body)
    seen = ref["Deliveries"]()
    assert seen.first_time("d-1") and not seen.first_time("d-1")


def test_the_live_receiver_answers_401_to_a_forged_request():
    receiver = WebhookReceiver()
    try:
        receiver.secrets["6990000000001"] = SECRET
        body = json.dumps({"recall_id": "RC-X"}).encode()
        forged = urllib.request.Request(receiver.url("6990000000001"), data=body, method="POST",
                                        headers=_headers(body, int(time.time()), secret="whsec_guess"))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)
        refused.value.close()
        assert refused.value.code == 401 and receiver.received == []
        replay = urllib.request.Request(receiver.url("6990000000001"), data=body, method="POST",
                                        headers=_headers(body, int(time.time()) - 3600))
        with pytest.raises(urllib.error.HTTPError) as old:
            urllib.request.urlopen(replay, timeout=5)
        old.value.close()
        assert old.value.code == 401 and receiver.received == []
    finally:
        receiver.close()
