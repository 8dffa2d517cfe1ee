"""FSMA 204 (21 CFR 1.1325-1.1350): a lot's trace as the sortable spreadsheet of §1.1455(c)(3)(ii), one sheet per
critical tracking event, and the required key data elements its records lack."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from app import fsma
from app.api.trace import READERS, TOO_MANY, _download, _key, _party_filter, bounded_period, trace_answer
from app.auth import require
from app.extensions import graph
from app.gcpause import large_answer
from app.schemas.fsma import FsmaPeriodQuery, FsmaQuery, KdeGap
from graph import fsma as fsma_graph
from graph import key_data

blp = Blueprint("fsma", __name__, url_prefix="/api/v1", description="FSMA 204 traceability records")



def _records(args: dict, gtin: str, lot: str) -> tuple[list[dict], str]:
    """The FSMA records of a lot's trace (the caller's view of it) and the header language."""
    answer = trace_answer(_key("lot", gtin, lot), args)
    return _of_rows(list(key_data.key_data_rows(graph(), [n["id"] for n in answer["nodes"]])), args)


def _period_records(args: dict) -> tuple[list[dict], str]:
    """The FSMA records of a period (a producer: the events its party took part in), of one GTIN when given.

    Raises:
        ApiError: 413 when the period holds more events than an export reads (`bounded_period`).
    """
    rows = key_data.period_key_data_rows(graph(), bounded_period(args), party=_party_filter())
    return _of_rows([r for r in rows if "gtin" not in args or r.get("gtin") == args["gtin"]], args)


def _of_rows(rows: list[dict], args: dict) -> tuple[list[dict], str]:
    lang = args.get("lang") or current_app.config.get("FSMA_HEADERS", "en")
    glns = {g for r in rows for g in (r.get("location_gln"), r.get("tlc_source_gln"),
                                      (r.get("ship_from") or {}).get("gln"), (r.get("ship_to") or {}).get("gln")) if g}
    places = fsma_graph.location_descriptions(graph(), sorted(glns), lang)
    origin = [r["event_id"] for r in rows if fsma.cte_of(r) in ("harvesting", "first_land_based_receiving")]
    return fsma.records(rows, places, fsma_graph.harvest_fields(graph(), origin)), lang


@blp.route("/lots/<gtin>/<path:lot>/trace/fsma")
@require(*READERS)
@blp.arguments(FsmaQuery, location="query")
@blp.alt_response(200, success=True, description="XLSX: one sheet per critical tracking event and a combined one")
@blp.alt_response(404, schema="Error", description="No such lot")
@large_answer
def fsma_sheet(args, gtin, lot):
    """A lot's trace as FSMA 204 records: one sheet per CTE with its KDEs in the rule's order, plus all events."""
    records, lang = _records(args, gtin, lot)
    return _download(fsma.workbook(records, lang), "xlsx", f"fsma204-{gtin}-{lot.replace('/', '_')}")


@blp.route("/lots/<gtin>/<path:lot>/trace/kde-gaps")
@require(*READERS)
@blp.arguments(FsmaQuery, location="query")
@blp.response(200, KdeGap(many=True))
@blp.alt_response(404, schema="Error", description="No such lot")
def kde_gaps(args, gtin, lot):
    """The required FSMA 204 key data elements missing from the records of a lot's trace."""
    records, lang = _records(args, gtin, lot)
    return fsma.gaps(records, lang)


@blp.route("/fsma/export")
@require(*READERS)
@blp.arguments(FsmaPeriodQuery, location="query")
@blp.alt_response(200, success=True, description="XLSX: one sheet per critical tracking event and a combined one")
@blp.alt_response(413, schema="Error", description=TOO_MANY)
@large_answer
def fsma_period_sheet(args):
    """The FSMA 204 records of a date range (and one GTIN), as §1.1455(c)(3)(ii) requests them."""
    records, lang = _period_records(args)
    stamp = f"{args['from_']:%Y%m%d}-{args['to']:%Y%m%d}"
    return _download(fsma.workbook(records, lang), "xlsx", f"fsma204-{stamp}")


@blp.route("/fsma/kde-gaps")
@require(*READERS)
@blp.arguments(FsmaPeriodQuery, location="query")
@blp.response(200, KdeGap(many=True))
@blp.alt_response(413, schema="Error", description=TOO_MANY)
def fsma_period_gaps(args):
    """The required FSMA 204 key data elements missing from the records of a date range (and one GTIN)."""
    records, lang = _period_records(args)
    return fsma.gaps(records, lang)
