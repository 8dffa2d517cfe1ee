"""Every EPC scheme and Digital Link key parse_identifier knows, and the exact refusal each malformed one gets."""

import pytest

from gs1.errors import InvalidIdentifier
from gs1.identifiers import (
    KINDS,
    Ref,
    key_kind,
    key_prefix,
    parse_identifier,
    parse_location,
    ref_from_key,
)


def _refusal(uri) -> str:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_identifier(uri)
    return str(caught.value)


# GS1 EPC Tag Data Standard 2.x examples (section 6.3 / 7) and their Digital Link equivalents.
@pytest.mark.parametrize(
    ("urn", "canonical"),
    [
        ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
        ("urn:epc:id:grai:0614141.12345.a%2Fb", "https://id.gs1.org/8003/00614141123452a%2Fb"),
        ("urn:epc:id:grai:0614141.12345.*", "https://id.gs1.org/8003/00614141123452"),
        ("urn:epc:idpat:grai:0614141.12345.*", "https://id.gs1.org/8003/00614141123452"),
        ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400"),
        ("urn:epc:id:giai:0614141.a%2Fb", "https://id.gs1.org/8004/0614141a%2Fb"),
        ("urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902"),
        ("urn:epc:id:gsrnp:0614141.1234567890", "https://id.gs1.org/8017/061414112345678902"),
        ("urn:epc:id:gdti:0614141.12345.400", "https://id.gs1.org/253/0614141123452400"),
        ("urn:epc:id:gdti:0614141.12345.", "https://id.gs1.org/253/0614141123452"),
        ("urn:epc:id:gdti:0614141.12345.*", "https://id.gs1.org/253/0614141123452"),
        ("urn:epc:idpat:gdti:0614141.12345.*", "https://id.gs1.org/253/0614141123452"),
        ("urn:epc:id:sgcn:4012345.67890.04711", "https://id.gs1.org/255/401234567890104711"),
        ("urn:epc:id:sgcn:4012345.67890.", "https://id.gs1.org/255/4012345678901"),
        ("urn:epc:idpat:sgcn:4012345.67890.*", "https://id.gs1.org/255/4012345678901"),
        ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
        ("urn:epc:id:gsin:0614141.123456789", "https://id.gs1.org/402/06141411234567890"),
        ("urn:epc:id:itip:4012345.012345.01.02.987", "https://id.gs1.org/8006/040123451234560102/21/987"),
        ("urn:epc:id:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102"),
        ("urn:epc:idpat:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102"),
        ("urn:epc:id:upui:1234567.089456.51qIgY)%3C%26Jp3*j7'SDB",
         "https://id.gs1.org/01/01234567894560/235/51qIgY%29%3C%26Jp3%2Aj7%27SDB"),
        ("urn:epc:id:upui:1234567.089456.*", "https://id.gs1.org/01/01234567894560"),
        ("urn:epc:idpat:upui:1234567.089456.*", "https://id.gs1.org/01/01234567894560"),
        ("urn:epc:id:cpi:0614141.123ABC.123456789", "https://id.gs1.org/8010/0614141123ABC/8011/123456789"),
        ("urn:epc:id:cpi:0614141.5PQ7%2FZ43.12345", "https://id.gs1.org/8010/06141415PQ7%2FZ43/8011/12345"),
        ("urn:epc:id:cpi:0614141.123ABC.*", "https://id.gs1.org/8010/0614141123ABC"),
        ("urn:epc:idpat:cpi:0614141.123ABC.*", "https://id.gs1.org/8010/0614141123ABC"),
    ],
)
def test_other_gs1_epc_schemes_key_on_their_canonical_digital_link(urn, canonical):
    ref = parse_identifier(urn)
    assert (ref.kind, ref.canonical, ref.uri) == ("other", canonical, urn)
    assert ref.key == f"other:{canonical}"
    assert ref.digital_link() == canonical
    assert ref.digital_link("https://trace.example.cn/") == "https://trace.example.cn" + canonical[len("https://id.gs1.org"):]
    if ":upui:" not in urn:  # /01/{gtin}/235/{tpx} is not read back: AI 235 is not a qualifier of 01 in gs1/
        assert parse_identifier(canonical).key == ref.key


