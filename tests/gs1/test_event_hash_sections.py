"""The CBV 2.0 event hash piece by piece: the exact pre-hash text of every section and every canonical value.

A changed pre-hash string is a changed event ID for every event captured without one, so each rule is pinned here
with the text it writes (test_event_hash.py holds the digests GS1's examples give).
"""

from __future__ import annotations

import hashlib

import pytest

from gs1.epcis import DEFAULT_PREFIXES
from gs1.errors import InvalidEvent
from gs1.event_hash import (
    HASH_ALGORITHMS,
    canonical_number,
    canonical_time,
    canonical_value,
    document_hashes,
    event_hash,
    prehash_string,
)

EX = "{https://ns.example.com/epcis/}"
FULL = {
    "@context": [{"ex": "https://ns.example.com/epcis/"}],
    "type": "TransformationEvent", "eventID": "urn:uuid:1", "recordTime": "2024-01-01T00:00:00Z",
    "eventTime": "2024-09-20T08:30:00.1236+08:00", "eventTimeZoneOffset": " +08:00 ",
    "certificationInfo": ["https://cert.example/b", "https://cert.example/a"],
    "parentID": "urn:epc:id:sscc:0614141.1234567890",
    "epcList": [None],
    "inputEPCList": ["https://id.gs1.org/01/09520123456788/10/L1/21/S1", "urn:epc:id:sgtin:0614141.107346.2017"],
    "childEPCs": ["urn:x:c"],
    "quantityList": [],
    "childQuantityList": ["not an object"],
    "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": "10.50", "uom": "KGM",
                           "ex:note": "n"},
                          {"epcClass": "urn:epc:idpat:sgtin:4012345.011122.*", "quantity": 2}],
    "outputEPCList": ["https://example.com/p/01/09520123456788/21/S2?17=261231"],
    "outputQuantityList": [{"epcClass": "https://id.gs1.org/01/09520123456788/10/L2", "quantity": 1e-05}],
    "action": "  ",
    "transformationID": "urn:x:t1",
    "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
    "disposition": "cbv:Disp-active",
    "persistentDisposition": {"unset": ["urn:epcglobal:cbv:disp:in_transit"], "set": ["recalled", "active"]},
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234", "ex:floor": 2},
    "bizLocation": {"id": None},
    "bizTransactionList": [{"type": "po", "bizTransaction": "urn:x:po:2"}, {"bizTransaction": "urn:x:po:1"}, "x"],
    "sourceList": [{"type": "urn:epcglobal:cbv:sdt:possessing_party",
                    "source": "https://id.gs1.org/417/1234567890128"}],
    "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:4012345.00001.0"}, 5],
    "sensorElementList": [
        {"sensorMetadata": {"time": "2024-09-20T08:00:00+08:00", "deviceID": "urn:epc:id:giai:4000001.111",
                            "bizRules": "https://rules.example/1", "ex:cal": "c"},
         "sensorReport": [{"type": "Temperature", "value": 26.0, "uom": "CEL", "exception": "ALARM_CONDITION",
                           "component": "x", "booleanValue": False, "ex:k": "v"},
                          {"type": "gs1:Humidity", "minValue": 12.1, "time": "later", "hexBinaryValue": "0A"}, 7],
         "ex:note": {"ex:a": "1"}},
        {"sensorMetadata": {}, "sensorReport": []}, "x"],
    "ilmd": {"cbvmda:lotNumber": "L1", "ex:list": ["b", "a"], "ex:none": None, "ex:empty": "",
             "ex:obj": {"@id": "x", "rdfs:comment": "c", "ex:z": True}},
    "errorDeclaration": {"declarationTime": "2024-01-01T00:00:00Z"},
    "rdfs:comment": "ignored", "comment": "ignored", "#text": "t", "@id": "x",
    "ex:ext": {"ex:inner": [1, 2.50]}, "other:thing": "https://id.gs1.org/414/0614141073467/254/0", "plain": 0,
}
FULL_PREHASH = (
    "eventType=TransformationEvent"
    "eventTime=2024-09-20T00:30:00.124Z"
    "eventTimeZoneOffset=+08:00"
    "certificationInfo=https://cert.example/acertificationInfo=https://cert.example/b"
    "parentID=https://id.gs1.org/00/106141412345678908"
    "inputEPCListepc=https://id.gs1.org/01/09520123456788/21/S1epc=https://id.gs1.org/01/10614141073464/21/2017"
    "childEPCsepc=urn:x:c"
    "inputQuantityList"
    "quantityElementepcClass=https://id.gs1.org/01/04012345111224quantity=2"
    "quantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877quantity=10.5uom=KGM" + EX + "note=n"
    "outputEPCListepc=https://id.gs1.org/01/09520123456788/21/S2"
    "outputQuantityList"
    "quantityElementepcClass=https://id.gs1.org/01/09520123456788/10/L2quantity=0.00001"
    "transformationID=urn:x:t1"
    "bizStep=https://ref.gs1.org/cbv/BizStep-commissioning"
    "disposition=https://ref.gs1.org/cbv/Disp-active"
    "persistentDisposition"
    "set=https://ref.gs1.org/cbv/Disp-activeset=https://ref.gs1.org/cbv/Disp-recalled"
    "unset=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/0614141073467/254/1234" + EX + "floor=2"
    "bizTransactionListbizTransaction=urn:x:po:1bizTransaction=urn:x:po:2type=https://ref.gs1.org/cbv/BTT-po"
    "sourceListsource=https://id.gs1.org/417/1234567890128type=https://ref.gs1.org/cbv/SDT-possessing_party"
    "destinationListdestination=https://id.gs1.org/414/4012345000016type=https://ref.gs1.org/cbv/SDT-location"
    "sensorElementListsensorElementsensorElement"
    "sensorMetadatatime=2024-09-20T00:00:00.000ZdeviceID=https://id.gs1.org/8004/4000001111"
    "bizRules=https://rules.example/1" + EX + "cal=c"
    "sensorReporttype=https://gs1.org/voc/Humiditytime=laterhexBinaryValue=0AminValue=12.1"
    "sensorReporttype=https://gs1.org/voc/Temperatureexception=https://gs1.org/voc/ALARM_CONDITIONvalue=26"
    "component=https://ref.gs1.org/cbv/Comp-xbooleanValue=falseuom=CEL" + EX + "k=v"
    "" + EX + "note" + EX + "a=1"
    "ilmd" + EX + "empty" + EX + "list=a" + EX + "list=b" + EX + "none" + EX + "obj" + EX + "z=true"
    "{urn:epcglobal:cbv:mda:}lotNumber=L1"
    "other:thing=https://id.gs1.org/414/0614141073467plain=0"
    "" + EX + "ext" + EX + "inner=1" + EX + "inner=2.5"
)


