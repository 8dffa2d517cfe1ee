"""EPCIS 2.0 REST binding: the top-level resources (discovery) and named queries (GS1's epcis-rest-openapi.yaml).

Mounted at /epcis like the capture and event query: GET /epcis lists the top-level resources; /eventTypes, /epcs,
/bizSteps, /bizLocations, /readPoints and /dispositions list their members (paged by perPage and nextPageToken,
Link rel="next"), each member has an ``events`` sub-resource answering the event query with the member as a fixed
parameter. Named queries (/queries) keep a SimpleEventQuery under a name; /queries/{name}/events runs it for the
caller, so a query never shows anyone more than the caller's own event query would.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import request
from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError

from app.api.epcis import (
    EPCIS_CONTEXT,
    QUERY_PARAMETERS,
    READERS,
    _gs1_headers,
    _visible_party,
    load_event_query,
    run_event_query,
)
from app.auth import current_principal, require
from app.errors import ApiError
from app.extensions import graph
from app.schemas.epcis import PageArgs
from app.schemas.epcis_resources import (
    NamedQueryIn,
    NamedQueryOut,
    decode_key_token,
    encode_key_token,
    query_params,
)
from graph import epcis_resources
from graph.errors import Conflict, Forbidden, NotFound
from gs1.epcis import CBV_BIZ_STEPS, CBV_DISPOSITIONS, EVENT_TYPES, OWN_BIZ_STEPS, normalize_vocab, vocab_uri
from gs1.errors import GS1Error
from gs1.event_query import parse_extensions
from gs1.identifiers import parse_identifier, parse_location, ref_from_key

blp = Blueprint("epcis_resources", __name__, url_prefix="/epcis",
                description="EPCIS 2.0 discovery (top-level resources) and named queries (GS1 REST binding)")

blp.after_request(_gs1_headers)  # the same discovery headers (GS1-EPCIS-Version, GS1-CBV-Version) as /epcis/events
TOP_LEVEL = ("queries", "capture", "events", "eventTypes", "epcs", "readPoints", "bizLocations", "dispositions",
             "bizSteps")
_PAGE_ONLY = ("perPage", "nextPageToken")


def _collection(members: list[str]) -> dict:
    return {"@context": EPCIS_CONTEXT, "type": "Collection", "member": members}


def _page_args() -> dict:
    try:
        return PageArgs(unknown=RAISE).load(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(400, "the request is not valid", errors={"query": exc.normalized_messages()},
                       problem="epcisException:QueryParameterException") from None


def _listed(kind: str, fetch, key=lambda item: item) -> tuple[list, int, dict]:
    """One page of a list read in key order (fetch(limit, after) -> items), with the Link to the next page."""
    args = _page_args()
    after = None
    if "nextPageToken" in args:
        try:
            after = decode_key_token(args["nextPageToken"], kind)
        except ValidationError as exc:
            raise ApiError(400, "bad nextPageToken", errors={"query": exc.normalized_messages()},
                           problem="epcisException:QueryParameterException") from None
    keys = fetch(args["perPage"] + 1, after)
    headers = {}
    if len(keys) > args["perPage"]:
        keys = keys[: args["perPage"]]
        token = encode_key_token(kind, key(keys[-1]))
        headers["Link"] = f'<{request.path}?{urlencode({"perPage": args["perPage"], "nextPageToken": token})}>; ' \
                          'rel="next"'
    return keys, 200, headers


def _fixed_list(kind: str, values: tuple[str, ...]) -> tuple[dict, int, dict]:
    """A fixed vocabulary, paged like the lists read from the graph."""
    keys, status, headers = _listed(kind, lambda limit, after: [v for v in values if after is None or v > after]
                                    [:limit])
    return _collection(keys), status, headers


@blp.route("", strict_slashes=False)  # GS1's binding names it "/": /epcis/ answers too
@require(*READERS)
@blp.response(200, description="The top-level resources (a Collection)")
def top_level():
    """List the top-level resources of this EPCIS repository."""
    return _collection(list(TOP_LEVEL))


@blp.route("/eventTypes")
@require(*READERS)
@blp.response(200, description="The event types (a Collection)")
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
def event_types():
    """List the event types this repository captures and queries."""
    return _fixed_list("eventTypes", tuple(sorted(EVENT_TYPES)))


# In one sorted order: pages continue after the last member they listed.
BIZ_STEPS = tuple(sorted({*CBV_BIZ_STEPS, *(vocab_uri(word) for word in OWN_BIZ_STEPS)}))


@blp.route("/bizSteps")
@require(*READERS)
@blp.response(200, description="The business steps: CBV's and this service's own, as URIs (a Collection)")
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
def biz_steps():
    """List the business steps events may carry: CBV's words, and this service's own (harvesting, slaughtering) as
    the URIs its answers write them as."""
    return _fixed_list("bizSteps", BIZ_STEPS)


@blp.route("/dispositions")
@require(*READERS)
@blp.response(200, description="The CBV dispositions (a Collection)")
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
def dispositions():
    """List the CBV dispositions."""
    return _fixed_list("dispositions", CBV_DISPOSITIONS)


@blp.route("/epcs")
@require(*READERS)
@blp.response(200, description="EPCs (Digital Link URIs) named by events the caller may read (a Collection)")
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
def epcs():
    """List the objects (lots, items, logistic units) named by events the caller may read."""
    keys, status, headers = _listed("epcs", lambda limit, after: epcis_resources.epc_keys(
        graph(), _visible_party(), limit, after))
    return _collection([ref_from_key(k).digital_link() for k in keys]), status, headers


@blp.route("/<any(readPoints, bizLocations):resource>")
@require(*READERS)
@blp.response(200, description="Places used as readPoint or bizLocation (a Collection)")
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
@blp.alt_response(404, schema="Error", description="A resource other than readPoints or bizLocations")
def places(resource):
    """List the read points or business locations of events (a party: its own places)."""
    keys, status, headers = _listed(resource, lambda limit, after: epcis_resources.place_keys(
        graph(), resource, _visible_party(), limit, after))
    return _collection([ref_from_key(k).digital_link() for k in keys]), status, headers


def _member(resource: str, value: str) -> dict[str, str]:
    """The fixed query parameter a top-level member stands for; 404 for one that cannot exist."""
    try:
        if resource == "eventTypes":
            if value not in EVENT_TYPES:
                raise GS1Error(f"{value} is not an event type")
            return {"eventType": value}
        if resource == "bizSteps":
            return {"EQ_bizStep": normalize_vocab(value, "bizStep")}
        if resource == "dispositions":
            return {"EQ_disposition": normalize_vocab(value, "disposition")}
        if resource in ("readPoints", "bizLocations"):
            parse_location(value)
            return {"EQ_readPoint" if resource == "readPoints" else "EQ_bizLocation": value}
        ref = parse_identifier(value)
        return {"MATCH_anyEPCClass" if ref.kind in ("lot", "class") else "MATCH_anyEPC": value}
    except GS1Error as exc:
        raise ApiError(404, f"no {resource} member {value!r}: {exc}", code="not_found",
                       problem="epcisException:NoSuchResourceException") from None


_RESOURCES = "any(eventTypes, epcs, bizSteps, bizLocations, readPoints, dispositions)"


@blp.route(f"/<{_RESOURCES}:resource>/<path:value>")
@require(*READERS)
@blp.response(200, description="The member's sub-resources (a Collection holding events)")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchResourceException")
def member(resource, value):
    """List a member's sub-resources (its events)."""
    _member(resource, value)
    return _collection(["events"])


