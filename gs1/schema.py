"""Validate EPCIS 2.0 JSON documents against GS1's official JSON schema (read from outside the repository)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from gs1.errors import SchemaUnavailable

SCHEMA_ENV = "EPCIS_SCHEMA_PATH"
# GS1's files are not redistributed with the project: they live next to the repository in ../shared/epcis/.
DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "epcis" / "EPCIS-JSON-Schema.json"


def schema_path() -> Path:
    """Return the schema location: $EPCIS_SCHEMA_PATH, else <repo>/../shared/epcis/EPCIS-JSON-Schema.json."""
    configured = os.environ.get(SCHEMA_ENV)
    return Path(configured) if configured else DEFAULT_SCHEMA_PATH


def schema_available() -> bool:
    """Tell whether GS1's schema file is there (the service then checks every capture document against it)."""
    return schema_path().is_file()


def cross_check_note() -> str:
    """One line for the start-up log: whether captured documents are checked against GS1's schema too."""
    if schema_available():
        return f"EPCIS capture: own structure rules, cross-checked against GS1's JSON schema at {schema_path()}"
    return (f"EPCIS capture: own structure rules only; GS1's JSON schema cross-check is off (no file at "
            f"{schema_path()}; set {SCHEMA_ENV} to use it)")


@lru_cache(maxsize=4)
def _validator(path: str) -> Draft7Validator:
    try:
        with open(path, encoding="utf-8") as fh:
            schema = json.load(fh)
    except FileNotFoundError as e:
        raise SchemaUnavailable(
            f"EPCIS JSON schema not found at {path}; set {SCHEMA_ENV} to the path of EPCIS-JSON-Schema.json"
        ) from e
    except (OSError, ValueError) as e:
        raise SchemaUnavailable(f"EPCIS JSON schema at {path} cannot be read: {e}") from e
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def get_validator() -> Draft7Validator:
    """Return the compiled validator for the configured schema file (compiled once per path).

    Raises:
        SchemaUnavailable: the schema file is missing or unreadable.
    """
    return _validator(str(schema_path()))


def _location(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def validate_document(doc: Any) -> list[str]:
    """Validate an EPCIS 2.0 document and return one message per violation, empty when valid.

    Args:
        doc: the document as decoded from JSON.

    Returns:
        Messages like ``epcisBody.eventList[0].action: 'MOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']``,
        ordered by location.

    Raises:
        SchemaUnavailable: the schema file is missing or unreadable.
    """
    validator = get_validator()
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{_location(e.absolute_path)}: {_shorten(e.message)}" for e in errors]


def _shorten(message: str, limit: int = 300) -> str:
    # anyOf/oneOf failures repeat the whole event in the message; the location already says which one.
    return message if len(message) <= limit else message[: limit - 1] + "…"