def test_full_event_prehash_string():
    assert prehash_string(FULL) == FULL_PREHASH
    assert event_hash(FULL) == f"ni:///sha-256;{hashlib.sha256(FULL_PREHASH.encode()).hexdigest()}?ver=CBV2.0"


def test_every_algorithm_names_itself_and_hashes_the_prehash_string():
    data = prehash_string(FULL).encode("utf-8")
    for name, fn in [("sha-256", hashlib.sha256), ("sha-384", hashlib.sha384), ("sha-512", hashlib.sha512),
                     ("sha3-256", hashlib.sha3_256)]:
        assert event_hash(FULL, algorithm=name) == f"ni:///{name};{fn(data).hexdigest()}?ver=CBV2.0"
    assert list(HASH_ALGORITHMS) == ["sha-256", "sha-384", "sha-512", "sha3-256"]
    with pytest.raises(ValueError) as caught:
        event_hash(FULL, algorithm="md5")
    assert str(caught.value) == "unsupported hash algorithm 'md5'; use one of sha-256, sha-384, sha-512, sha3-256"


def test_an_event_needs_a_type_and_an_event_time():
    with pytest.raises(InvalidEvent) as caught:
        prehash_string({"eventTime": "2024-01-01T00:00:00Z"})
    assert (caught.value.location, caught.value.message) == ("type", "an event needs a type to be hashed")
    with pytest.raises(InvalidEvent) as caught:
        event_hash({"type": "ObjectEvent", "eventTime": 5})
    assert (caught.value.location, caught.value.message) == ("eventTime", "an event needs an eventTime to be hashed")
    assert prehash_string({"type": "X", "eventTime": "yesterday"}) == "eventType=XeventTime=yesterday"


def test_prefixes_come_from_the_document_and_the_event():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "bizStep": "a:b", "disposition": "c:d"}
    head = "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000Z"
    assert prehash_string(ev) == head + "bizStep=a:bdisposition=c:d"
    assert prehash_string(ev, {"a": "https://a.example/"}) == head + "bizStep=https://a.example/bdisposition=c:d"
    own = {**ev, "@context": {"c": "https://c.example/"}}
    assert prehash_string(own, {"a": "https://a.example/"}) == (
        head + "bizStep=https://a.example/bdisposition=https://c.example/d")


def test_document_hashes_use_the_document_context():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "bizStep": "a:b"}
    doc = {"@context": [{"a": "https://a.example/"}], "epcisBody": {"eventList": [ev, {**ev, "bizStep": "x"}]}}
    assert document_hashes(doc) == [event_hash(ev, {"a": "https://a.example/"}),
                                    event_hash({**ev, "bizStep": "x"})]
    assert document_hashes(doc)[0] != event_hash(ev)
    assert document_hashes(ev) == [event_hash(ev)]