@pytest.mark.parametrize(
    "urn",
    ["urn:epc:idpat:giai:0614141.*", "urn:epc:idpat:gsrn:0614141.*", "urn:epc:idpat:gsrnp:0614141.*",
     "urn:epc:idpat:ginc:0614141.*", "urn:epc:idpat:gsin:0614141.*", "urn:epc:idpat:sgln:0614141.07346.*",
     "urn:epc:idpat:sscc:0614141.*", "urn:epc:id:bic:CSQU3054383", "urn:epc:id:usdod:2S194.12345678901",
     "urn:epc:class:x:1", "urn:epc:raw:96.x", "urn:epc:id", "urn:epc:tag:sgtin-96:3.0614141.107346.2017"],
)
def test_epc_urns_without_a_gs1_key_stay_as_received(urn):
    ref = parse_identifier(urn)
    assert (ref.kind, ref.canonical, ref.key, ref.digital_link()) == ("other", None, f"other:{urn}", urn)


@pytest.mark.parametrize(
    ("urn", "gtin"),
    [("urn:epc:id:sgtin:061414100000.1.5", "10614141000002"),  # 12-digit company prefix, 1-digit item reference
     ("urn:epc:id:sgtin:061414.1000001.5", "10614140000010"),  # 6-digit company prefix, 7-digit item reference
     ("urn:epc:id:sgtin:0614141.107346.2017.1", "10614141073464")],  # the serial may hold dots
)
def test_company_prefix_lengths_at_the_edges(urn, gtin):
    ref = parse_identifier(urn)
    assert ref.kind == "item" and ref.gtin == gtin
    assert ref.serial == urn.split(".", 2)[2]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("urn:epc:id:sgtin:0614141000000.1.5", "GS1 company prefix '0614141000000' must be 6-12 digits"),
        ("urn:epc:id:sgtin:06141.1073460.1", "GS1 company prefix '06141' must be 6-12 digits"),
        ("urn:epc:id:sgtin:061414a.107346.1", "GS1 company prefix '061414a' must be 6-12 digits"),
        ("urn:epc:id:sgtin:０６１４１４１.107346.1", "GS1 company prefix '０６１４１４１' must be 6-12 digits"),
        ("urn:epc:id:sgtin:0614141.10734.1", "item reference '10734' must be 6 digits for this company prefix"),
        ("urn:epc:id:sgtin:0614141.1073460.1", "item reference '1073460' must be 6 digits for this company prefix"),
        ("urn:epc:id:sgtin:0614141.10734a.1", "item reference '10734a' must be 6 digits for this company prefix"),
        ("urn:epc:id:sgtin:0614141.１07346.1", "item reference '１07346' must be 6 digits for this company prefix"),
        ("urn:epc:id:sgtin:0614141.107346.", "serial (AI 21) must not be empty"),
        ("urn:epc:id:sgtin:0614141.107346.a b", "serial (AI 21) 'a b' has character ' ' (U+0020) at position 2, "
         "which is not in GS1 AI encodable character set 82"),
        ("urn:epc:id:sgtin:0614141.107346." + "x" * 21,
         f"serial (AI 21) {'x' * 21!r} has 21 characters, at most 20 allowed"),
        ("urn:epc:id:sgtin:0614141.107346", "must have 3 dot-separated fields"),
        ("urn:epc:id:sscc:0614141.123456789", "serial reference '123456789' must be 10 digits for this company prefix"),
        ("urn:epc:id:sscc:0614141", "must have 2 dot-separated fields"),
        ("urn:epc:id:sscc:06141.123456789012", "GS1 company prefix '06141' must be 6-12 digits"),
        ("urn:epc:id:sgln:0614141.0734.1", "location reference '0734' must be 5 digits for this company prefix"),
        ("urn:epc:id:sgln:0614141.07346.", "GLN extension (AI 254) must not be empty"),
        ("urn:epc:id:sgln:0614141.07346." + "1" * 21,
         f"GLN extension (AI 254) {'1' * 21!r} has 21 characters, at most 20 allowed"),
        ("urn:epc:id:pgln:1234567.8901", "party reference '8901' must be 5 digits for this company prefix"),
        ("urn:epc:id:pgln:12345.6789012", "GS1 company prefix '12345' must be 6-12 digits"),
        ("urn:epc:id:sgln:06141.4107346.0", "GS1 company prefix '06141' must be 6-12 digits"),
        ("urn:epc:id:pgln:1234567.89012.1", "party reference '89012.1' must be 5 digits for this company prefix"),
        ("urn:epc:id:pgln:1234567", "must have 2 dot-separated fields"),
        ("urn:epc:class:lgtin:6901234.056789.L%20", "lot (AI 10) 'L ' has character ' ' (U+0020) at position 2, "
         "which is not in GS1 AI encodable character set 82"),
        ("urn:epc:class:lgtin:6901234.056789." + "L" * 21, f"lot (AI 10) {'L' * 21!r} has 21 characters, "
         "at most 20 allowed"),
        ("urn:epc:class:lgtin:6901234.05678.L", "item reference '05678' must be 6 digits for this company prefix"),
        ("urn:epc:idpat:sgtin:4012345.011122.5", "an EPC pattern must end in '*' after the item reference"),
        ("urn:epc:idpat:sgtin:4012345.01112.*", "item reference '01112' must be 6 digits for this company prefix"),
        ("urn:epc:id:grai:0614141.1234.400", "reference '1234' must be 5 digits for this company prefix"),
        ("urn:epc:id:grai:0614141.12345." + "s" * 17,
         f"GRAI serial {'s' * 17!r} has 17 characters, at most 16 allowed"),
        ("urn:epc:id:grai:0614141.12345", "must have 3 dot-separated fields"),
        ("urn:epc:id:giai:0614141." + "a" * 24,
         f"GIAI asset reference {'a' * 24!r} has 24 characters, at most 23 allowed"),
        ("urn:epc:id:giai:06141.12345", "GS1 company prefix '06141' must be 6-12 digits"),
        ("urn:epc:id:gsrn:0614141.123456789", "reference '123456789' must be 10 digits for this company prefix"),
        ("urn:epc:id:gsrn:06141.123456789012", "GS1 company prefix '06141' must be 6-12 digits"),
        ("urn:epc:id:grai:061414a.12345.1", "GS1 company prefix '061414a' must be 6-12 digits"),
        ("urn:epc:id:gsrnp:0614141.12345678901", "reference '12345678901' must be 10 digits for this company prefix"),
        ("urn:epc:id:gdti:0614141.1234.1", "reference '1234' must be 5 digits for this company prefix"),
        ("urn:epc:id:gdti:0614141.12345." + "9" * 18, f"serial {'9' * 18!r} has 18 characters, at most 17 allowed"),
        ("urn:epc:id:sgcn:4012345.678901.1", "reference '678901' must be 5 digits for this company prefix"),
        ("urn:epc:id:ginc:0614141." + "c" * 24,
         f"consignment reference {'c' * 24!r} has 24 characters, at most 23 allowed"),
        ("urn:epc:id:ginc:061414.", "consignment reference must not be empty"),
        ("urn:epc:id:ginc:0614.1", "GS1 company prefix '0614' must be 6-12 digits"),
        ("urn:epc:id:gsin:0614141.12345678", "reference '12345678' must be 9 digits for this company prefix"),
        ("urn:epc:id:itip:4012345.012345.1.02.987", "piece '1' must be 2 digits for this company prefix"),
        ("urn:epc:id:itip:4012345.012345.01.2.987", "total '2' must be 2 digits for this company prefix"),
        ("urn:epc:id:itip:4012345.01234.01.02.987", "item reference '01234' must be 6 digits for this company prefix"),
        ("urn:epc:id:itip:4012345.012345.01.02." + "s" * 21,
         f"serial (AI 21) {'s' * 21!r} has 21 characters, at most 20 allowed"),
        ("urn:epc:id:itip:4012345.012345.01.02", "must have 5 dot-separated fields"),
        ("urn:epc:id:upui:1234567.089456." + "t" * 29,
         f"TPX (AI 235) {'t' * 29!r} has 29 characters, at most 28 allowed"),
        ("urn:epc:id:upui:1234567.08945.x", "item reference '08945' must be 6 digits for this company prefix"),
        ("urn:epc:id:cpi:0614141.123ABC.12a", "serial '12a' must be 3 digits for this company prefix"),
        ("urn:epc:id:cpi:06141.123ABC.1", "GS1 company prefix '06141' must be 6-12 digits"),
        ("urn:epc:id:cpi:0614141.123ABC", "must have 3 dot-separated fields"),
        ("urn:epc:id:giai:0614141", "must have 2 dot-separated fields"),
        ("urn:epc:id:gsrnp:0614141", "must have 2 dot-separated fields"),
        ("urn:epc:id:gdti:0614141.12345", "must have 3 dot-separated fields"),
        ("urn:epc:id:ginc:0614141", "must have 2 dot-separated fields"),
        ("urn:epc:id:gsin:0614141", "must have 2 dot-separated fields"),
        ("urn:epc:id:upui:1234567.089456", "must have 3 dot-separated fields"),
        ("urn:epc:class:lgtin:6901234.056789", "must have 3 dot-separated fields"),
        ("urn:epc:idpat:sgtin:4012345.011122", "must have 3 dot-separated fields"),
        ("urn:epc:id:sgln:0614141.07346", "must have 3 dot-separated fields"),
    ],
)
def test_malformed_epc_urns_are_refused_naming_the_urn(uri, message):
    expected = f"{uri!r} {message}" if message.startswith("must have") else f"{uri!r}: {message}"
    assert _refusal(uri) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (12, "identifier must be a string, got int"),
        (None, "identifier must be a string, got NoneType"),
        ("", "identifier '' is empty or has surrounding whitespace"),
        (" urn:uuid:1", "identifier ' urn:uuid:1' is empty or has surrounding whitespace"),
        ("urn:uuid:1\n", "identifier 'urn:uuid:1\\n' is empty or has surrounding whitespace"),
        ("not a uri", "identifier 'not a uri' is not a URI"),
        ("1abc:x", "identifier '1abc:x' is not a URI"),
        ("a b:c", "identifier 'a b:c' is not a URI"),
        ("ä:x", "identifier 'ä:x' is not a URI"),
        ("aä:x", "identifier 'aä:x' is not a URI"),
        ("a_b:x", "identifier 'a_b:x' is not a URI"),
        (":x", "identifier ':x' is not a URI"),
        ("nocolon", "identifier 'nocolon' is not a URI"),
        ("https://id.gs1.org/01/09520123456789/21/x",
         "'https://id.gs1.org/01/09520123456789/21/x': GTIN 09520123456789 has check digit 9, expected 8"),
        ("https://id.gs1.org/01/09520123456788/10/a%2",
         "'https://id.gs1.org/01/09520123456788/10/a%2': malformed percent-escape in 'a%2'"),
        ("https://id.gs1.org/414/0614141073468",
         "'https://id.gs1.org/414/0614141073468': GLN 0614141073468 has check digit 8, expected 7"),
        ("http://id.gs1.org/00/106141412345678900",
         "'http://id.gs1.org/00/106141412345678900': SSCC 106141412345678900 has check digit 0, expected 8"),
        ("https://id.gs1.org/01/09520123456788/254/1",
         "'https://id.gs1.org/01/09520123456788/254/1': AI 254 is not a key qualifier of AI 01 in "
         "'https://id.gs1.org/01/09520123456788/254/1'"),
    ],
)
def test_refusals_of_identifiers_name_the_identifier(uri, message):
    assert _refusal(uri) == message


