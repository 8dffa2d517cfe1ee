"""GS1's EPCIS example documents for the gs1 tests, read from ../shared/epcis/ (never copied into the repo).

The folder is the one holding GS1's schema file (gs1.schema.schema_path: EPCIS_SCHEMA_PATH, else ../shared/epcis/),
so pointing EPCIS_SCHEMA_PATH at a missing file runs the suite as on a clone without ../shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gs1.schema import schema_available, schema_path, validate_document
from gs1.structure import structure_problems

EPCIS_DIR = schema_path().parent
EXAMPLES_DIR = EPCIS_DIR / "examples"
QUERY_DOCUMENT = "EPCISQueryDocument.jsonld"


def example_names() -> list[str]:
    """Return the capture example file names (the query result document excluded), or [] when absent."""
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.jsonld") if p.name != QUERY_DOCUMENT)


def load_example(name: str) -> dict:
    """Load one GS1 example document, skipping the test when the shared folder is absent."""
    path = EXAMPLES_DIR / name
    if not path.is_file():
        pytest.skip(f"GS1 EPCIS example {name} not found in {EXAMPLES_DIR} (shared reference folder absent)")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def require_examples_dir() -> Path:
    """Return the GS1 examples folder, skipping the calling test when it is absent."""
    if not EXAMPLES_DIR.is_dir():
        pytest.skip(f"GS1 EPCIS examples folder {EXAMPLES_DIR} is absent")
    return EXAMPLES_DIR


def epcis_problems(doc: dict) -> list[str]:
    """What breaks the EPCIS 2.0 JSON structure in `doc`: our own rules, and GS1's schema too when it is installed."""
    return structure_problems(doc) + (validate_document(doc) if schema_available() else [])
