"""EPCIS 2.0 REST binding: capture jobs and the event query (GS1's epcis-rest-openapi.yaml)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth import current_principal, require
from app.capture import CBV_VERSION, EPCIS_VERSION, capture_document
from app.errors import ApiError
from app.extensions import graph
from app.schemas.epcis import (
    CaptureHeaders,
    CaptureJobOut,
    EventQueryArgs,
    PageArgs,
    capture_job_document,
    decode_page_token,
    encode_page_token,
)
from graph import captures, epcis_query
from gs1.epcis import utc_iso

blp = Blueprint("epcis", __name__, url_prefix="/epcis", description="EPCIS 2.0 capture and query (GS1 REST binding)")
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
READERS = ("admin", "regulator", "producer", "lab")
_DOCUMENT_BODY = {"content": {
    "application/json": {"schema": {"type": "object", "description": "an EPCISDocument (EPCIS 2.0 JSON/JSON-LD)"}},
    "application/ld+json": {"schema": {"type": "object"}},
}}


@blp.after_request
def _gs1_headers(response):
    """Every answer names the EPCIS/CBV versions and the capture limits (the binding's discovery headers)."""
    response.headers["GS1-EPCIS-Version"] = EPCIS_VERSION
    response.headers["GS1-CBV-Version"] = CBV_VERSION
    if request.path.startswith("/epcis/capture"):
        response.headers["GS1-EPCIS-Capture-Limit"] = str(current_app.config["CAPTURE_MAX_EVENTS"])
        response.headers["GS1-EPCIS-Capture-File-Size-Limit"] = str(current_app.config["MAX_CONTENT_LENGTH"])
        response.headers["GS1-Capture-Error-Behaviour"] = "rollback, proceed"
    return response


def _visible_party() -> str | None:
    """None for roles that see everything; the caller's party for the others."""
    principal = current_principal()
    return None if principal.role in ("admin", "regulator") else principal.party_gln or ""


@blp.route("/capture", methods=["POST"])
@require("admin", "producer", "lab")
@blp.arguments(CaptureHeaders, location="headers", error_status_code=400)
@blp.response(202, CaptureJobOut, description="Accepted and processed: the job at Location tells the outcome")
@blp.alt_response(400, schema="Error", description="Not an EPCIS 2.0 JSON document")
@blp.alt_response(413, schema="Error", description="More events or bytes than GS1-EPCIS-Capture-Limit allows")
@blp.doc(requestBody=_DOCUMENT_BODY)
def capture(headers):
    """Capture an EPCISDocument (synchronously: the job is finished when this answers)."""
    doc = _json_body()
    job = capture_document(doc, current_principal(), headers["error_behaviour"])
    return capture_job_document(job), 202, {"Location": f"/epcis/capture/{job.capture_id}"}


@blp.route("/capture")
@require(*READERS)
@blp.arguments(PageArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, CaptureJobOut(many=True))
def list_captures(args):
    """List capture jobs, newest first (admins and regulators see all, others their party's)."""
    after = None
    if "nextPageToken" in args:
        try:
            after = decode_page_token(args["nextPageToken"], "captures")
        except ValidationError as exc:
            raise ApiError(400, "bad nextPageToken", errors={"query": exc.normalized_messages()}) from None
    jobs = captures.page(graph(), _visible_party(), args["perPage"] + 1, after)
    return _paged(jobs, args["perPage"], lambda j: (j["createdAt"], j["captureID"]), "captures", args)


@blp.route("/capture/<capture_id>")
@require(*READERS)
@blp.response(200, CaptureJobOut)
@blp.alt_response(404, schema="Error", description="No such capture job")
def get_capture(capture_id):
    """Show a capture job: success, per-event errors and data-quality warnings."""
    return captures.get(graph(), capture_id, _visible_party())


@blp.route("/events")
@require(*READERS)
@blp.arguments(EventQueryArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, description="An EPCISQueryDocument")
def query_events(args):
    """Query events (SimpleEventQuery parameters; perPage and nextPageToken page through the answer)."""
    filters = {**args["filters"], "party": _visible_party()}
    rows = epcis_query.page(graph(), filters, args["per_page"] + 1, args["after"])
    more = len(rows) > args["per_page"]
    rows = rows[: args["per_page"]]
    headers = {}
    if more:
        token = encode_page_token((rows[-1]["record_time"], rows[-1]["event_id"]), args["fingerprint"])
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "nextPageToken"]
        headers["Link"] = f'</epcis/events?{urlencode([*params, ("nextPageToken", token)])}>; rel="next"'
    return query_document(rows), 200, headers


@blp.route("/events/<path:event_id>")
@require(*READERS)
@blp.response(200, description="An EPCISQueryDocument with the one event")
@blp.alt_response(404, schema="Error", description="No such event")
def get_event(event_id):
    """Show one event by its eventID (URL-encoded)."""
    return query_document([epcis_query.get(graph(), event_id, _visible_party())])


def query_document(rows: list[dict]) -> dict:
    """Wrap events in an EPCISQueryDocument, declaring the prefixes their own documents declared."""
    context: list = [EPCIS_CONTEXT]
    extra: dict = {}
    for row in rows:
        ctx = row.get("context")
        for item in ctx if isinstance(ctx, list) else [ctx]:
            if isinstance(item, dict):
                for name, value in item.items():
                    extra.setdefault(name, value)
    if extra:
        context.append(extra)
    return {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": utc_iso_now(),
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                       "resultsBody": {"eventList": [row["doc"] for row in rows]}}},
    }


def utc_iso_now() -> str:
    """The current time as EPCIS writes it."""
    from datetime import UTC, datetime

    return utc_iso(datetime.now(UTC))


def _json_body() -> object:
    """The request's JSON document; 415 for another media type, 413 beyond MAX_CONTENT_LENGTH, 400 for bad JSON."""
    if not request.is_json:
        raise ApiError(415, "send the EPCISDocument as application/json or application/ld+json")
    try:
        doc = request.get_json(silent=True)
    except RequestEntityTooLarge:
        raise ApiError(413, f"the body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes "
                            "(GS1-EPCIS-Capture-File-Size-Limit): split the document") from None
    if doc is None:
        raise ApiError(400, "the body is not valid JSON", errors={"json": {"(body)": ["not valid JSON"]}})
    return doc


def _paged(items: list[dict], per_page: int, cursor, kind: str, args: dict):
    """Cut one extra item off and, when there was one, add the Link to the next page."""
    headers = {}
    if len(items) > per_page:
        items = items[:per_page]
        token = encode_page_token(cursor(items[-1]), kind)
        headers["Link"] = f'<{request.path}?{urlencode({"perPage": per_page, "nextPageToken": token})}>; rel="next"'
    return items, 200, headers

