"""Digital Link parsing and building: the exact refusal for each malformed part, and every accepted variant."""

import pytest

from gs1.digital_link import (
    PRIMARY_KEYS,
    DigitalLinkParts,
    GtinPath,
    build_path,
    build_uri,
    decode_value,
    element_string,
    parse_elements,
    parse_path,
    validate_yymmdd,
)
from gs1.errors import InvalidIdentifier

GTIN = "09520123456788"


def _refusal(call, *args, **kwargs) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        call(*args, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [("AB%2", "malformed percent-escape in 'AB%2'"), ("%", "malformed percent-escape in '%'"),
     ("%zz", "malformed percent-escape in '%zz'"), ("a%2G", "malformed percent-escape in 'a%2G'"),
     ("a%FF", "percent-escapes in 'a%FF' are not UTF-8"), ("%C3", "percent-escapes in '%C3' are not UTF-8")],
)
def test_decode_value_refusals(text, message):
    assert _refusal(decode_value, text) == message


def test_decode_value_reads_utf8_and_either_hex_case():
    assert decode_value("%e4%ba%ba%E5%8F%82") == "人参" and decode_value("a%2fb%2Fc") == "a/b/c"
    assert decode_value("plain") == "plain" and decode_value("") == ""


@pytest.mark.parametrize("value", ["260100", "261231", "260229", "000101", "991130", "260131", "261031"])
def test_yymmdd_accepts_day_zero_and_every_month(value):
    assert validate_yymmdd(value) == value


