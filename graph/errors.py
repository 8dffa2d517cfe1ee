"""Domain errors raised by graph/: the app maps each to one HTTP status in app/errors.py."""

from __future__ import annotations


class GraphError(Exception):
    """Base class of every error graph/ raises on purpose."""

    code = "graph_error"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class NotFound(GraphError):
    """A node the caller named does not exist."""

    code = "not_found"


class Conflict(GraphError):
    """A business key is already taken (uniqueness constraint), or the same ID arrived with other content."""

    code = "conflict"


class RuleViolation(GraphError):
    """The write would break a rule of the record (mass balance, time order, a cycle, a held lot)."""

    code = "rule_violation"


class Forbidden(GraphError):
    """The acting party may not write this (it does not hold the lot, the location is not its own)."""

    code = "forbidden"


class Unavailable(GraphError):
    """Neo4j does not answer: the caller should retry later."""

    code = "database_unavailable"