def test_empty_sections_write_nothing():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "epcList": [], "quantityList": [5],
          "persistentDisposition": {"set": [], "unset": None}, "readPoint": {}, "bizLocation": {"id": ""},
          "bizTransactionList": [], "sourceList": ["x"], "destinationList": [], "sensorElementList": [1],
          "ilmd": {}, "certificationInfo": [], "parentID": None, "eventTimeZoneOffset": "", "action": None}
    assert prehash_string(ev) == "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000Z"


def test_a_single_certificate_and_plain_values():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "certificationInfo": " https://c.example/1 ",
          "action": 5, "transformationID": 7}
    assert prehash_string(ev) == (
        "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000ZcertificationInfo=https://c.example/1action=5"
        "transformationID=7")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("1e3", "1000"), (".5", "0.5"), ("+1.50", "1.5"), ("-1.50", "-1.5"), ("1E-2", "0.01"), ("0.000", "0"),
     ("00012", "12"), ("1.", "1"), (0.0, "0"), (-0.0, "0"), (100, "100"), ("100", "100"), (-7, "-7"),
     (1e20, "100000000000000000000"), (1.5e-07, "0.00000015"), ("inf", None), (float("inf"), None),
     (float("nan"), None), (False, None), (None, None), ([1], None), ("1,5", None), ("", None), ("1e", None)],
)
def test_canonical_number_edges(raw, canonical):
    assert canonical_number(raw) == canonical


@pytest.mark.parametrize(
    ("value", "vocabulary", "canonical"),
    [(True, None, "true"), (False, None, "false"), (None, None, "None"), (2.50, None, "2.5"),
     ({"a": 1}, None, "{'a': 1}"), ([1, "x"], None, "[1, 'x']"),
     (" shipping ", "bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"), ("", "bizStep", ""),
     ("  ", None, ""), ("shipping", None, "shipping"),
     ("x", "disposition", "https://ref.gs1.org/cbv/Disp-x"), ("x", "set", "https://ref.gs1.org/cbv/Disp-x"),
     ("x", "unset", "https://ref.gs1.org/cbv/Disp-x"), ("x", "bizTransactionType", "https://ref.gs1.org/cbv/BTT-x"),
     ("x", "sourceDestType", "https://ref.gs1.org/cbv/SDT-x"), ("x", "component", "https://ref.gs1.org/cbv/Comp-x"),
     ("x", "sensorType", "https://gs1.org/voc/x"), ("x", "exception", "https://gs1.org/voc/x"),
     ("urn:epcglobal:cbv:bizstep:x", "bizStep", "https://ref.gs1.org/cbv/BizStep-x"),
     ("urn:epcglobal:cbv:disp:x", None, "https://ref.gs1.org/cbv/Disp-x"),
     ("urn:epcglobal:cbv:btt:po", None, "https://ref.gs1.org/cbv/BTT-po"),
     ("urn:epcglobal:cbv:sdt:x", None, "https://ref.gs1.org/cbv/SDT-x"),
     ("urn:epcglobal:cbv:er:x", None, "https://ref.gs1.org/cbv/ER-x"),
     ("urn:epcglobal:cbv:bt:1:2", None, "urn:epcglobal:cbv:bt:1:2"),
     ("cbv:BTT-po", None, "https://ref.gs1.org/cbv/BTT-po"), ("ex:y", None, "ex:y"),
     ("https://id.gs1.org/01/09520123456788/10/L/21/S?17=261231", None,
      "https://id.gs1.org/01/09520123456788/21/S"),
     ("http://r.example/01/09520123456788/22/V/10/L", None, "https://id.gs1.org/01/09520123456788/10/L"),
     ("https://id.gs1.org/01/9520123456788", None, "https://id.gs1.org/01/09520123456788"),
     ("https://id.gs1.org/00/106141412345678908", None, "https://id.gs1.org/00/106141412345678908"),
     ("https://r.example/417/1234567890128", None, "https://id.gs1.org/417/1234567890128"),
     ("urn:epc:id:sgln:0614141.07346.0", None, "https://id.gs1.org/414/0614141073467"),
     ("urn:epc:id:grai:0614141.12345.400", None, "https://id.gs1.org/8003/00614141123452400"),
     ("https://id.gs1.org/01/09520123456789", None, "https://id.gs1.org/01/09520123456789"),
     ("urn:epc:id:sgtin:bad", None, "urn:epc:id:sgtin:bad"), ("urn:epc:id:bic:X", None, "urn:epc:id:bic:X"),
     ("https://example.org/x", None, "https://example.org/x"), ("HTTP://x.example/y", None, "HTTP://x.example/y")],
)
def test_canonical_value_of_each_kind(value, vocabulary, canonical):
    assert canonical_value(value, DEFAULT_PREFIXES, vocabulary) == canonical


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("2020-01-01T10:00:00+02:00", "2020-01-01T08:00:00.000Z"),
     ("2020-01-01T08:00:00.5Z", "2020-01-01T08:00:00.500Z"),
     ("2020-01-01T08:00:00.0004Z", "2020-01-01T08:00:00.000Z"),
     ("2020-01-01T08:00:00.0005Z", "2020-01-01T08:00:00.001Z"),
     ("2020-01-01T08:00:00.999Z", "2020-01-01T08:00:00.999Z"), ("2020-01-01T08:00:00.123456789Z",
                                                                "2020-01-01T08:00:00.123Z"),
     ("2020-01-01T00:00:00.9995-01:00", "2020-01-01T01:00:01.000Z")],
)
def test_canonical_time_rounds_half_up_to_milliseconds(raw, canonical):
    assert canonical_time(raw) == canonical