@blp.route(f"/<{_RESOURCES}:resource>/<path:value>/events")
@require(*READERS)
@blp.doc(parameters=QUERY_PARAMETERS)
@blp.response(200, description="An EPCISQueryDocument")
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchResourceException")
@blp.alt_response(413, schema="Error", description="epcisException:QueryTooLargeException (maxEventCount)")
def member_events(resource, value):
    """Events of one member (the event query's parameters narrow them further)."""
    fixed = _member(resource, value)
    return run_event_query({k: "|".join(request.args.getlist(k)) for k in request.args}, fixed)


@blp.route("/queries")
@require(*READERS)
@blp.response(200, NamedQueryOut(many=True))
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
def list_queries():
    """List the named queries (a party: its own)."""
    return _listed("queries", lambda limit, after: epcis_resources.list_queries(
        graph(), _visible_party(), limit, after), key=lambda q: q["name"])


@blp.route("/queries", methods=["POST"])
@require(*READERS)
@blp.arguments(NamedQueryIn, error_status_code=400)
@blp.response(201, description="Created: Location names the query")
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException")
@blp.alt_response(409, schema="Error", description="epcisException:ResourceAlreadyExistsException")
def create_query(body):
    """Create a named query (its parameters are checked as GET /epcis/events checks them)."""
    try:
        params = query_params(body["query"])
    except ValidationError as exc:
        raise ApiError(400, "the query is not valid", errors=exc.normalized_messages(),
                       problem="epcisException:QueryParameterException") from None
    for name in _PAGE_ONLY:
        params.pop(name, None)
    load_event_query(params)
    principal = current_principal()
    try:
        epcis_resources.create_query(graph(), body["name"], body["query"], _visible_party(), principal.token_id,
                                     parse_extensions(request.headers.get("GS1-Extensions")))
    except Conflict as exc:
        raise ApiError(409, exc.message, code="conflict",
                       problem="epcisException:ResourceAlreadyExistsException") from None
    location = f"/epcis/queries/{quote(body['name'], safe='')}"
    return {"name": body["name"], "query": body["query"]}, 201, {"Location": location}


