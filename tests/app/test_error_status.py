"""Domain errors answer with the HTTP status app/errors.py maps them to (pure: no Neo4j)."""

from __future__ import annotations

import pytest

from app.errors import status_of
from graph.errors import Conflict, Forbidden, GraphError, NotFound, RuleViolation, Unavailable


@pytest.mark.parametrize(
    ("error", "status"),
    [(NotFound, 404), (Conflict, 409), (RuleViolation, 422), (Forbidden, 403), (Unavailable, 503), (GraphError, 500)],
)
def test_each_domain_error_answers_with_its_status(error, status):
    assert status_of(error("x")) == status


def test_a_subclass_answers_as_its_nearest_mapped_parent():
    class LotMissing(NotFound):
        pass

    assert status_of(LotMissing("no lot")) == 404
