"""gs1.schema with a schema file of the test's own: where it is looked for, what it says when absent or broken,
and how violations are written. Needs none of GS1's files."""

import json
from pathlib import Path

import jsonschema
import pytest

from gs1 import schema
from gs1.errors import SchemaUnavailable

SMALL_SCHEMA = {
    "type": "object",
    "properties": {
        "epcisBody": {"type": "object", "properties": {"eventList": {"type": "array", "items": {
            "type": "object", "properties": {"action": {"enum": ["OBSERVE", "ADD", "DELETE"]},
                                             "quantity": {"type": "number"}}}}}},
        "name": {"type": "string", "maxLength": 2},
    },
    "required": ["epcisBody"],
}


@pytest.fixture
def own_schema(monkeypatch, tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SMALL_SCHEMA), encoding="utf-8")
    monkeypatch.setenv(schema.SCHEMA_ENV, str(path))
    return path


def test_schema_path_is_the_environment_setting_else_next_to_the_repository(monkeypatch, tmp_path):
    repo = Path(schema.__file__).resolve().parent.parent
    assert schema.DEFAULT_SCHEMA_PATH == repo.parent / "shared" / "epcis" / "EPCIS-JSON-Schema.json"
    monkeypatch.setenv(schema.SCHEMA_ENV, str(tmp_path / "x.json"))
    assert schema.schema_path() == tmp_path / "x.json"
    monkeypatch.setenv(schema.SCHEMA_ENV, "")
    assert schema.schema_path() == schema.DEFAULT_SCHEMA_PATH
    monkeypatch.delenv(schema.SCHEMA_ENV)
    assert schema.schema_path() == schema.DEFAULT_SCHEMA_PATH
    assert schema.SCHEMA_ENV == "EPCIS_SCHEMA_PATH"


def test_cross_check_note_says_whether_the_schema_is_used(monkeypatch, tmp_path, own_schema):
    assert schema.schema_available() is True
    assert schema.cross_check_note() == (
        f"EPCIS capture: own structure rules, cross-checked against GS1's JSON schema at {own_schema}")
    absent = tmp_path / "absent.json"
    monkeypatch.setenv(schema.SCHEMA_ENV, str(absent))
    assert schema.schema_available() is False
    assert schema.cross_check_note() == (
        f"EPCIS capture: own structure rules only; GS1's JSON schema cross-check is off (no file at {absent}; "
        "set EPCIS_SCHEMA_PATH to use it)")
    monkeypatch.setenv(schema.SCHEMA_ENV, str(tmp_path))  # a folder is not a schema file
    assert schema.schema_available() is False


def test_absent_unreadable_and_invalid_schema_files_say_so(monkeypatch, tmp_path):
    absent = tmp_path / "absent.json"
    monkeypatch.setenv(schema.SCHEMA_ENV, str(absent))
    with pytest.raises(SchemaUnavailable) as caught:
        schema.get_validator()
    assert str(caught.value) == (
        f"EPCIS JSON schema not found at {absent}; set EPCIS_SCHEMA_PATH to the path of EPCIS-JSON-Schema.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    monkeypatch.setenv(schema.SCHEMA_ENV, str(broken))
    with pytest.raises(SchemaUnavailable) as caught:
        schema.validate_document({})
    assert str(caught.value).startswith(f"EPCIS JSON schema at {broken} cannot be read: Expecting property name")
    folder = tmp_path / "folder"
    folder.mkdir()
    monkeypatch.setenv(schema.SCHEMA_ENV, str(folder))
    with pytest.raises(SchemaUnavailable, match=r"cannot be read: \[Errno 21\] Is a directory"):
        schema.get_validator()
    not_a_schema = tmp_path / "not-a-schema.json"
    not_a_schema.write_text('{"type": 5}', encoding="utf-8")
    monkeypatch.setenv(schema.SCHEMA_ENV, str(not_a_schema))
    with pytest.raises(jsonschema.SchemaError):
        schema.get_validator()


def test_violations_are_written_with_their_location_in_location_order(own_schema):
    assert schema.validate_document({"epcisBody": {"eventList": []}}) == []
    doc = {"name": "abc", "epcisBody": {"eventList": [{"action": "MOVE", "quantity": "2"}, {"action": "ADD"}]}}
    assert schema.validate_document(doc) == [
        "epcisBody.eventList[0].action: 'MOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']",
        "epcisBody.eventList[0].quantity: '2' is not of type 'number'",
        "name: 'abc' is too long",
    ]
    assert schema.validate_document([]) == ["(document): [] is not of type 'object'"]
    assert schema.validate_document({}) == ["(document): 'epcisBody' is a required property"]
    assert schema.get_validator() is schema.get_validator()


@pytest.mark.parametrize(
    ("path", "location"),
    [([], "(document)"), (["epcisBody"], "epcisBody"), (["epcisBody", "eventList", 0, "action"],
                                                        "epcisBody.eventList[0].action"),
     ([0], "[0]"), ([0, "a", 1], "[0].a[1]")],
)
def test_location_of_a_path(path, location):
    assert schema._location(path) == location


def test_long_messages_are_cut_at_300_characters():
    assert schema._shorten("x" * 300) == "x" * 300
    assert schema._shorten("x" * 301) == "x" * 299 + "…"
    assert schema._shorten("abcdef", limit=4) == "abc…"
