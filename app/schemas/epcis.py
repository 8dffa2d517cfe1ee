"""EPCIS REST binding: capture headers, the event query parameters, paging tokens and the answers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from gs1.epcis import EVENT_TYPES, normalize_vocab, parse_time, utc_iso
from gs1.errors import GS1Error
from gs1.event_query import QueryParameterError, compile_params
from gs1.identifiers import parse_identifier, parse_location

ACTIONS = ("ADD", "OBSERVE", "DELETE")


class PipeList(fields.String):
    """A pipe-delimited list (OpenAPI style pipeDelimited, as the REST binding's query parameters use)."""

    def __init__(self, item=None, **kwargs):
        super().__init__(**kwargs)
        self.item = item or (lambda value: value)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = [p.strip() for p in text.split("|")]
        if not parts or any(not p for p in parts):
            raise ValidationError("expected one value or several separated by |, with none empty")
        out = []
        for part in parts:
            try:
                out.append(self.item(part))
            except (GS1Error, ValueError) as exc:
                raise ValidationError(f"{part!r}: {exc}") from None
        return out


class EpcisTime(fields.String):
    """An xsd:dateTime with a time zone, answered as UTC ISO text."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return utc_iso(parse_time(text, attr or ""))
        except GS1Error as exc:
            raise ValidationError(getattr(exc, "message", str(exc))) from None


def _event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise ValueError(f"not an event type; use one of {', '.join(sorted(EVENT_TYPES))}")
    return value


def _action(value: str) -> str:
    if value not in ACTIONS:
        raise ValueError("use ADD, OBSERVE or DELETE")
    return value


def _biz_step(value: str) -> str:
    return normalize_vocab(value, "bizStep")


def _disposition(value: str) -> str:
    return normalize_vocab(value, "disposition")


def _location_key(value: str) -> str:
    return parse_location(value).key


def _object(value: str):
    return parse_identifier(value)


_CLASS_PARAMS = (("epc", "MATCH_epc"), ("any", "MATCH_anyEPC"), ("cls", "MATCH_epcClass"),
                 ("input", "MATCH_inputEPC"), ("output", "MATCH_outputEPC"), ("parent", "MATCH_parentID"),
                 ("in_cls", "MATCH_inputEPCClass"), ("out_cls", "MATCH_outputEPCClass"),
                 ("any_cls", "MATCH_anyEPCClass"))


class EventQueryArgs(Schema):
    """A SimpleEventQuery (GET /epcis/events and the resources that filter events, named queries).

    Load a dict of parameter name -> text (several values joined by ``|``). The fields below are answered by the
    graph; every other name goes through gs1.event_query's grammar (ILMD, extension, sensor, error declaration,
    bizTransaction, source/destination, persistent disposition parameters) and a name outside it is refused.
    """

    class Meta:
        unknown = INCLUDE

    def __init__(self, *args, extensions: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.extensions = extensions or {}  # prefixes the client declared in GS1-Extensions

    eventType = PipeList(_event_type, metadata={"example": "ObjectEvent|TransformationEvent"})
    GE_eventTime = EpcisTime(metadata={"example": "2026-09-01T00:00:00+08:00"})
    LT_eventTime = EpcisTime()
    GE_recordTime = EpcisTime()
    LT_recordTime = EpcisTime()
    EQ_action = PipeList(_action)
    EQ_bizStep = PipeList(_biz_step, metadata={"example": "shipping"})
    EQ_disposition = PipeList(_disposition)
    EQ_readPoint = PipeList(_location_key)
    EQ_bizLocation = PipeList(_location_key)
    WD_readPoint = PipeList(_location_key)
    WD_bizLocation = PipeList(_location_key)
    EQ_eventID = PipeList()
    MATCH_epc = PipeList(_object)
    MATCH_anyEPC = PipeList(_object)
    MATCH_epcClass = PipeList(_object)
    MATCH_inputEPC = PipeList(_object)
    MATCH_outputEPC = PipeList(_object)
    MATCH_parentID = PipeList(_object)
    MATCH_inputEPCClass = PipeList(_object)
    MATCH_outputEPCClass = PipeList(_object)
    MATCH_anyEPCClass = PipeList(_object)
    orderBy = fields.String(validate=validate.OneOf(
        ("eventTime", "recordTime"), error="this server orders by eventTime or recordTime"))
    orderDirection = fields.String(validate=validate.OneOf(("ASC", "DESC"), error="use ASC or DESC"))
    eventCountLimit = fields.Integer(validate=validate.Range(1, 1_000_000))
    maxEventCount = fields.Integer(validate=validate.Range(0, 10_000))
    perPage = fields.Integer(load_default=30, validate=validate.Range(1, 1000))
    nextPageToken = fields.String(validate=validate.Length(1, 500))

    @validates_schema
    def _combinations(self, data, **kwargs):
        """eventCountLimit needs orderBy and excludes maxEventCount (EPCIS 2.0 §8.2.7.1)."""
        if "eventCountLimit" in data and "maxEventCount" in data:
            raise ValidationError("eventCountLimit and maxEventCount are mutually exclusive", "maxEventCount")
        if "eventCountLimit" in data and "orderBy" not in data:
            raise ValidationError("eventCountLimit needs orderBy", "eventCountLimit")

    @post_load
    def _filters(self, data, **kwargs):
        """Turn parameters into graph/epcis_query filters and document predicates, and decode the page token."""
        filters = {
            "event_ids": data.get("EQ_eventID"), "types": data.get("eventType"), "actions": data.get("EQ_action"),
            "biz_steps": data.get("EQ_bizStep"), "dispositions": data.get("EQ_disposition"),
            "read_points": data.get("EQ_readPoint"), "biz_locations": data.get("EQ_bizLocation"),
            "wd_read_points": data.get("WD_readPoint"), "wd_biz_locations": data.get("WD_bizLocation"),
            "ge_event_time": data.get("GE_eventTime"), "lt_event_time": data.get("LT_eventTime"),
            "ge_record_time": data.get("GE_recordTime"), "lt_record_time": data.get("LT_recordTime"),
        }
        for name, param in _CLASS_PARAMS:
            refs = data.get(param)
            if refs is None:
                filters[name] = None
                continue
            keys = [r.key for r in refs if r.kind != "class"]
            gtins = [r.gtin for r in refs if r.kind == "class"]
            filters[name] = {"keys": keys, "gtins": gtins}
        extra = {k: v for k, v in data.items() if k not in self.fields}
        bad = {k: ["expected text"] for k, v in extra.items() if not isinstance(v, str)}
        if bad:
            raise ValidationError(bad)
        try:
            predicates = compile_params(extra, self.extensions)
        except QueryParameterError as exc:
            raise ValidationError({exc.name: [exc.message]}) from None
        order_by = data.get("orderBy", "recordTime")
        # The standard's default direction is DESC once orderBy is named; without it ours stays oldest first.
        descending = data.get("orderDirection", "DESC" if "orderBy" in data else "ASC") == "DESC"
        fingerprint = filters_fingerprint({**filters, "_extra": sorted(extra.items()), "_order": [order_by,
                                           descending, data.get("eventCountLimit")]})
        after, emitted = None, 0
        if "nextPageToken" in data:
            after, emitted = decode_event_token(data["nextPageToken"], fingerprint)
        return {"filters": filters, "predicates": predicates, "per_page": data["perPage"], "after": after,
                "emitted": emitted, "fingerprint": fingerprint, "order_by": order_by, "descending": descending,
                "event_count_limit": data.get("eventCountLimit"), "max_event_count": data.get("maxEventCount")}


def filters_fingerprint(filters: dict) -> str:
    """A short hash of the filters: a page token only continues the query it came from."""
    text = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_event_token(last: tuple[str, str], fingerprint: str, emitted: int = 0) -> str:
    """Return an opaque token for the event page after ``last`` = (sort time, eventID), with the events already
    answered (eventCountLimit counts across pages)."""
    raw = json.dumps([last[0], last[1], fingerprint, emitted], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_event_token(token: str, fingerprint: str) -> tuple[tuple[str, str], int]:
    """Return ((sort time, eventID), events answered) from a token; ValidationError for one this query did not
    issue (the token is readable base64 JSON: every part is checked before it reaches a query)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        parts = json.loads(raw)
        when, last_id, fp, emitted = parts if len(parts) == 4 else [*parts, 0]
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError("not a page token this server issued", "nextPageToken") from None
    if fp != fingerprint:
        raise ValidationError("the page token belongs to another query; repeat the same parameters",
                              "nextPageToken")
    if not isinstance(when, str) or not isinstance(last_id, str) or len(last_id) > 2000 \
            or type(emitted) is not int or not 0 <= emitted <= 10**9:
        raise ValidationError("not a page token this server issued", "nextPageToken")
    # Its time goes into a Cypher datetime(): a made-up one is refused here (400), not by the database (500).
    try:
        when = utc_iso(parse_time(when, "nextPageToken"))
    except GS1Error:
        raise ValidationError("not a page token this server issued", "nextPageToken") from None
    return (when, last_id), emitted


