"""Versioned, idempotent schema migrations: graph/migrations/V####__name.cypher, applied in order once each."""

from __future__ import annotations

import re
from pathlib import Path

from graph.driver import Graph

MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^V(\d{4})__(\w+)\.cypher$")


def pending(graph: Graph) -> list[Path]:
    """Return the migration files not yet recorded in the database, oldest first."""
    done = {r["version"] for r in graph.query("MATCH (m:Migration) RETURN m.version AS version", read=True)}
    return [p for p in _files() if int(_NAME.match(p.name).group(1)) not in done]


def migrate(graph: Graph) -> list[str]:
    """Apply every pending migration and wait for new indexes to come online.

    Each statement is IF NOT EXISTS, so a migration interrupted half-way is safely re-run whole.

    Returns:
        The names of the migrations applied now (empty when the schema was current).

    Raises:
        Unavailable: the database does not answer.
    """
    applied = []
    # The Migration constraint itself comes from V0001; before it exists "pending" still works (no nodes yet).
    for path in pending(graph):
        version = int(_NAME.match(path.name).group(1))
        for statement in _statements(path.read_text()):
            graph.run_autocommit(statement)  # schema commands cannot share a transaction with writes
        graph.query(
            "MERGE (m:Migration {version: $version}) ON CREATE SET m.name = $name, m.applied_at = datetime()",
            version=version,
            name=path.stem,
        )
        applied.append(path.stem)
    if applied:
        graph.run_autocommit("CALL db.awaitIndexes(300)")
    return applied


def _files() -> list[Path]:
    return sorted(p for p in MIGRATIONS.iterdir() if _NAME.match(p.name))


def _statements(text: str) -> list[str]:
    """Split a migration file into statements (';' at line end), dropping // comments."""
    lines = [line for line in text.splitlines() if not line.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
