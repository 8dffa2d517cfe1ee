"""Capture orchestration: EPCIS documents and producer-API event dicts -> normalised events -> graph/events.py.

Every way in (POST /epcis/capture, the producer-friendly endpoints, `flask epcis import`) goes through
``capture_document`` or ``record_events``, so the checks and the writes are the same for all.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache

from flask import current_app

from app import audit as trail
from app.auth import Principal
from app.errors import ApiError
from app.extensions import graph
from app.gcpause import gc_paused
from graph import events
from gs1.epcis import context_prefixes, document_events, normalize_event
from gs1.errors import InvalidEvent
from gs1.event_hash import event_hash
from gs1.schema import schema_available, schema_path, validate_document
from gs1.structure import structure_problems

ERROR_BEHAVIOURS = ("rollback", "proceed")
EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"


def policy_for(principal: Principal | None, require_known: bool = False) -> events.Policy:
    """Return the write rules for this caller: admin capture is lenient (warnings), party tokens strict."""
    config = current_app.config
    role = principal.role if principal else "admin"
    return events.Policy(
        role=role,
        party_gln=principal.party_gln if principal else None,
        token_id=principal.token_id if principal else None,
        strict=role != "admin" or require_known,
        require_known=require_known,
        max_yield=float(config.get("TRANSFORM_MAX_YIELD", 1.05)),
        max_future=timedelta(seconds=int(config.get("CAPTURE_MAX_FUTURE_SECONDS", 300))),
    )


def normalise(raw_events: list, where: str, prefixes: dict, job: events.CaptureJob
              ) -> list[tuple[int, object]]:
    """Normalise each event, giving it its CBV 2.0 hash as eventID when it has none; errors go to the job."""
    out = []
    for i, raw in enumerate(raw_events):
        here = f"{where}[{i}]" if where else ""
        try:
            ev = normalize_event(raw, here, prefixes)
            if ev.event_id is None:
                ev.event_id = event_hash(raw, prefixes)
        except InvalidEvent as exc:
            event_id = raw.get("eventID") if isinstance(raw, dict) else None
            job.errors.append(events.error(i, event_id, "invalid", exc.message, exc.location or here))
            continue
        out.append((i, ev))
    return out


def capture_document(doc: object, principal: Principal | None, behaviour: str = "rollback",
                     validate: bool = True) -> events.CaptureJob:
    """Capture an EPCIS document as one job; the job (stored) tells which events went in and why others did not.

    The cyclic garbage collector is paused for the capture (app/gcpause.py): a 1,000-event document builds some
    hundred thousand short-lived objects (normalised events, rows, driver records), none cyclic, and the collector
    walked them about 65 times per document, 69 of 480 ms.

    Raises:
        ApiError: 400 for a document that is not EPCIS 2.0 JSON, 413 for too many events.
        Forbidden: an event outside what the token may record (nothing written).
    """
    with gc_paused():
        return _capture_document(doc, principal, behaviour, validate)


def _capture_document(doc: object, principal: Principal | None, behaviour: str, validate: bool
                      ) -> events.CaptureJob:
    try:
        raw_events, where = document_events(doc)
    except InvalidEvent as exc:
        raise ApiError(400, f"not an EPCIS 2.0 document: {exc}", errors={"json": {exc.location or "(document)":
                                                                              [exc.message]}}) from None
    limit = current_app.config["CAPTURE_MAX_EVENTS"]
    if len(raw_events) > limit:
        raise ApiError(413, f"the document holds {len(raw_events)} events; this server captures at most {limit} "
                            "per request (GS1-EPCIS-Capture-Limit): split it", code="payload_too_large",
                       headers={"GS1-EPCIS-Capture-Limit": str(limit)})
    # Our own rules (gs1.structure) refuse a document that breaks the EPCIS 2.0 JSON structure, before anything is
    # stored. GS1's schema file is not redistributed with us (EPCIS_SCHEMA_PATH): where it is, it checks again.
    if validate:
        problems = structure_problems(doc)
        if not problems and schema_available() and not _fast_validator(str(schema_path())).is_valid(doc):
            # The compiled validator only says yes or no; the reference one names every problem and decides.
            problems = validate_document(doc)
        if problems:
            raise ApiError(400, "the document does not validate against the EPCIS 2.0 JSON schema: " + problems[0],
                           errors={"json": {"schema": problems[:50]}})
    job = events.CaptureJob(events.new_capture_id(), error_behaviour=behaviour, event_count=len(raw_events))
    prefixes = context_prefixes(doc.get("@context")) if isinstance(doc, dict) else context_prefixes()
    normalised = normalise(raw_events, where, prefixes, job)
    context = doc.get("@context") if isinstance(doc, dict) else None
    pending = trail.transaction_entry()  # the request's audit entry commits with the capture
    job = events.capture(graph(), normalised, policy_for(principal), job, record=True, context=context,
                         audit_entry=pending and pending[0], audit_key=pending and pending[1])
    if job.audit_seq is not None:
        trail.mark_recorded(job.audit_seq)
    return job


@lru_cache(maxsize=2)
def _fast_validator(path: str):
    """The EPCIS JSON schema compiled by jsonschema-rs (about 50x faster than jsonschema on big documents)."""
    import jsonschema_rs

    with open(path, encoding="utf-8") as fh:
        return jsonschema_rs.Draft7Validator(json.load(fh))


def record_events(raw_events: list[dict], principal: Principal | None) -> events.CaptureJob:
    """Record events built by the producer-friendly API: all or nothing, each problem a 422.

    Raises:
        ApiError: 422 for an event that does not normalise (a bug in the caller's mapping or bad input).
        RuleViolation: a rule of the record refuses an event.
        Forbidden: the token may not record an event.
    """
    job = events.CaptureJob(events.new_capture_id(), event_count=len(raw_events))
    normalised = normalise(raw_events, "", context_prefixes(), job)
    if job.errors:
        raise ApiError(422, job.errors[0]["message"], errors={"json": {"events": [e["message"] for e in job.errors]}})
    pending = trail.transaction_entry()
    job = events.capture(graph(), normalised, policy_for(principal, require_known=True), job, record=False,
                         audit_entry=pending and pending[0], audit_key=pending and pending[1])
    if job.audit_seq is not None:
        trail.mark_recorded(job.audit_seq)
    events.raise_first_error(job)
    return job


# The EPCIS event builders live in gs1/event_builders.py; app/web/work/pages.py still imports these from here.
from gs1.event_builders import location_uri, lot_uri, party_uri  # noqa: E402, F401
