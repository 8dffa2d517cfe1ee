"""Random, signed item serials (AI 21) that a scan can check offline of the database.

Layout: 10 random characters followed by a 6-character signature, 16 characters in all,
well under the 20 that AI 21 allows, which keeps the QR small enough to print at 20 mm.

Odds: the random part carries 50 bits, so serials cannot be enumerated from a known one
and two items of the same lot collide with probability about n**2 / 2**51 (4e-4 for a
million items; the database's uniqueness constraint catches that rare case). The
signature is 30 bits of HMAC-SHA256 over (GTIN, lot, random part): without the key a
forger passes one check in 2**30 (about 1 in a billion) per attempt, and each attempt
needs a scan to the online check, which the app rate-limits. A longer signature would
buy little against that and cost QR modules on every label.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets

from labels.digital_link import normalize_gtin

# 32 symbols, all unreserved in URIs and in GS1 set 82, so no percent-encoding; 0/O and
# 1/I are left out because people retype serials from the label when a scan fails.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RANDOM_LEN = 10
SIG_LEN = 6
SERIAL_LEN = RANDOM_LEN + SIG_LEN
_BITS = 5  # log2(len(ALPHABET))
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}

# Domain separation: the app's secret also signs sessions, so a serial MAC must never be
# a valid MAC for anything else; 0x1D (GS) cannot occur in set-82 values, so fields cannot
# be shifted from one into another.
_CONTEXT = b"tracegraph/serial/v1"
_SEP = b"\x1d"


class SerialCheck(enum.Enum):
    """Outcome of checking a serial: the consumer page says different things for each."""

    VALID = "valid"
    MALFORMED = "malformed"  # not one of ours: 未知编码 unknown code
    BAD_SIGNATURE = "bad_signature"  # our shape, wrong MAC: 签名无效 / 疑似仿冒


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    # Only emptiness is refused here: the app already refuses to start in production
    # without a real SECRET_KEY, and tests legitimately use short ones.
    if not isinstance(key, bytes) or not key:
        raise ValueError("serial signing key must be a non-empty str or bytes")
    return key


def _signature(key: bytes, gtin14: str, lot: str, random_part: str) -> str:
    msg = _SEP.join((_CONTEXT, gtin14.encode(), lot.encode("utf-8"), random_part.encode()))
    digest = hmac.new(key, msg, hashlib.sha256).digest()
    bits = int.from_bytes(digest[:4], "big") >> (32 - SIG_LEN * _BITS)
    return "".join(ALPHABET[(bits >> (_BITS * (SIG_LEN - 1 - i))) & 0x1F] for i in range(SIG_LEN))


def make_serial(key: str | bytes, gtin: str, lot: str) -> str:
    """Return a new random serial for one item of ``gtin``/``lot``, signature appended.

    Args:
        key: the app's signing secret (non-empty str or bytes).
        gtin: GTIN-8/12/13/14 of the item (signed in its 14-digit form).
        lot: the item's lot (AI 10).

    Raises:
        ValueError: if the key is empty.
        InvalidLabelData: if ``gtin`` is not a valid GTIN.
    """
    return sign_serial(key, gtin, lot, "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LEN)))


def sign_serial(key: str | bytes, gtin: str, lot: str, random_part: str) -> str:
    """Return ``random_part`` with its signature appended (make_serial's second half; fixed data sets use it).

    Raises:
        ValueError: if the key is empty or ``random_part`` is not RANDOM_LEN symbols of ALPHABET.
        InvalidLabelData: if ``gtin`` is not a valid GTIN.
    """
    if len(random_part) != RANDOM_LEN or any(ch not in _INDEX for ch in random_part):
        raise ValueError(f"the random part must be {RANDOM_LEN} characters of {ALPHABET}")
    return random_part + _signature(_key_bytes(key), normalize_gtin(gtin), lot, random_part)


def check_serial(key: str | bytes, gtin: str, lot: str, serial: str) -> SerialCheck:
    """Classify ``serial`` as valid, malformed, or well-formed with a bad signature.

    Args:
        key: the app's signing secret.
        gtin: GTIN the serial was scanned with.
        lot: lot the serial was scanned with.
        serial: the AI 21 value as scanned.

    Raises:
        ValueError: if the key is empty.
    """
    k = _key_bytes(key)
    if not isinstance(serial, str) or len(serial) != SERIAL_LEN or any(ch not in _INDEX for ch in serial):
        return SerialCheck.MALFORMED
    try:
        gtin14 = normalize_gtin(gtin)
    except ValueError:
        return SerialCheck.MALFORMED
    expected = _signature(k, gtin14, lot, serial[:RANDOM_LEN])
    # Constant time, so response timing does not leak how many signature characters matched.
    if hmac.compare_digest(expected.encode(), serial[RANDOM_LEN:].encode()):
        return SerialCheck.VALID
    return SerialCheck.BAD_SIGNATURE


def verify_serial(key: str | bytes, gtin: str, lot: str, serial: str) -> bool:
    """Return True if ``serial`` was made by :func:`make_serial` with this key, GTIN and lot.

    Args:
        key: the app's signing secret.
        gtin: GTIN the serial was scanned with.
        lot: lot the serial was scanned with.
        serial: the AI 21 value as scanned.

    Raises:
        ValueError: if the key is empty.
    """
    return check_serial(key, gtin, lot, serial) is SerialCheck.VALID
