"""Trace: lineage of lots, items and logistic units, common sources, and traceability exports."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app, jsonify
from flask_smorest import Blueprint

from app import exports
from app.auth import current_principal, require
from app.errors import ApiError
from app.extensions import graph
from app.gcpause import large_answer
from app.schemas.trace import (
    CommonSourceIn,
    CommonSourceOut,
    RangeExportQuery,
    TraceExportQuery,
    TraceOut,
    TraceQuery,
)
from graph import epcis_query, key_data
from graph import trace as tracing
from gs1 import keys as gs1_keys
from gs1.identifiers import lot_key

blp = Blueprint("trace", __name__, url_prefix="/api/v1", description="Trace and traceability exports")

READERS = ("regulator", "admin", "producer")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "epcis": "application/ld+json"}


def _key(kind: str, gtin: str, rest: str) -> str:
    """Validate path values (422 naming the part) and return the business key."""
    try:
        gtin = gs1_keys.validate_gtin(gtin)
        rest = gs1_keys.validate_lot(rest) if kind == "lot" else gs1_keys.validate_serial(rest)
    except ValueError as exc:
        field = "gtin" if "GTIN" in str(exc) or "gtin" in str(exc) else kind
        raise ApiError(422, f"the path is not valid: {exc}", errors={"path": {field: [str(exc)]}}) from exc
    return f"{kind}:{gtin}:{rest}"


def _window(args: dict) -> tuple[datetime, datetime] | None:
    return (args["from_"], args["to"]) if args.get("from_") is not None else None


def _party_filter() -> str | None:
    """Regulators and admins see everything; a producer only what its party holds or held."""
    principal = current_principal()
    return principal.party_gln if principal.role == "producer" else None


def trace_answer(key: str, args: dict, with_docs: bool = False) -> dict:
    """Run the trace for the caller, hiding private party fields from non-regulators."""
    answer = tracing.trace(graph(), key, args["direction"], _window(args), party=_party_filter(),
                           with_docs=with_docs)
    if current_principal().role not in ("regulator", "admin"):
        answer["parties"] = tracing.public_parties(answer["parties"])
    return answer


def _download(body: bytes, fmt: str, name: str) -> Response:
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = exports.attachment(f'{name}.{"jsonld" if fmt == "epcis" else fmt}')
    return response


def export_trace(answer: dict, fmt: str, name: str, rows: list[dict] | None = None) -> Response:
    """Answer a trace as CSV, XLSX or an EPCISDocument."""
    if fmt == "epcis":
        prefixes = epcis_query.prefixes_of(graph(), [d["eventID"] for d in answer["docs"] if d.get("eventID")])
        document = exports.epcis_document(answer["docs"], prefixes=prefixes, parties=answer.get("parties") or [])
        return _download(jsonify(document).get_data(), fmt, name)
    if rows is None:
        rows = key_data.key_data_rows(graph(), [n["id"] for n in answer["nodes"]])
    body = exports.to_csv(rows) if fmt == "csv" else exports.to_xlsx(rows, "Trace")
    return _download(body, fmt, name)


@blp.route("/lots/<gtin>/<path:lot>/trace")
@require(*READERS)
@blp.arguments(TraceQuery, location="query")
@blp.alt_response(200, schema=TraceOut, success=True, description="The lineage (nodes + edges, events, parties)")
@blp.alt_response(404, schema="Error", description="No such lot")
@large_answer
def trace_lot(args, gtin, lot):
    """Trace a lot back to its origins and/or forward to every holder, in one graph traversal."""
    return jsonify(trace_answer(_key("lot", gtin, lot), args))


@blp.route("/items/<gtin>/<path:serial>/trace")
@require(*READERS)
@blp.arguments(TraceQuery, location="query")
@blp.alt_response(200, schema=TraceOut, success=True, description="The lineage (nodes + edges, events, parties)")
@blp.alt_response(404, schema="Error", description="No such item")
@large_answer
def trace_item(args, gtin, serial):
    """Trace a serialized item (a gift box, an animal) back and/or forward."""
    return jsonify(trace_answer(_key("item", gtin, serial), args))


@blp.route("/lots/<gtin>/<path:lot>/trace/export")
@require(*READERS)
@blp.arguments(TraceExportQuery, location="query")
@blp.alt_response(200, success=True, description="CSV, XLSX or an EPCIS 2.0 JSON-LD document")
@blp.alt_response(404, schema="Error", description="No such lot")
@large_answer
def export_lot_trace(args, gtin, lot):
    """Export a lot's trace: a sortable FSMA 204-style spreadsheet, or every event as an EPCISDocument."""
    key = _key("lot", gtin, lot)
    answer = trace_answer(key, args, with_docs=args["format"] == "epcis")
    return export_trace(answer, args["format"], f"trace-{gtin}-{lot.replace('/', '_')}")


# The most events a period export reads (PERIOD_EXPORT_MAX_EVENTS): a wider period answers 413 after an index read of
# this many entries, never the whole history. FSMA 204 (§1.1455(c)(3)(ii)) lets the FDA name any date range; a range
# beyond this is delivered as consecutive shorter ranges (the sheets together hold the same records).
PERIOD_MAX_EVENTS = 50_000
TOO_MANY = "periods holding more than PERIOD_EXPORT_MAX_EVENTS (default 50,000) events: ask for shorter periods"


def bounded_period(args: dict) -> tuple[datetime, datetime]:
    """The (from, to) of a period export, when the period holds no more events than an export reads.

    Raises:
        ApiError: 413 when more than PERIOD_EXPORT_MAX_EVENTS events were recorded in the period (of any party and
            food: they are what the export reads, before a producer's are kept).
    """
    period = (args["from_"], args["to"])
    cap = current_app.config.get("PERIOD_EXPORT_MAX_EVENTS", PERIOD_MAX_EVENTS)
    if key_data.events_in_period(graph(), period, cap + 1) > cap:
        raise ApiError(413, f"more than {cap} events were recorded between {period[0].isoformat()} and "
                            f"{period[1].isoformat()}: ask for shorter periods (together they hold the same records)")
    return period


@blp.route("/trace/export")
@require(*READERS)
@blp.arguments(RangeExportQuery, location="query")
@blp.alt_response(200, success=True, description="CSV or XLSX")
@blp.alt_response(413, schema="Error", description=TOO_MANY)
@large_answer
def export_period(args):
    """Export every key data element recorded in a period (a producer: only events its party took part in)."""
    rows = key_data.period_key_data_rows(graph(), bounded_period(args), party=_party_filter())
    stamp = f"{args['from_'].astimezone(UTC):%Y%m%d}-{args['to'].astimezone(UTC):%Y%m%d}"
    body = exports.to_csv(rows) if args["format"] == "csv" else exports.to_xlsx(rows, "Period")
    return _download(body, args["format"], f"kde-{stamp}")


@blp.route("/trace/common-source", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(CommonSourceIn)
@blp.response(200, CommonSourceOut)
@large_answer
def common_source(body):
    """Rank the upstream lots, parties and events that several implicated lots share (outbreak investigation)."""
    keys = [lot_key(x["gtin"], x["lot"]) for x in body["lots"]]
    return tracing.common_source(graph(), keys, body["min_shared"], body["limit"])