@blp.route("/queries/<name>")
@require(*READERS)
@blp.response(200, NamedQueryOut)
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchNameException")
def get_query(name):
    """Show a named query's definition."""
    return {k: v for k, v in _named(name).items() if k in ("name", "query")}


@blp.route("/queries/<name>", methods=["DELETE"])
@require(*READERS)
@blp.response(204)
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchNameException")
@blp.alt_response(415, schema="Error", description="A body that is not JSON")
def delete_query(name):
    """Delete a named query."""
    _named(name)
    epcis_resources.delete_query(graph(), name, _visible_party())


@blp.route("/queries/<name>/events")
@require(*READERS)
@blp.doc(parameters=[{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}])
@blp.response(200, description="An EPCISQueryDocument")
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException")
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchNameException")
@blp.alt_response(413, schema="Error", description="epcisException:QueryTooLargeException (maxEventCount)")
def query_events(name):
    """Run a named query for the caller (perPage and nextPageToken page through the answer)."""
    stored = _named(name)
    extra = [k for k in request.args if k not in _PAGE_ONLY]
    if extra:
        raise ApiError(400, "a named query takes only perPage and nextPageToken; WebSocket subscriptions are not "
                            "offered", errors={"query": {k: ["not accepted here"] for k in extra}},
                       problem="epcisException:QueryParameterException")
    params = {k: v for k, v in query_params(stored["query"]).items() if k not in _PAGE_ONLY}
    params.update({k: request.args[k] for k in _PAGE_ONLY if k in request.args})
    return run_event_query(params, extensions=stored["extensions"])


def _named(name: str) -> dict:
    try:
        return epcis_resources.get_query(graph(), name, _visible_party())
    except NotFound as exc:
        raise ApiError(404, exc.message, code="not_found", problem="epcisException:NoSuchNameException") from None
    except Forbidden as exc:
        raise ApiError(403, exc.message, code="forbidden", problem="epcisException:SecurityException") from None