def encode_page_token(last: tuple[str, str], fingerprint: str) -> str:
    """Return an opaque token for the page after ``last`` = (sort time, id)."""
    raw = json.dumps([last[0], last[1], fingerprint], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, fingerprint: str | None = None) -> tuple[str, str]:
    """Return the (sort time, id) a token continues after; ValidationError for a token this query did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        when, last_id, fp = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise ValidationError("not a page token this server issued", "nextPageToken") from None
    if not isinstance(when, str) or not isinstance(last_id, str) or (fingerprint and fp != fingerprint):
        raise ValidationError("the page token belongs to another query; repeat the same parameters",
                              "nextPageToken")
    # The token is readable base64 JSON and the fingerprint can be recomputed by anyone: its time goes into a
    # Cypher datetime(), so a made-up one must be refused here (400), not by the database (500).
    try:
        when = utc_iso(parse_time(when, "nextPageToken"))
    except GS1Error:
        raise ValidationError("not a page token this server issued", "nextPageToken") from None
    if len(last_id) > 2000:
        raise ValidationError("not a page token this server issued", "nextPageToken")
    return when, last_id


class CaptureHeaders(Schema):
    """Headers of POST /epcis/capture."""

    error_behaviour = fields.String(
        data_key="GS1-Capture-Error-Behaviour", load_default="rollback",
        validate=validate.OneOf(("rollback", "proceed")),
        metadata={"description": "rollback (default): all events or none; proceed: keep the good events"},
    )


class PageArgs(Schema):
    """Paging of a list."""

    class Meta:
        unknown = RAISE

    perPage = fields.Integer(load_default=30, validate=validate.Range(1, 1000))
    nextPageToken = fields.String(validate=validate.Length(1, 500))


class CaptureError(Schema):
    """One per-event error or data-quality warning."""

    eventIndex = fields.Integer(allow_none=True)
    eventID = fields.String(allow_none=True)
    code = fields.String()
    message = fields.String()
    location = fields.String()


class CaptureProblem(CaptureError):
    """One per-event error of a capture job: the binding's CaptureJob lists its errors as RFC 7807 problem details
    (``type`` and ``title`` required); ``code``, ``message``, ``eventIndex``, ``eventID`` and ``location`` stay as
    extension members. An event refused in a job (invalid, conflict, not_found, cycle, lot_status, mass balance) is
    EPCIS 2.0's ValidationException; what the caller may not record is a 403 SecurityException, never a job."""

    type = fields.Constant("epcisException:ValidationException")
    title = fields.Function(lambda e: e.get("message") or e.get("code") or "capture error")


class CaptureJobOut(Schema):
    """A capture job (EPCIS REST binding CaptureJob)."""

    captureID = fields.String()
    createdAt = fields.String()
    finishedAt = fields.String(allow_none=True)
    running = fields.Boolean()
    success = fields.Boolean()
    captureErrorBehaviour = fields.String()
    errors = fields.List(fields.Nested(CaptureProblem))
    warnings = fields.List(fields.Nested(CaptureError))
    eventCount = fields.Integer()
    capturedCount = fields.Integer()
    duplicateCount = fields.Integer()


def capture_job_document(job) -> dict:
    """Return a capture job (graph.events.CaptureJob) as the REST binding's CaptureJob document, plus our counts and
    warnings."""
    return {
        "captureID": job.capture_id,
        "createdAt": job.created_at,
        "finishedAt": job.finished_at,
        "running": False,
        "success": job.success,
        "captureErrorBehaviour": job.error_behaviour,
        "errors": job.errors,
        "warnings": job.warnings,
        "eventCount": job.event_count,
        "capturedCount": len(job.captured),
        "duplicateCount": len(job.duplicates),
    }