@pytest.mark.parametrize("uri", ["a+b.c-d:x", "z:1", "A1:2", "urn:uuid:4c3a-1", "geo:43.8,126.5",
                                 "https://example.org/asset/42", "http://example.org/01", "HTTPS://x.example/a"])
def test_uris_that_are_not_gs1_keys_are_kept_as_they_are(uri):
    ref = parse_identifier(uri)
    assert (ref.kind, ref.uri, ref.canonical, ref.key, ref.digital_link()) == ("other", uri, None, f"other:{uri}", uri)


@pytest.mark.parametrize(
    ("uri", "fields"),
    [
        ("https://id.gs1.org/01/9520123456788", {"kind": "class", "gtin": "09520123456788"}),
        ("https://id.gs1.org/01/09520123456788/10/L%2F1", {"kind": "lot", "gtin": "09520123456788", "lot": "L/1"}),
        ("https://id.gs1.org/01/09520123456788/22/CPV/10/L1", {"kind": "lot", "gtin": "09520123456788", "lot": "L1"}),
        ("https://id.gs1.org/01/09520123456788/21/S1", {"kind": "item", "gtin": "09520123456788", "serial": "S1"}),
        ("https://id.gs1.org/414/0614141073467", {"kind": "location", "gln": "0614141073467"}),
        ("https://id.gs1.org/414/0614141073467/254/0", {"kind": "location", "gln": "0614141073467"}),
        ("https://id.gs1.org/414/0614141073467/254/00", {"kind": "location", "gln": "0614141073467", "ext": "00"}),
        ("https://r.example/x/414/0614141073467/254/A%2F1", {"kind": "location", "gln": "0614141073467", "ext": "A/1"}),
        ("https://id.gs1.org/417/1234567890128", {"kind": "party", "gln": "1234567890128"}),
        ("http://id.gs1.org/00/106141412345678908", {"kind": "sscc", "sscc": "106141412345678908"}),
        ("https://id.gs1.org/8006/040123451234560102/22/V1/10/L1",
         {"kind": "other", "canonical": "https://id.gs1.org/8006/040123451234560102/10/L1"}),
        ("https://id.gs1.org/8006/040123451234560102/10/L1/21/S1",
         {"kind": "other", "canonical": "https://id.gs1.org/8006/040123451234560102/21/S1"}),
        ("https://id.gs1.org/8006/040123451234560102/22/V1/21/S1",
         {"kind": "other", "canonical": "https://id.gs1.org/8006/040123451234560102/21/S1"}),
        ("https://id.gs1.org/8017/061414112345678902/8019/1",
         {"kind": "other", "canonical": "https://id.gs1.org/8017/061414112345678902/8019/1"}),
        ("https://x.example/p/253/0614141123452400", {"kind": "other",
                                                       "canonical": "https://id.gs1.org/253/0614141123452400"}),
        ("https://id.gs1.org/8010/0614141123ABC/8011/123456789",
         {"kind": "other", "canonical": "https://id.gs1.org/8010/0614141123ABC/8011/123456789"}),
    ],
)
def test_digital_links_of_each_primary_key(uri, fields):
    assert parse_identifier(uri) == Ref(uri=uri, **fields)


