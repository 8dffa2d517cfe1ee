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
