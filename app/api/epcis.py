"""EPCIS 2.0 REST binding: capture jobs and the event query (GS1's epcis-rest-openapi.yaml)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.epcis_xml import is_xml_body, negotiated, xml_capture_document
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
    encode_event_token,
    encode_page_token,
)
from graph import captures, epcis_query, master_data
from gs1.epcis import utc_iso, wire_event
from gs1.errors import GS1Error, InvalidEvent
from gs1.event_query import parse_extensions
from gs1.identifiers import parse_identifier
from gs1.master_data import parse_master_data, refused_elements

blp = Blueprint("epcis", __name__, url_prefix="/epcis", description="EPCIS 2.0 capture and query (GS1 REST binding)")
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
READERS = ("admin", "regulator", "producer", "lab")
_DOCUMENT_BODY = {"content": {
    "application/json": {"schema": {"type": "object", "description": "an EPCISDocument (EPCIS 2.0 JSON/JSON-LD)"}},
    "application/ld+json": {"schema": {"type": "object"}},
    "application/xml": {"schema": {"type": "string", "description": "an EPCISDocument in the EPCIS 2.0 or 1.2 XML "
                                                                     "binding (docs/epcis-xml.md)"}},
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
    doc = xml_capture_document() if is_xml_body() else _json_body()
    elements = _master_data(doc)
    job = capture_document(doc, current_principal(), headers["error_behaviour"])
    if elements and (job.success or job.captured):
        master_data.store(graph(), elements, _visible_party())
    return capture_job_document(job), 202, {"Location": f"/epcis/capture/{job.capture_id}"}


def _master_data(doc: object) -> list:
    """The header's master data, checked before anything is written: 400 for a malformed vocabulary, 403 when a
    party describes a place or product that is not its own (an admin may describe any)."""
    try:
        elements = parse_master_data(doc)
    except InvalidEvent as exc:
        raise ApiError(400, f"epcisMasterData: {exc.message}",
                       errors={"json": {exc.location or "epcisHeader": [exc.message]}}) from None
    party = _visible_party()
    if elements and party is not None:
        gtins = [e.key.split(":")[1] for e in elements if e.key.split(":")[0] in ("lot", "class", "item")]
        refused = refused_elements(elements, party, master_data.product_owners(graph(), gtins))
        if refused:
            raise ApiError(403, "a party describes only its own places and products in epcisMasterData",
                           errors={"json": {"epcisHeader.epcisMasterData": [f"not yours: {i}" for i in refused[:20]]}})
    return elements


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


def _query_parameters() -> list[dict]:
    """OpenAPI parameters of the SimpleEventQuery's fixed names (the variable ones, EQ_ILMD_<field> and the like,
    cannot be listed: docs/epcis.md)."""
    out = []
    for name, field in EventQueryArgs().fields.items():
        kind = "integer" if field.__class__.__name__ == "Integer" else "string"
        schema: dict = {"type": kind}
        if name == "perPage":
            schema.update(minimum=1, maximum=1000)
        out.append({"name": name, "in": "query", "required": False, "schema": schema})
    return out


QUERY_PARAMETERS = _query_parameters()


@blp.route("/events")
@require(*READERS)
@blp.doc(parameters=QUERY_PARAMETERS)
@blp.response(200, description="An EPCISQueryDocument")
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException")
@blp.alt_response(413, schema="Error", description="epcisException:QueryTooLargeException (maxEventCount)")
def query_events():
    """Query events (every SimpleEventQuery parameter; perPage and nextPageToken page through the answer)."""
    return run_event_query(request_query_params())


def request_query_params(skip: tuple[str, ...] = ()) -> dict[str, str]:
    """The request's query string as parameter -> text, repeated parameters joined by ``|`` (the binding's
    pipe-delimited lists)."""
    return {k: "|".join(request.args.getlist(k)) for k in request.args if k not in skip}


def load_event_query(params: dict[str, str], extensions: dict[str, str] | None = None) -> dict:
    """Validate a SimpleEventQuery; a problem is the binding's QueryParameterException (400), naming the parameter.

    ``extensions`` are prefixes declared earlier (a named query's); the request's GS1-Extensions header adds to them.
    """
    schema = EventQueryArgs(extensions={**(extensions or {}),
                                        **parse_extensions(request.headers.get("GS1-Extensions"))})
    try:
        return schema.load(params)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        raise ApiError(400, "the request is not valid: " + ", ".join(sorted(map(str, messages))),
                       code="bad_request", errors={"query": messages},
                       problem="epcisException:QueryParameterException") from None


def run_event_query(params: dict[str, str], fixed: dict[str, str] | None = None, name: str = "SimpleEventQuery",
                    extensions: dict[str, str] | None = None):
    """Answer a SimpleEventQuery as an EPCISQueryDocument page, with the Link to the next page.

    ``fixed`` are parameters the resource's path gives (``/bizSteps/shipping/events``); the client may not also
    send them.
    """
    for key in fixed or {}:
        if key in params:
            raise ApiError(400, f"{key} is given by the path", errors={"query": {key: ["given by the path"]}},
                           problem="epcisException:QueryParameterException")
    args = load_event_query({**params, **(fixed or {})}, extensions)
    per_page = args["per_page"]
    limit = per_page
    if args["event_count_limit"] is not None:
        limit = max(0, min(per_page, args["event_count_limit"] - args["emitted"]))
    filters = {**args["filters"], "party": _visible_party()}
    options = {"order_by": args["order_by"], "descending": args["descending"], "predicates": args["predicates"]}
    if args["max_event_count"] is not None and args["after"] is None:
        probe, cut = epcis_query.page(graph(), filters, args["max_event_count"] + 1, None, **options)
        if len(probe) > args["max_event_count"] or cut is not None:
            raise ApiError(413, f"the query matches more than maxEventCount={args['max_event_count']} events",
                           code="payload_too_large", problem="epcisException:QueryTooLargeException")
    rows, cut = (epcis_query.page(graph(), filters, limit + 1, args["after"], **options) if limit
                 else ([], None))
    more = len(rows) > limit
    rows = rows[:limit]
    emitted = args["emitted"] + len(rows)
    last = (rows[-1]["sort_key"], rows[-1]["event_id"]) if more else cut
    if args["event_count_limit"] is not None and emitted >= args["event_count_limit"]:
        last = None
    headers = {}
    if last is not None:
        token = encode_event_token(last, args["fingerprint"], emitted)
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "nextPageToken"]
        headers["Link"] = f'<{request.path}?{urlencode([*query, ("nextPageToken", token)])}>; rel="next"'
    return negotiated(query_document(rows, name, _vocabularies(rows)), 200, headers)


def _vocabularies(rows: list[dict]) -> list[dict]:
    """The captured master data describing the places and classes an answer's events name (one round trip)."""
    keys: set[str] = set()
    for row in rows:
        doc = row["doc"]
        for place in (doc.get("readPoint"), doc.get("bizLocation")):
            if isinstance(place, dict) and isinstance(place.get("id"), str):
                keys.add(place["id"])
        for name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
            for q in doc.get(name) or []:
                if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
                    keys.add(q["epcClass"])
    refs = []
    for uri in keys:
        try:
            refs.append(parse_identifier(uri))
        except GS1Error:
            continue
    found = {r.key for r in refs} | {f"class:{r.gtin}" for r in refs if r.kind == "lot"}
    return master_data.vocabularies_for(graph(), sorted(found))


@blp.route("/events/<path:event_id>")
@require(*READERS)
@blp.response(200, description="An EPCISQueryDocument with the one event")
@blp.alt_response(404, schema="Error", description="No such event")
def get_event(event_id):
    """Show one event by its eventID (URL-encoded)."""
    rows = [epcis_query.get(graph(), event_id, _visible_party())]
    return negotiated(query_document(rows, vocabularies=_vocabularies(rows)))


def query_document(rows: list[dict], name: str = "SimpleEventQuery", vocabularies: list[dict] | None = None) -> dict:
    """Wrap events in an EPCISQueryDocument, declaring the prefixes their own documents declared, with the master
    data captured about their places and classes in the header."""
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
    header = {"epcisHeader": {"epcisMasterData": {"vocabularyList": vocabularies}}} if vocabularies else {}
    return {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": utc_iso_now(),
        **header,
        "epcisBody": {"queryResults": {"queryName": name,
                                       "resultsBody": {"eventList": [wire_event(row["doc"]) for row in rows]}}},
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