@pytest.mark.parametrize("value", ["261300", "260001", "260132", "26123", "2612310", "26-231", 261231, None])
def test_yymmdd_refusal_names_the_value(value):
    assert _refusal(validate_yymmdd, value) == f"date {value!r} is not a YYMMDD date"
    assert _refusal(validate_yymmdd, value, "AI 17") == f"AI 17 {value!r} is not a YYMMDD date"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("/x/y", "no GS1 primary key found in Digital Link path '/x/y'"),
        ("https://id.gs1.org/01", "no GS1 primary key found in Digital Link path '/01'"),
        ("/01/09520123456788/10/", "no GS1 primary key found in Digital Link path '/01/09520123456788/10/'"),
        ("https://id.gs1.org/01/09520123456788/254/x",
         "AI 254 is not a key qualifier of AI 01 in 'https://id.gs1.org/01/09520123456788/254/x'"),
        ("/00/106141412345678908/21/x", "AI 21 is not a key qualifier of AI 00 in '/00/106141412345678908/21/x'"),
        ("/01/09520123456788/21/x/10/y", "key qualifier AI 10 is out of order in '/01/09520123456788/21/x/10/y'"),
        ("/01/09520123456788/21/x/21/y", "key qualifier AI 21 is out of order in '/01/09520123456788/21/x/21/y'"),
        ("/01/09520123456789", "GTIN 09520123456789 has check digit 9, expected 8"),
        ("/01/095201234567880", "GTIN 095201234567880 has 15 digits, expected 8/12/13/14"),
        ("/8006/040123451234570102", "GTIN 04012345123457 has check digit 7, expected 6"),
        ("/414/0614141073468", "GLN 0614141073468 has check digit 8, expected 7"),
        ("/417/1234567890127", "GLN 1234567890127 has check digit 7, expected 8"),
        ("/00/106141412345678900", "SSCC 106141412345678900 has check digit 0, expected 8"),
        ("/01/09520123456788/10/A%20B", "lot (AI 10) 'A B' has character ' ' (U+0020) at position 2, "
         "which is not in GS1 AI encodable character set 82"),
        ("/01/09520123456788/21/" + "x" * 21, f"serial (AI 21) {'x' * 21!r} has 21 characters, at most 20 allowed"),
        ("/414/0614141073467/254/a%20b", "GLN extension (AI 254) 'a b' has character ' ' (U+0020) at position 2, "
         "which is not in GS1 AI encodable character set 82"),
        ("/414/0614141073467/254/" + "1" * 21,
         f"GLN extension (AI 254) {'1' * 21!r} has 21 characters, at most 20 allowed"),
        ("/01/09520123456788?17=261332", "AI 17 '261332' is not a YYMMDD date"),
        ("/01/09520123456788?11=2613", "AI 11 '2613' is not a YYMMDD date"),
        ("/01/09520123456788?12=x&15=261231", "AI 12 'x' is not a YYMMDD date"),
        ("/01/09520123456788?13=261232", "AI 13 '261232' is not a YYMMDD date"),
        ("/01/09520123456788?15=1", "AI 15 '1' is not a YYMMDD date"),
        ("/01/09520123456788?16=1", "AI 16 '1' is not a YYMMDD date"),
        ("/01/09520123456788?17=%zz", "malformed percent-escape in '%zz'"),
        ("/01/0952012345678%", "malformed percent-escape in '0952012345678%'"),
    ],
)
def test_parse_elements_refusals(uri, message):
    assert _refusal(parse_elements, uri) == message


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("https://id.gs1.org/01/09520123456788?&&17=261231&17&linkType=pip&10=A%2FB&",
         DigitalLinkParts("01", GTIN, {}, {"17": "261231", "10": "A/B"}, "")),
        ("HTTPS://id.gs1.org/01/09520123456788/", DigitalLinkParts("01", GTIN)),
        ("/01/09520123456788?99=a=b&98==", DigitalLinkParts("01", GTIN, {}, {"99": "a=b", "98": "="})),
        ("HTTP://id.gs1.org/01/09520123456788/10/L", DigitalLinkParts("01", GTIN, {"10": "L"})),
        ("http://x.example/a/b/01/09520123456788/22/V/10/L/21/S?3103=000500",
         DigitalLinkParts("01", GTIN, {"22": "V", "10": "L", "21": "S"}, {"3103": "000500"}, "/a/b")),
        ("/01/01/09520123456788", DigitalLinkParts("01", GTIN, prefix="/01")),
        ("01/09520123456788?17=261231", DigitalLinkParts("01", GTIN, {}, {"17": "261231"})),
        ("/8006/040123451234560102/21/x", DigitalLinkParts("8006", "040123451234560102", {"21": "x"})),
        ("/8010/0614141123ABC/8011/1", DigitalLinkParts("8010", "0614141123ABC", {"8011": "1"})),
        ("/414/0614141073467/254/a%2Fb", DigitalLinkParts("414", "0614141073467", {"254": "a/b"})),
        ("/417/1234567890128", DigitalLinkParts("417", "1234567890128")),
        ("/00/106141412345678908", DigitalLinkParts("00", "106141412345678908")),
        ("/8018/061414112345678902/8019/7", DigitalLinkParts("8018", "061414112345678902", {"8019": "7"})),
        ("/253/0614141123452400", DigitalLinkParts("253", "0614141123452400")),
    ],
)
def test_parse_elements_reads_every_part(uri, parts):
    assert parse_elements(uri) == parts


def test_primary_keys_and_their_qualifier_order():
    assert PRIMARY_KEYS["01"] == ("22", "10", "21") and PRIMARY_KEYS["8006"] == ("22", "10", "21")
    assert PRIMARY_KEYS["414"] == ("254",) and PRIMARY_KEYS["8010"] == ("8011",)
    assert PRIMARY_KEYS["8017"] == PRIMARY_KEYS["8018"] == ("8019",)
    assert sorted(PRIMARY_KEYS) == sorted(["01", "8006", "8010", "414", "417", "00", "253", "255", "401", "402",
                                           "8003", "8004", "8013", "8017", "8018"])


def test_parse_path_refuses_other_keys_and_copies_the_query():
    assert _refusal(parse_path, "https://id.gs1.org/414/9520123456788") == (
        "Digital Link 'https://id.gs1.org/414/9520123456788' identifies AI 414, not a GTIN (AI 01)")
    assert _refusal(parse_path, "/8006/040123451234560102") == (
        "Digital Link '/8006/040123451234560102' identifies AI 8006, not a GTIN (AI 01)")
    assert parse_path("/01/95012346/21/S?11=250101") == GtinPath("00000095012346", None, "S", {"11": "250101"})
    assert parse_path("/01/09520123456788") == GtinPath(GTIN)