def test_digital_link_of_each_kind_under_another_base():
    assert Ref("party", gln="1234567890128").digital_link("https://r.example/X//") == (
        "https://r.example/X/417/1234567890128")
    base = "https://trace.example.cn/r/"
    assert Ref("item", gtin="09520123456788", lot="L 1", serial="S/1").digital_link(base) == (
        "https://trace.example.cn/r/01/09520123456788/10/L%201/21/S%2F1")
    assert Ref("lot", gtin="09520123456788", lot="L").digital_link(base) == (
        "https://trace.example.cn/r/01/09520123456788/10/L")
    assert Ref("class", gtin="09520123456788").digital_link(base) == "https://trace.example.cn/r/01/09520123456788"
    assert Ref("sscc", sscc="106141412345678908").digital_link(base) == (
        "https://trace.example.cn/r/00/106141412345678908")
    assert Ref("location", gln="0614141073467", ext="d:1").digital_link(base) == (
        "https://trace.example.cn/r/414/0614141073467/254/d%3A1")
    assert Ref("location", gln="0614141073467").digital_link(base) == "https://trace.example.cn/r/414/0614141073467"
    assert Ref("party", gln="1234567890128").digital_link(base) == "https://trace.example.cn/r/417/1234567890128"
    assert Ref("other", uri="urn:x:1").digital_link(base) == "urn:x:1"
    assert Ref("other", uri="urn:epc:id:gsin:0614141.123456789",
               canonical="https://id.gs1.org/402/06141411234567890").digital_link(base) == (
        "https://trace.example.cn/r/402/06141411234567890")


