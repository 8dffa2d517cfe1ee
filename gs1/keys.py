"""GS1 key check digits (GTIN, GLN, SSCC) and AI 10/21 value validation."""

from __future__ import annotations

from gs1.errors import InvalidIdentifier

# GS1 General Specifications figure 7.11-1, "GS1 AI encodable character set 82".
CHARSET_82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")

LOT_MAX_LENGTH = 20
SERIAL_MAX_LENGTH = 20


def check_digit(body: str) -> str:
    """Return the GS1 mod-10 check digit for ``body`` (all digits of a key except the last)."""
    total = 0
    # Weights alternate 3,1,3,... starting from the digit nearest the check digit.
    for i, ch in enumerate(reversed(body)):
        total += (ord(ch) - 48) * (3 if i % 2 == 0 else 1)
    return str(-total % 10)


def _validate_numeric_key(name: str, value: object, lengths: tuple[int, ...]) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{name} must be a string of digits, got {type(value).__name__}")
    s = value.strip()
    if not s.isascii() or not s.isdigit():
        raise InvalidIdentifier(f"{name} {value!r} must contain digits only")
    if len(s) not in lengths:
        allowed = "/".join(str(n) for n in lengths)
        raise InvalidIdentifier(f"{name} {s} has {len(s)} digits, expected {allowed}")
    expected = check_digit(s[:-1])
    if s[-1] != expected:
        raise InvalidIdentifier(f"{name} {s} has check digit {s[-1]}, expected {expected}")
    return s


def validate_gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it as a GTIN-14.

    Args:
        value: the GTIN as printed (8, 12, 13 or 14 digits, check digit included).

    Returns:
        The 14-digit GTIN, left-padded with zeros.

    Raises:
        InvalidIdentifier: not digits, wrong length or wrong check digit.
    """
    s = _validate_numeric_key("GTIN", value, (8, 12, 13, 14))
    return s.zfill(14)


def validate_gln(value: str) -> str:
    """Validate a 13-digit GLN and return it.

    Raises:
        InvalidIdentifier: not 13 digits or wrong check digit.
    """
    return _validate_numeric_key("GLN", value, (13,))


def validate_sscc(value: str) -> str:
    """Validate an 18-digit SSCC and return it.

    Raises:
        InvalidIdentifier: not 18 digits or wrong check digit.
    """
    return _validate_numeric_key("SSCC", value, (18,))


def is_valid_gtin(value: str) -> bool:
    """Return True when ``value`` is a GTIN-8/12/13/14 with a correct check digit."""
    try:
        validate_gtin(value)
    except InvalidIdentifier:
        return False
    return True


def validate_charset82(value: object, name: str, max_length: int) -> str:
    """Validate a value of an alphanumeric AI against character set 82 and a maximum length.

    Args:
        value: the raw (not percent-encoded) value.
        name: what to call the value in error messages, e.g. "lot (AI 10)".
        max_length: the AI's maximum length.

    Returns:
        The value unchanged.

    Raises:
        InvalidIdentifier: empty, too long, or a character outside set 82 (the message names it).
    """
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidIdentifier(f"{name} must not be empty")
    if len(value) > max_length:
        raise InvalidIdentifier(f"{name} {value!r} has {len(value)} characters, at most {max_length} allowed")
    for pos, ch in enumerate(value):
        if ch not in CHARSET_82:
            raise InvalidIdentifier(
                f"{name} {value!r} has character {ch!r} (U+{ord(ch):04X}) at position {pos + 1}, "
                "which is not in GS1 AI encodable character set 82"
            )
    return value


def validate_lot(value: str) -> str:
    """Validate a batch/lot number (AI 10: 1-20 characters of set 82) and return it.

    Raises:
        InvalidIdentifier: empty, longer than 20, or a character outside set 82.
    """
    return validate_charset82(value, "lot (AI 10)", LOT_MAX_LENGTH)


def validate_serial(value: str) -> str:
    """Validate a serial number (AI 21: 1-20 characters of set 82) and return it.

    Raises:
        InvalidIdentifier: empty, longer than 20, or a character outside set 82.
    """
    return validate_charset82(value, "serial (AI 21)", SERIAL_MAX_LENGTH)