def test_canonical_time_refuses_what_is_not_a_time():
    with pytest.raises(InvalidEvent) as caught:
        canonical_time("2020-01-01")
    assert caught.value.location == ""


def test_extension_names_expand_at_their_first_colon():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "ex:a:b": "1", "zz:ex:c": "2", "plain": "3"}
    assert prehash_string(ev, {"ex": "https://ns.example.com/epcis/"}) == (
        "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000Zplain=3zz:ex:c=2" + EX + "a:b=1")


def test_curies_and_bare_values_in_every_section():
    prefixes = {"ex": "https://ns.example.com/epcis/"}
    ev = {"type": "ObjectEvent", "eventTime": "ex:later", "certificationInfo": ["ex:c2", "ex:c1"],
          "parentID": "P1", "transformationID": "T1", "quantityList": [{"epcClass": "ex:q", "aaa": "1", "uom": "KGM",
                                                                       "quantity": 1}],
          "persistentDisposition": {"set": ["ex:d"], "unset": ["ex:u"]},
          "bizTransactionList": [{"type": "ex:bt", "bizTransaction": "ex:b1"}],
          "sourceList": [{"type": "ex:st", "source": "ex:s2"}, {"source": "ex:s1"}],
          "destinationList": [{"type": "ex:dt", "destination": "ex:d1"}, {"type": "x", "destination": "ex:d0"}]}
    n = "https://ns.example.com/epcis/"
    assert prehash_string(ev, prefixes) == (
        f"eventType=ObjectEventeventTime={n}latercertificationInfo={n}c1certificationInfo={n}c2parentID=P1"
        f"quantityListquantityElementepcClass={n}qquantity=1uom=KGMaaa=1transformationID=T1"
        f"persistentDispositionset={n}dunset={n}ubizTransactionListbizTransaction={n}b1type={n}bt"
        f"sourceListsource={n}s1source={n}s2type={n}st"
        f"destinationListdestination={n}d0type=https://ref.gs1.org/cbv/SDT-xdestination={n}d1type={n}dt")


def test_only_time_fields_are_read_as_times():
    ev = {"type": "ObjectEvent", "eventTime": "2024-01-01T08:00:00+08:00", "sensorElementList": [{
        "sensorMetadata": {"startTime": "2024-01-01T08:00:00+08:00", "endTime": "2024-01-01T09:00:00+08:00",
                           "rawData": "2024-01-01T08:00:00+08:00"},
        "sensorReport": [{"type": "x", "stringValue": "2024-01-01T08:00:00+08:00"}]}],
        "ilmd": {"ex:t": "2024-01-01T08:00:00+08:00", "comment": "c", "rdfs:comment": "c", "#text": "t", "@id": "i"}}
    assert prehash_string(ev, {"ex": "https://ns.example.com/epcis/"}) == (
        "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000Z"
        "sensorElementListsensorElementsensorMetadatastartTime=2024-01-01T00:00:00.000Z"
        "endTime=2024-01-01T01:00:00.000ZrawData=2024-01-01T08:00:00+08:00"
        "sensorReporttype=https://gs1.org/voc/xstringValue=2024-01-01T08:00:00+08:00"
        "ilmd" + EX + "t=2024-01-01T08:00:00+08:00")


def test_the_hash_does_not_depend_on_the_machines_time_zone(monkeypatch):
    import time

    before = canonical_time("2020-01-01T10:00:00+02:00")
    monkeypatch.setenv("TZ", "CST-8")  # POSIX form: needs no tz database
    time.tzset()
    try:
        assert canonical_time("2020-01-01T10:00:00+02:00") == before == "2020-01-01T08:00:00.000Z"
        assert canonical_time("2020-01-01T10:00:00.5-05:00") == "2020-01-01T15:00:00.500Z"
    finally:
        monkeypatch.undo()
        time.tzset()
