import pickle
from dataclasses import replace

import pytest

from gs1.errors import InvalidIdentifier
from gs1.identifiers import (
    Ref,
    class_key,
    item_key,
    key_kind,
    key_prefix,
    location_key,
    lot_key,
    parse_identifier,
    parse_location,
    party_key,
    ref_from_key,
    sscc_key,
)


@pytest.mark.parametrize(
    ("urn", "dl", "key"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017",
         "item:10614141073464:2017"),
        ("urn:epc:id:sgtin:0614141.107346.a%2Fb", "https://example.com/01/10614141073464/21/a%2Fb",
         "item:10614141073464:a/b"),
        ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877?17=261231",
         "lot:04012345123456:998877"),
        ("urn:epc:idpat:sgtin:4012345.011122.*", "https://id.gs1.org/01/04012345111224", "class:04012345111224"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908",
         "sscc:106141412345678908"),
        ("urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467/254/1234",
         "loc:0614141073467:1234"),
        ("urn:epc:id:sgln:4012345.00001.0", "https://id.gs1.org/414/4012345000016", "loc:4012345000016"),
        ("urn:epc:id:pgln:1234567.89012", "https://id.gs1.org/417/1234567890128", "party:1234567890128"),
        ("urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400",
         "other:https://id.gs1.org/8004/061414112345400"),
        ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400",
         "other:https://id.gs1.org/8003/00614141123452400"),
    ],
)
def test_urn_and_digital_link_of_the_same_thing_share_a_key(urn, dl, key):
    from_urn, from_dl = parse_identifier(urn), parse_identifier(dl)
    assert from_urn.key == from_dl.key == key
    assert from_urn.digital_link() == parse_identifier(from_urn.digital_link()).digital_link()


def test_item_with_lot_in_digital_link_keys_on_serial_and_keeps_lot():
    ref = parse_identifier("https://id.gs1.org/01/09520123456788/10/ABC1/21/xyz")
    assert ref.kind == "item" and ref.lot == "ABC1" and ref.key == "item:09520123456788:xyz"
    assert ref.digital_link("https://trace.example.cn/") == "https://trace.example.cn/01/09520123456788/10/ABC1/21/xyz"


def test_lgtin_urn_builds_gtin14_from_indicator_prefix_and_item_reference():
    ref = parse_identifier("urn:epc:class:lgtin:6901234.056789.2024R01")
    assert (ref.kind, ref.gtin, ref.lot, ref.serial) == ("lot", "06901234567892", "2024R01", None)
    assert ref.uri == "urn:epc:class:lgtin:6901234.056789.2024R01"
    assert ref.digital_link() == "https://id.gs1.org/01/06901234567892/10/2024R01"


def test_other_uris_keep_the_uri_as_key():
    for uri in ("urn:epc:id:bic:CSQU3054383", "https://example.org/asset/42", "urn:uuid:4c3a-1"):
        ref = parse_identifier(uri)
        assert ref.kind == "other" and ref.key == f"other:{uri}" and ref.digital_link() == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://id.gs1.org/01/09520123456789/21/x", "check digit 9, expected 8"),
        ("https://id.gs1.org/414/0614141073468", "check digit"),
        ("urn:epc:id:sgtin:0614141.10734.1", "item reference"),
        ("urn:epc:id:sgtin:0614141.107346.a b", "character ' '"),
        ("urn:epc:id:sgtin:06141.1073460.1", "company prefix"),
        ("urn:epc:idpat:sgtin:4012345.011122.5", "pattern"),
        ("not a uri", "not a URI"),
        (" urn:epc:id:sgtin:0614141.107346.2017", "whitespace"),
    ],
)
def test_malformed_gs1_identifiers_raise(uri, message):
    with pytest.raises(InvalidIdentifier, match=message):
        parse_identifier(uri)


def test_parse_location_accepts_places_and_parties_only():
    assert parse_location("urn:epc:id:sgln:0614141.07346.1234").kind == "location"
    assert parse_location("https://id.gs1.org/417/1234567890128").kind == "party"
    assert parse_location("geo:43.8,126.5").kind == "other"
    with pytest.raises(InvalidIdentifier, match="not a location"):
        parse_location("urn:epc:id:sgtin:0614141.107346.2017")


