"""Each test of gs1/ parses its identifiers afresh.

``parse_identifier`` keeps an lru_cache of the Refs it returned; a test that ran before would otherwise answer
another test's identifiers from that cache, never reaching the parsing code (and mutmut, which forks each mutant's
test run from a process that already ran the suite, would see parsing mutants survive).
"""

from __future__ import annotations

import pytest

from gs1 import identifiers


@pytest.fixture(autouse=True)
def _fresh_identifier_cache():
    identifiers._parse_cached.cache_clear()
    yield