def test_keys_of_each_kind():
    assert Ref("item", gtin="09520123456788", lot="L", serial="S").key == "item:09520123456788:S"
    assert Ref("lot", gtin="09520123456788", lot="L", serial=None).key == "lot:09520123456788:L"
    assert Ref("class", gtin="09520123456788").key == "class:09520123456788"
    assert Ref("sscc", sscc="106141412345678908").key == "sscc:106141412345678908"
    assert Ref("location", gln="0614141073467", ext="1").key == "loc:0614141073467:1"
    assert Ref("location", gln="0614141073467").key == "loc:0614141073467"
    assert Ref("party", gln="1234567890128").key == "party:1234567890128"
    assert Ref("other", uri="urn:x:1").key == "other:urn:x:1"
    assert Ref("other", uri="urn:x:1", canonical="https://id.gs1.org/402/06141411234567890").key == (
        "other:https://id.gs1.org/402/06141411234567890")


@pytest.mark.parametrize(("kind", "prefix"), [("item", "item:"), ("lot", "lot:"), ("class", "class:"),
                                              ("sscc", "sscc:"), ("location", "loc:"), ("party", "party:"),
                                              ("other", "other:")])
def test_key_prefix_and_key_kind_of_every_kind(kind, prefix):
    assert key_prefix(kind) == prefix
    assert key_kind(prefix + "x") == kind and key_kind(prefix[:-1]) == kind


