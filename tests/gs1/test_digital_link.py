import pytest

from gs1.digital_link import (
    DEFAULT_BASE,
    build_uri,
    decode_value,
    element_string,
    encode_value,
    parse_elements,
    parse_path,
)
from gs1.errors import InvalidIdentifier
from gs1.keys import CHARSET_82


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("ABC-1.2_x", "ABC-1.2_x"),
        ("A/B", "A%2FB"),
        ("100%", "100%25"),
        ("a?b#", "a%3Fb%23"),
        ("x&y+z", "x%26y%2Bz"),
        ("!\"'()*,:;<=>", "%21%22%27%28%29%2A%2C%3A%3B%3C%3D%3E"),
    ],
)
def test_encode_value_follows_digital_link_percent_encoding(raw, encoded):
    assert encode_value(raw) == encoded
    assert decode_value(encoded) == raw


def test_every_set82_character_outside_unreserved_is_percent_encoded():
    unreserved = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._")
    for ch in sorted(CHARSET_82):
        expected = ch if ch in unreserved else f"%{ord(ch):02X}"
        assert encode_value(ch) == expected


def test_decode_value_rejects_malformed_escape():
    with pytest.raises(InvalidIdentifier, match="percent-escape"):
        decode_value("AB%2")


def test_build_uri_with_lot_serial_and_dates():
    query = {"17": "261231", "11": "250101"}
    uri = build_uri("https://id.gs1.org/", "9520123456788", lot="ABC1", serial="xyz", query=query)
    assert uri == "https://id.gs1.org/01/09520123456788/10/ABC1/21/xyz?11=250101&17=261231"


def test_build_uri_encodes_set82_symbols_in_lot():
    assert build_uri("https://r.example.cn", "06901234567892", lot="2024/09+A") == (
        "https://r.example.cn/01/06901234567892/10/2024%2F09%2BA"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gtin": "06901234567891"},
        {"gtin": "06901234567892", "lot": "A B"},
        {"gtin": "06901234567892", "serial": "X" * 21},
        {"gtin": "06901234567892", "query": {"17": "261332"}},
        {"gtin": "06901234567892", "query": {"linkType": "pip"}},
    ],
)
def test_build_uri_rejects_bad_input(kwargs):
    with pytest.raises(InvalidIdentifier):
        build_uri("https://id.gs1.org", **kwargs)


def test_parse_path_round_trips_build_uri():
    uri = build_uri("https://id.gs1.org", "06901234567892", lot="R/2024%", serial="S:1", query={"17": "261231"})
    parsed = parse_path(uri)
    assert (parsed.gtin, parsed.lot, parsed.serial) == ("06901234567892", "R/2024%", "S:1")
    assert parsed.query == {"17": "261231"}


def test_parse_path_accepts_bare_path_and_ignores_non_ai_query():
    parsed = parse_path("/01/9520123456788/10/ABC1?17=261231&linkType=gs1:pip")
    assert parsed.gtin == "09520123456788"
    assert parsed.lot == "ABC1" and parsed.serial is None
    assert parsed.query == {"17": "261231"}


def test_parse_elements_finds_key_after_a_resolver_path_prefix():
    parts = parse_elements("https://example.com/products/01/09520123456788/21/xyz")
    assert (parts.primary_ai, parts.primary_value, parts.qualifiers, parts.prefix) == (
        "01", "09520123456788", {"21": "xyz"}, "/products"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/09520123456789",  # check digit
        "https://id.gs1.org/01/09520123456788/21/x/10/y",  # qualifier order
        "https://id.gs1.org/01/09520123456788/254/x",  # not a GTIN qualifier
        "https://id.gs1.org/01/09520123456788/10/ABC1?17=991340",  # bad date
        "https://id.gs1.org/01/09520123456788/10/A%2",  # malformed escape
    ],
)
def test_parse_path_rejects_invalid_links(uri):
    with pytest.raises(InvalidIdentifier):
        parse_path(uri)


def test_parse_path_refuses_a_non_gtin_key():
    with pytest.raises(InvalidIdentifier, match="not a GTIN"):
        parse_path("https://id.gs1.org/414/9520123456788")


def test_default_base_is_the_gs1_resolver():
    assert DEFAULT_BASE == "https://id.gs1.org"


def test_element_string_puts_dates_before_lot_and_serial_unencoded():
    es = element_string("6901234567885", "A/B%C", "SER1", {"17": "260831", "11": "240901", "linkType": "x"})
    assert es == "(01)06901234567885(11)240901(17)260831(10)A/B%C(21)SER1"
    assert element_string("06901234567892") == "(01)06901234567892"
    assert element_string("06901234567892", serial="S1") == "(01)06901234567892(21)S1"


@pytest.mark.parametrize(
    "kwargs",
    [{"gtin": "06901234567891"}, {"gtin": "06901234567892", "lot": ""}, {"gtin": "06901234567892", "serial": "X" * 21},
     {"gtin": "06901234567892", "query": {"17": "261332"}}],
)
def test_element_string_rejects_bad_input(kwargs):
    with pytest.raises(InvalidIdentifier):
        element_string(**kwargs)
