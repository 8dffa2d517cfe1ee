import copy

import pytest

from gs1 import schema
from gs1.errors import SchemaUnavailable
from tests.gs1.examples import example_names, load_example


@pytest.fixture
def validate():
    """Return validate_document, skipping when GS1's schema file is not available."""
    try:
        schema.get_validator()
    except SchemaUnavailable as e:
        pytest.skip(f"EPCIS JSON schema unavailable: {e}")
    return schema.validate_document


@pytest.mark.parametrize("name", example_names() or ["(examples folder absent)"])
def test_gs1_examples_validate_against_the_schema(validate, name):
    assert validate(load_example(name)) == []


def test_schema_violation_is_reported_with_its_location(validate):
    doc = copy.deepcopy(load_example("Example_9.6.1-ObjectEvent.jsonld"))
    doc["epcisBody"]["eventList"][0]["action"] = "MOVE"
    errors = validate(doc)
    assert "epcisBody.eventList[0].action: 'MOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']" in errors
    assert all(len(message) <= 400 for message in errors)


def test_missing_schema_file_raises_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(schema.SCHEMA_ENV, str(tmp_path / "absent.json"))
    with pytest.raises(SchemaUnavailable, match="EPCIS_SCHEMA_PATH"):
        schema.validate_document({})


def test_validator_is_compiled_once(validate):
    assert schema.get_validator() is schema.get_validator()
