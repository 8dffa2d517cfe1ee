import pytest

from labels.serials import ALPHABET, SERIAL_LEN, SerialCheck, check_serial, make_serial, verify_serial
from tests.labels.cases import GINSENG_GTIN, KEY

LOT = "FS2024-0901"


def _other_char(ch: str) -> str:
    return ALPHABET[(ALPHABET.index(ch) + 1) % len(ALPHABET)]


def test_serial_is_16_unambiguous_characters_within_ai21_limit():
    serial = make_serial(KEY, GINSENG_GTIN, LOT)
    assert len(serial) == SERIAL_LEN == 16 <= 20
    assert set(serial) <= set(ALPHABET)
    assert not set("01OI") & set(ALPHABET)


def test_right_serial_verifies():
    serial = make_serial(KEY, GINSENG_GTIN, LOT)
    assert verify_serial(KEY, GINSENG_GTIN, LOT, serial)
    assert check_serial(KEY, GINSENG_GTIN, LOT, serial) is SerialCheck.VALID


def test_key_may_be_bytes_and_gtin_may_be_short_form():
    serial = make_serial(KEY.encode(), GINSENG_GTIN, LOT)
    assert verify_serial(KEY, GINSENG_GTIN.lstrip("0"), LOT, serial)


def test_serials_are_random_not_sequential():
    serials = [make_serial(KEY, GINSENG_GTIN, LOT) for _ in range(2000)]
    assert len(set(serials)) == len(serials)
    # Consecutive serials share no long common prefix, as a counter's would.
    assert sum(a[:4] == b[:4] for a, b in zip(serials, serials[1:], strict=False)) < 5


@pytest.mark.parametrize("pos", [0, 5, 9, 10, 15])
def test_altered_character_is_a_bad_signature(pos):
    serial = make_serial(KEY, GINSENG_GTIN, LOT)
    altered = serial[:pos] + _other_char(serial[pos]) + serial[pos + 1 :]
    assert check_serial(KEY, GINSENG_GTIN, LOT, altered) is SerialCheck.BAD_SIGNATURE
    assert not verify_serial(KEY, GINSENG_GTIN, LOT, altered)


def test_forged_serial_without_the_key_is_a_bad_signature():
    forged = make_serial("attacker-key-0000000000000000", GINSENG_GTIN, LOT)
    assert check_serial(KEY, GINSENG_GTIN, LOT, forged) is SerialCheck.BAD_SIGNATURE


def test_serial_copied_to_another_lot_or_product_is_a_bad_signature():
    serial = make_serial(KEY, GINSENG_GTIN, LOT)
    assert check_serial(KEY, GINSENG_GTIN, "FS2024-0902", serial) is SerialCheck.BAD_SIGNATURE
    assert check_serial(KEY, "06951234567897", LOT, serial) is SerialCheck.BAD_SIGNATURE


@pytest.mark.parametrize("serial", ["", "SHORT", "2" * 17, "abcdefghjkmnpqrs", "0" * 16, "O" * 16, "ABCDEFGH-JKMNPQR"])
def test_malformed_serials_are_told_apart_from_bad_signatures(serial):
    assert check_serial(KEY, GINSENG_GTIN, LOT, serial) is SerialCheck.MALFORMED
    assert not verify_serial(KEY, GINSENG_GTIN, LOT, serial)


def test_unknown_gtin_is_malformed_not_an_error():
    serial = make_serial(KEY, GINSENG_GTIN, LOT)
    assert check_serial(KEY, "123", LOT, serial) is SerialCheck.MALFORMED


def test_empty_key_is_refused():
    with pytest.raises(ValueError):
        make_serial("", GINSENG_GTIN, LOT)
    with pytest.raises(ValueError):
        verify_serial(b"", GINSENG_GTIN, LOT, "2" * 16)