def test_kinds_and_unknown_prefixes():
    assert KINDS == ("item", "lot", "class", "sscc", "location", "party", "other")
    with pytest.raises(KeyError):
        key_prefix("pallet")
    assert key_kind("location:1") == "" and key_kind("loc") == "location" and key_kind(":item") == ""


def test_ref_from_key_gives_the_fields_and_the_gs1_digital_link():
    assert ref_from_key("item:09520123456788:S:1") == Ref(
        "item", gtin="09520123456788", serial="S:1", uri="https://id.gs1.org/01/09520123456788/21/S%3A1")
    assert ref_from_key("lot:09520123456788:L") == Ref(
        "lot", gtin="09520123456788", lot="L", uri="https://id.gs1.org/01/09520123456788/10/L")
    assert ref_from_key("loc:0614141073467") == Ref("location", gln="0614141073467",
                                                    uri="https://id.gs1.org/414/0614141073467")
    assert ref_from_key("loc:0614141073467:0") == Ref("location", gln="0614141073467", ext="0",
                                                      uri="https://id.gs1.org/414/0614141073467/254/0")
    assert ref_from_key("party:1234567890128") == Ref("party", gln="1234567890128",
                                                      uri="https://id.gs1.org/417/1234567890128")


@pytest.mark.parametrize("key", ["other:urn:uuid:1", "nonsense", "", "pallet:1"])
def test_ref_from_key_refusal_names_the_key(key):
    with pytest.raises(InvalidIdentifier) as caught:
        ref_from_key(key)
    assert str(caught.value) == f"{key!r} is not the business key of a GS1-identified object"


@pytest.mark.parametrize(
    ("uri", "kind"),
    [("urn:epc:id:sgtin:0614141.107346.2017", "item"), ("urn:epc:class:lgtin:6901234.056789.L", "lot"),
     ("urn:epc:idpat:sgtin:4012345.011122.*", "class"), ("urn:epc:id:sscc:0614141.1234567890", "sscc")],
)
def test_parse_location_refusal_names_what_was_given(uri, kind):
    with pytest.raises(InvalidIdentifier) as caught:
        parse_location(uri)
    assert str(caught.value) == f"{uri!r} identifies a {kind}, not a location or party"


def test_parse_location_passes_places_parties_and_other_uris_through():
    for uri in ("urn:epc:id:sgln:0614141.07346.0", "urn:epc:id:pgln:1234567.89012", "geo:43.8,126.5",
                "urn:epc:id:gsrn:0614141.1234567890"):
        assert parse_location(uri) == parse_identifier(uri)


def test_the_same_identifier_gives_the_same_ref_each_time():
    first = parse_identifier("urn:epc:id:sgln:0614141.07346.1234")
    assert parse_identifier("urn:epc:id:sgln:0614141.07346.1234") is first
    assert parse_identifier("urn:epc:id:sgln:0614141.07346.1234") == Ref(
        "location", gln="0614141073467", ext="1234", uri="urn:epc:id:sgln:0614141.07346.1234")


@pytest.mark.parametrize(
    ("urn", "fields"),
    [("urn:epc:id:sgtin:0614141.107346.a:b", {"kind": "item", "gtin": "10614141073464", "serial": "a:b"}),
     ("urn:epc:id:sscc:0614141.1234567890", {"kind": "sscc", "sscc": "106141412345678908"}),
     ("urn:epc:id:pgln:1234567.89012", {"kind": "party", "gln": "1234567890128"}),
     ("urn:epc:idpat:sgtin:4012345.011122.*", {"kind": "class", "gtin": "04012345111224"}),
     ("urn:epc:class:lgtin:4012345.012345.a:1", {"kind": "lot", "gtin": "04012345123456", "lot": "a:1"}),
     ("urn:epc:id:sgln:0614141.07346.d:1", {"kind": "location", "gln": "0614141073467", "ext": "d:1"})],
)
def test_urns_keep_the_identifier_as_received(urn, fields):
    assert parse_identifier(urn) == Ref(uri=urn, **fields)


def test_a_malformed_pattern_of_another_scheme_names_the_pattern():
    uri = "urn:epc:idpat:grai:0614141.1234.*"
    assert _refusal(uri) == f"{uri!r}: reference '1234' must be 5 digits for this company prefix"
