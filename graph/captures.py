"""Capture jobs (the EPCIS REST binding's /capture resource) and the data-quality warnings they carry."""

from __future__ import annotations

import json

from graph.driver import Graph
from graph.errors import NotFound

_FIELDS = ("capture_id", "running", "success", "error_behaviour", "errors", "warnings", "event_count",
           "captured_count", "duplicate_count", "party_gln", "created_at", "finished_at")


def get(graph: Graph, capture_id: str, party_gln: str | None = None) -> dict:
    """Return one capture job as the REST binding's CaptureJob document.

    Args:
        graph: the database.
        capture_id: the job's ID.
        party_gln: when set, only a job captured by this party is found (others' jobs stay private).

    Raises:
        NotFound: no such job (or not this party's).
    """
    # A client asks for its job right after the capture answered, maybe from another worker: a miss on a reader
    # is confirmed on the writer (Graph.lookup).
    rows = graph.lookup(
        """
        MATCH (c:Capture {capture_id: $id})
        WHERE $party IS NULL OR c.party_gln = $party
        RETURN c {.*} AS c
        """,
        id=capture_id, party=party_gln,
    )
    if not rows:
        raise NotFound(f"no capture job {capture_id}", field="captureID")
    return _job(rows[0]["c"])


def page(graph: Graph, party_gln: str | None, per_page: int, after: tuple[str, str] | None,
         with_warnings: bool = False) -> list[dict]:
    """Return capture jobs, newest first, after a (created_at, capture_id) cursor.

    Args:
        graph: the database.
        party_gln: only this party's jobs (None: all).
        per_page: how many to return (one more tells whether a next page exists).
        after: the last (created_at ISO, capture_id) of the previous page.
        with_warnings: only jobs that carry data-quality warnings.
    """
    rows = graph.query(
        """
        MATCH (c:Capture)
        WHERE ($party IS NULL OR c.party_gln = $party)
          AND (NOT $warned OR c.warning_count > 0)
          AND ($after_at IS NULL OR c.created_at < datetime($after_at)
               OR (c.created_at = datetime($after_at) AND c.capture_id < $after_id))
        RETURN c {.*} AS c
        ORDER BY c.created_at DESC, c.capture_id DESC
        LIMIT $limit
        """,
        read=True, party=party_gln, warned=with_warnings, after_at=after[0] if after else None,
        after_id=after[1] if after else None, limit=per_page,
    )
    return [_job(r["c"]) for r in rows]


def _iso(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.to_native().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _job(props: dict) -> dict:
    return {
        "captureID": props["capture_id"],
        "createdAt": _iso(props.get("created_at")),
        "finishedAt": _iso(props.get("finished_at")),
        "running": bool(props.get("running")),
        "success": bool(props.get("success")),
        "captureErrorBehaviour": props.get("error_behaviour"),
        "errors": json.loads(props.get("errors") or "[]"),
        "warnings": json.loads(props.get("warnings") or "[]"),
        "eventCount": props.get("event_count", 0),
        "capturedCount": props.get("captured_count", 0),
        "duplicateCount": props.get("duplicate_count", 0),
    }
