import pytest

from gs1.errors import InvalidIdentifier
from gs1.keys import (
    CHARSET_82,
    check_digit,
    is_valid_gtin,
    validate_gln,
    validate_gtin,
    validate_lot,
    validate_serial,
    validate_sscc,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("0952012345678", "8"),  # GTIN-14 09520123456788
        ("690123456789", "2"),  # GTIN-13 6901234567892
        ("9501234", "6"),  # GTIN-8 95012346
        ("10614141234567890", "8"),  # SSCC 106141412345678908 (EPC Tag Data Standard example)
        ("061414107346", "7"),  # GLN 0614141073467
    ],
)
def test_check_digit_matches_gs1_mod10(body, expected):
    assert check_digit(body) == expected


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [
        ("95012346", "00000095012346"),
        ("614141000005", "00614141000005"),
        ("6901234567892", "06901234567892"),
        ("09520123456788", "09520123456788"),
    ],
)
def test_validate_gtin_normalises_every_length_to_gtin14(gtin, gtin14):
    assert validate_gtin(gtin) == gtin14


def test_bad_gtin_check_digit_names_found_and_expected_digit():
    with pytest.raises(InvalidIdentifier, match="GTIN 06901234567891 has check digit 1, expected 2"):
        validate_gtin("06901234567891")


FULL_WIDTH_GTIN = "".join(chr(0xFF10 + int(d)) for d in "06901234567892")


@pytest.mark.parametrize("bad", ["", "123", "0690123456789X", "069012345678921", FULL_WIDTH_GTIN, 6901234567892])
def test_validate_gtin_rejects_non_gtins(bad):
    with pytest.raises(InvalidIdentifier):
        validate_gtin(bad)
    assert not is_valid_gtin(bad)


def test_invalid_identifier_is_a_value_error():
    with pytest.raises(ValueError):
        validate_gtin("1")


def test_gln_and_sscc_check_digits():
    assert validate_gln("0614141073467") == "0614141073467"
    assert validate_sscc("106141412345678908") == "106141412345678908"
    with pytest.raises(InvalidIdentifier, match="GLN 0614141073468 has check digit 8, expected 7"):
        validate_gln("0614141073468")
    with pytest.raises(InvalidIdentifier, match="expected 8"):
        validate_sscc("106141412345678900")
    with pytest.raises(InvalidIdentifier, match="expected 13"):
        validate_gln("614141073467")


def test_charset_82_has_82_characters():
    assert len(CHARSET_82) == 82
    assert " " not in CHARSET_82 and "#" not in CHARSET_82 and "~" not in CHARSET_82


def test_lot_and_serial_accept_every_set82_symbol():
    assert validate_lot("!\"%&'()*+,-./:;<=>?_") == "!\"%&'()*+,-./:;<=>?_"
    assert validate_serial("Ab9") == "Ab9"


@pytest.mark.parametrize(("value", "bad"), [("LOT 1", " "), ("A#1", "#"), ("人参01", "人"), ("a~b", "~")])
def test_lot_error_names_the_bad_character(value, bad):
    with pytest.raises(InvalidIdentifier, match=f"character {bad!r}"):
        validate_lot(value)


def test_lot_and_serial_length_limits():
    validate_lot("X" * 20)
    with pytest.raises(InvalidIdentifier, match="at most 20"):
        validate_lot("X" * 21)
    with pytest.raises(InvalidIdentifier, match="at most 20"):
        validate_serial("1" * 21)
    with pytest.raises(InvalidIdentifier, match="empty"):
        validate_serial("")


def _message(call, *args) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        call(*args)
    return str(caught.value)


def test_check_digit_of_every_body_length_and_weight_position():
    # Weights 3,1,3,... from the right: a single digit d weighs 3, "d0" weighs 1 on d; all-zero bodies give 0.
    assert [check_digit(str(d)) for d in range(10)] == ["0", "7", "4", "1", "8", "5", "2", "9", "6", "3"]
    assert check_digit("10") == "9" and check_digit("01") == "7"
    assert check_digit("0000000") == "0" and check_digit("") == "0"
    assert check_digit("9999999999999") == "7"  # 9 * (7 * 3 + 6 * 1) = 243


