"""The subscriber's signature token at rest: AES-256-GCM under the notification key, bound to its subscription."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from app.subscriptions import seal, unseal

KEY = b"k" * 32
TOKEN = "13df38d8275b13f05704629e5f1cf3d45d6132d5"


def test_a_sealed_token_opens_only_for_its_subscription_and_key():
    sealed = seal(KEY, "sub-1", TOKEN)
    assert TOKEN not in sealed and sealed != seal(KEY, "sub-1", TOKEN)  # a fresh nonce each time
    assert unseal(KEY, "sub-1", sealed) == TOKEN
    with pytest.raises(InvalidTag):
        unseal(KEY, "sub-2", sealed)  # copied onto another subscription
    with pytest.raises(InvalidTag):
        unseal(b"j" * 32, "sub-1", sealed)  # another server key