def test_build_path_encodes_every_value():
    assert build_path("01", GTIN) == "/01/09520123456788"
    assert build_path("414", "0614141073467", []) == "/414/0614141073467"
    assert build_path("8010", "0614141/A", [("8011", "1 2")]) == "/8010/0614141%2FA/8011/1%202"
    assert build_path("01", GTIN, [("10", "L"), ("21", "S")]) == "/01/09520123456788/10/L/21/S"


def test_build_uri_writes_query_ais_by_length_then_value_and_checks_each():
    assert build_uri("http://x.example", GTIN, query={"3103": "000500", "17": "261231", "11": "250101"}) == (
        "http://x.example/01/09520123456788?11=250101&17=261231&3103=000500")
    assert build_uri("https://x.example///", GTIN, serial="S", query={}) == "https://x.example/01/09520123456788/21/S"
    assert build_uri("https://x.example", GTIN, query={"99": "x/" * 45}).endswith("?99=" + "x%2F" * 45)
    assert _refusal(build_uri, "ftp://x.example", GTIN) == (
        "Digital Link base 'ftp://x.example' must start with https:// or http://")
    assert _refusal(build_uri, "x.example", "1") == "Digital Link base 'x.example' must start with https:// or http://"
    assert _refusal(build_uri, "https://x", GTIN, query={"17": "261231", "linkType": "pip"}) == (
        "query key 'linkType' is not a GS1 Application Identifier")
    assert _refusal(build_uri, "https://x", GTIN, query={"3103": "x y"}) == (
        "AI 3103 'x y' has character ' ' (U+0020) at position 2, which is not in GS1 AI encodable character set 82")
    assert _refusal(build_uri, "https://x", GTIN, query={"99": "x" * 91}) == (
        f"AI 99 {'x' * 91!r} has 91 characters, at most 90 allowed")
    assert _refusal(build_uri, "https://x", GTIN, query={"15": "261232"}) == "AI 15 '261232' is not a YYMMDD date"
    assert _refusal(build_uri, "https://x", GTIN, lot="") == "lot (AI 10) must not be empty"
    assert _refusal(build_uri, "https://x", GTIN, serial="") == "serial (AI 21) must not be empty"
    assert _refusal(build_uri, "https://x", "123") == "GTIN 123 has 3 digits, expected 8/12/13/14"


def test_element_string_writes_dates_in_ai_order_and_leaves_out_other_ais():
    query = {"3103": "1", "17": "261231", "11": "250101", "13": "250102", "15": "261130", "16": "261129",
             "12": "250103"}
    assert element_string(GTIN, lot="L", serial="S", query=query) == (
        "(01)09520123456788(11)250101(12)250103(13)250102(15)261130(16)261129(17)261231(10)L(21)S")
    assert element_string(GTIN, lot="L") == "(01)09520123456788(10)L"
    assert _refusal(element_string, GTIN, query={"11": "2501"}) == "AI 11 '2501' is not a YYMMDD date"
    assert _refusal(element_string, GTIN, serial="") == "serial (AI 21) must not be empty"
    assert _refusal(element_string, GTIN, lot="a b") == (
        "lot (AI 10) 'a b' has character ' ' (U+0020) at position 2, which is not in GS1 AI encodable character set 82")


def test_build_uri_orders_query_ais_by_length_before_value_and_keeps_the_base_path():
    assert build_uri("https://r.example/X", GTIN, query={"8008": "26010112", "91": "a", "10": "L"}) == (
        "https://r.example/X/01/09520123456788?10=L&91=a&8008=26010112")
    assert build_uri("https://r.example/pX//", GTIN) == "https://r.example/pX/01/09520123456788"