def test_numeric_key_messages_name_the_key_the_value_and_what_is_expected():
    assert _message(validate_gtin, 6901234567892) == "GTIN must be a string of digits, got int"
    assert _message(validate_gtin, None) == "GTIN must be a string of digits, got NoneType"
    assert _message(validate_gtin, "0690123456789X") == "GTIN '0690123456789X' must contain digits only"
    assert _message(validate_gtin, FULL_WIDTH_GTIN) == f"GTIN {FULL_WIDTH_GTIN!r} must contain digits only"
    assert _message(validate_gtin, "") == "GTIN '' must contain digits only"
    assert _message(validate_gtin, "123") == "GTIN 123 has 3 digits, expected 8/12/13/14"
    assert _message(validate_gtin, "069012345678921") == "GTIN 069012345678921 has 15 digits, expected 8/12/13/14"
    assert _message(validate_gln, "614141073467") == "GLN 614141073467 has 12 digits, expected 13"
    assert _message(validate_gln, "0614141073468") == "GLN 0614141073468 has check digit 8, expected 7"
    assert _message(validate_sscc, "10614141234567890") == "SSCC 10614141234567890 has 17 digits, expected 18"
    assert _message(validate_sscc, "106141412345678900") == "SSCC 106141412345678900 has check digit 0, expected 8"
    assert _message(validate_sscc, "1061414123456789O8") == "SSCC '1061414123456789O8' must contain digits only"


def test_numeric_keys_are_read_without_surrounding_whitespace():
    assert validate_gtin(" 6901234567892\n") == "06901234567892"
    assert validate_gln("\t0614141073467 ") == "0614141073467"
    assert validate_sscc(" 106141412345678908 ") == "106141412345678908"
    assert _message(validate_gtin, " 123 ") == "GTIN 123 has 3 digits, expected 8/12/13/14"


@pytest.mark.parametrize("gtin", ["95012346", "614141000005", "6901234567892", "09520123456788"])
def test_is_valid_gtin_accepts_every_length(gtin):
    assert is_valid_gtin(gtin) is True


def test_charset82_messages_name_the_value_its_length_and_the_bad_character():
    assert _message(validate_lot, 12) == "lot (AI 10) must be a string, got int"
    assert _message(validate_lot, "") == "lot (AI 10) must not be empty"
    assert _message(validate_serial, "") == "serial (AI 21) must not be empty"
    assert _message(validate_lot, "X" * 21) == f"lot (AI 10) {'X' * 21!r} has 21 characters, at most 20 allowed"
    assert _message(validate_serial, "1" * 21) == f"serial (AI 21) {'1' * 21!r} has 21 characters, at most 20 allowed"
    assert _message(validate_lot, "LOT 1") == (
        "lot (AI 10) 'LOT 1' has character ' ' (U+0020) at position 4, "
        "which is not in GS1 AI encodable character set 82")
    assert _message(validate_serial, "#") == (
        "serial (AI 21) '#' has character '#' (U+0023) at position 1, "
        "which is not in GS1 AI encodable character set 82")
    assert _message(validate_lot, "人参01") == (
        "lot (AI 10) '人参01' has character '人' (U+4EBA) at position 1, "
        "which is not in GS1 AI encodable character set 82")
    assert validate_lot("X") == "X" and validate_serial("Y" * 20) == "Y" * 20


def test_charset_82_is_exactly_the_gs1_table():
    expected = set("!\"%&'()*+,-./:;<=>?_") | {chr(c) for c in range(ord("0"), ord("9") + 1)}
    expected |= {chr(c) for c in range(ord("A"), ord("Z") + 1)} | {chr(c) for c in range(ord("a"), ord("z") + 1)}
    assert CHARSET_82 == expected