def test_refs_are_hashable_and_immutable():
    ref = parse_identifier("urn:epc:id:sgtin:0614141.107346.2017")
    assert ref == parse_identifier("urn:epc:id:sgtin:0614141.107346.2017")
    assert len({ref, parse_identifier("urn:epc:id:sgtin:0614141.107346.2017")}) == 1
    with pytest.raises(AttributeError):
        ref.serial = "x"  # type: ignore[misc]


def test_key_builders_give_the_keys_capture_derives():
    assert lot_key("04012345123456", "998877") == parse_identifier("urn:epc:class:lgtin:4012345.012345.998877").key
    assert item_key("10614141073464", "2017") == parse_identifier("urn:epc:id:sgtin:0614141.107346.2017").key
    assert class_key("04012345111224") == parse_identifier("urn:epc:idpat:sgtin:4012345.011122.*").key
    assert sscc_key("106141412345678908") == parse_identifier("urn:epc:id:sscc:0614141.1234567890").key
    assert location_key("0614141073467", "1234") == parse_identifier("urn:epc:id:sgln:0614141.07346.1234").key
    assert location_key("4012345000016") == "loc:4012345000016"
    assert party_key("1234567890128") == parse_identifier("urn:epc:id:pgln:1234567.89012").key


@pytest.mark.parametrize(
    ("key", "kind"),
    [("lot:06901234567892:A:B", "lot"), ("item:06901234567892:S", "item"), ("class:06901234567892", "class"),
     ("sscc:106141412345678908", "sscc"), ("loc:0614141073467:1", "location"), ("party:1234567890128", "party"),
     ("other:urn:uuid:1", "other"), ("lots:x", ""), ("", "")],
)
def test_key_kind_reads_the_prefix(key, kind):
    assert key_kind(key) == kind
    if kind:
        assert key.startswith(key_prefix(kind))


@pytest.mark.parametrize(
    ("key", "uri"),
    [("lot:06901234567892:R/2024:1", "https://id.gs1.org/01/06901234567892/10/R%2F2024%3A1"),
     ("item:06901234567892:S:1", "https://id.gs1.org/01/06901234567892/21/S%3A1"),
     ("class:06901234567892", "https://id.gs1.org/01/06901234567892"),
     ("sscc:106141412345678908", "https://id.gs1.org/00/106141412345678908"),
     ("loc:0614141073467:a:b", "https://id.gs1.org/414/0614141073467/254/a%3Ab"),
     ("loc:0614141073467", "https://id.gs1.org/414/0614141073467"),
     ("party:1234567890128", "https://id.gs1.org/417/1234567890128")],
)
def test_ref_from_key_round_trips_through_its_digital_link(key, uri):
    ref = ref_from_key(key)
    assert ref.key == key and ref.uri == uri
    assert parse_identifier(uri).key == key


def test_ref_from_key_refuses_keys_of_other_things():
    for key in ("other:urn:uuid:1", "nonsense", ""):
        with pytest.raises(InvalidIdentifier):
            ref_from_key(key)
    assert Ref("lot", gtin="06901234567892", lot="L").key == "lot:06901234567892:L"


def test_a_refs_key_is_its_own_after_a_replace_and_a_pickle():
    """The key is made once per Ref and kept: a Ref made from another by ``replace`` (as ref_from_key sets the URI)
    or read back from a pickle (the history import's parts) has the key of its own fields."""
    lot = parse_identifier("urn:epc:class:lgtin:6941234.050001.LOT-A")
    assert lot.key == "lot:06941234500017:LOT-A"
    other = replace(lot, lot="LOT-B")
    assert other.key == "lot:06941234500017:LOT-B" and lot.key == "lot:06941234500017:LOT-A"
    assert pickle.loads(pickle.dumps(other)).key == "lot:06941234500017:LOT-B"
    assert other == replace(lot, lot="LOT-B") and hash(other) == hash(replace(lot, lot="LOT-B"))
