"""Arrange trace tests: record a generated network through the service's one write path (graph/events.py)."""

from __future__ import annotations

from graph import events, parties
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


def register_parties(graph, net) -> None:
    """Register a network's parties with their roles (and names, where it has them) before its events arrive, as
    production does: the consumer page tells a farm by its role."""
    names = getattr(net, "names", {})
    parties.upsert_many(graph, [{"gln": gln, "roles": [role], "name_zh": names.get(gln, gln),
                                 "name_en": names.get(gln, gln)}
                                for role, glns in net.parties.items() for gln in glns])
