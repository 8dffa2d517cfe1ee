"""Arrange trace tests: record a generated network through the service's one write path (graph/events.py)."""

from __future__ import annotations

from graph import events
from gs1.epcis import parse_document


def capture(graph, admin_token: str, net) -> events.CaptureJob:
    """Capture every event of the network (errorDeclarations included) as an admin import, in one document."""
    doc = net.document()
    normalized = parse_document(doc)
    job = events.CaptureJob(capture_id=events.new_capture_id())
    job.event_count = len(normalized)
    events.capture(graph, list(enumerate(normalized)), events.Policy(role="admin"), job, context=doc["@context"])
    assert job.success, job.errors
    return job
