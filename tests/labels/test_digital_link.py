from datetime import date

import pytest

from gs1 import digital_link as dl
from labels.digital_link import InvalidLabelData, build_uri, element_string, normalize_gtin

BASE = "https://id.tracegraph.cn"


def test_uri_has_path_qualifiers_in_grammar_order_and_dates_in_query():
    uri = build_uri(BASE, "06901234567892", "FS2024", "ABC123", expiry=date(2026, 8, 31), production=date(2024, 9, 1))
    assert uri == "https://id.tracegraph.cn/01/06901234567892/10/FS2024/21/ABC123?11=240901&17=260831"


def test_uri_without_serial_or_dates_is_gtin_and_lot_only():
    assert build_uri(BASE + "/", "06901234567892", "L1") == "https://id.tracegraph.cn/01/06901234567892/10/L1"


def test_expiry_alone_goes_in_query():
    assert build_uri(BASE, "06901234567892", "L1", expiry=date(2025, 1, 2)).endswith("/10/L1?17=250102")


def test_short_gtins_are_padded_to_14_digits():
    assert normalize_gtin("6901234567885") == "06901234567885"
    assert "/01/06901234567885/" in build_uri(BASE, "6901234567885", "L1")


@pytest.mark.parametrize("gtin", ["06901234567893", "123", "0690123456789X", "", "069012345678920"])
def test_bad_gtins_are_refused(gtin):
    with pytest.raises(InvalidLabelData):
        build_uri(BASE, gtin, "L1")


def test_awkward_lot_is_percent_encoded_per_digital_link_rules():
    uri = build_uri(BASE, "06901234567892", "A/B%C")
    assert uri.endswith("/10/A%2FB%25C")


@pytest.mark.parametrize("lot", ["A B", "A#B", "批号1", "A~B", "", "X" * 21, 'A"B'])
def test_lots_that_cannot_be_printed_are_refused(lot):
    with pytest.raises(InvalidLabelData):
        build_uri(BASE, "06901234567892", lot)


def test_serial_over_20_characters_is_refused():
    with pytest.raises(InvalidLabelData, match="serial"):
        build_uri(BASE, "06901234567892", "L1", "S" * 21)


@pytest.mark.parametrize(
    "base", ["ftp://x.cn", "https://x.cn?a=1", "id.tracegraph.cn", "https://x.cn#f", "https://x y"]
)
def test_bad_resolver_bases_are_refused(base):
    with pytest.raises(InvalidLabelData):
        build_uri(base, "06901234567892", "L1")


def test_resolver_base_may_carry_a_path():
    assert build_uri("https://x.cn/dl", "06901234567892", "L1") == "https://x.cn/dl/01/06901234567892/10/L1"


def test_dates_outside_the_yymmdd_window_are_refused():
    with pytest.raises(InvalidLabelData):
        build_uri(BASE, "06901234567892", "L1", expiry=date(2051, 1, 1))


def test_element_string_puts_fixed_length_ais_first():
    es = element_string("6901234567885", "A/B%C", "SER1", expiry=date(2026, 8, 31), production=date(2024, 9, 1))
    assert es == "(01)06901234567885(11)240901(17)260831(10)A/B%C(21)SER1"


def test_element_string_without_optional_parts():
    assert element_string("06901234567892", "L1") == "(01)06901234567892(10)L1"


def test_label_uri_and_element_string_are_the_gs1_ones():
    # labels/ only adds printing rules: what it prints is exactly what gs1/ builds and the resolver parses.
    query = {"11": "240901", "17": "260831"}
    uri = build_uri(BASE, "6901234567885", "A/B%C", "SER1", expiry=date(2026, 8, 31), production=date(2024, 9, 1))
    assert uri == dl.build_uri(BASE, "6901234567885", "A/B%C", "SER1", query)
    es = element_string("6901234567885", "A/B%C", "SER1", expiry=date(2026, 8, 31), production=date(2024, 9, 1))
    assert es == dl.element_string("6901234567885", "A/B%C", "SER1", query)


def test_invalid_label_data_is_a_value_error():
    with pytest.raises(ValueError):
        element_string("06901234567892", "")
