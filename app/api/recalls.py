"""Recall cases, acknowledgements, and holds on lots under investigation."""

from __future__ import annotations

from flask import Response, jsonify
from flask_smorest import Blueprint

from app import exports
from app.api.trace import _key
from app.auth import current_principal, ensure_party, require
from app.errors import ApiError
from app.extensions import graph
from app.gcpause import large_answer
from app.schemas.recalls import AckIn, CloseIn, HoldIn, HoldOut, RecallExportQuery, RecallIn, RecallOut
from graph import recalls
from gs1.identifiers import lot_key

blp = Blueprint("recalls", __name__, url_prefix="/api/v1", description="Recalls and holds")


def _visible(case: dict) -> dict:
    """A holder sees the case with its own row only; regulators see every holder."""
    principal = current_principal()
    if principal.role in ("regulator", "admin"):
        return case
    mine = [h for h in case["holders"] if h["party"]["gln"] == principal.party_gln]
    if not mine:
        raise ApiError(403, f"party {principal.party_gln} is not a holder in recall {case['recall_id']}")
    return {**case, "holders": mine, "effectiveness": None}


@blp.route("/recalls", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(RecallIn)
@blp.alt_response(201, schema=RecallOut, success=True, description="The case")
@blp.alt_response(404, schema="Error", description="An implicated lot does not exist")
@large_answer
def open_recall(body):
    """Open a recall: mark the forward closure recalled, record it as EPCIS events, list every holder."""
    window = body["window"]
    window = (window["from_"], window["to"]) if window and window.get("from_") else None
    case = recalls.open_case(graph(), [lot_key(x["gtin"], x["lot"]) for x in body["lots"]], body["level"],
                             body["reason"], window, opened_by=current_principal().token_id)
    response = jsonify(case)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/recalls/{case['recall_id']}"
    return response


@blp.route("/recalls/<recall_id>")
@require("regulator", "admin", "producer")
@blp.alt_response(200, schema=RecallOut, success=True, description="The case")
@blp.alt_response(404, schema="Error", description="No such recall")
@large_answer
def get_recall(recall_id):
    """Show a case: affected lots, holders with contacts and quantities, deadlines, effectiveness."""
    return jsonify(_visible(recalls.get(graph(), recall_id)))


@blp.route("/recalls/<recall_id>/acknowledgements", methods=["POST"])
@require("regulator", "admin", "producer")
@blp.arguments(AckIn)
@blp.alt_response(201, schema=RecallOut, success=True, description="The case with the acknowledgement")
@blp.alt_response(404, schema="Error", description="No such recall")
@blp.alt_response(409, schema="Error", description="The case is closed")
@large_answer
def acknowledge(body, recall_id):
    """Record that a holder removed/recovered its stock (a producer for its own party, or a regulator)."""
    principal = current_principal()
    if principal.role == "producer":
        ensure_party(body["party_gln"], "party_gln")
    ack = {"party_gln": body["party_gln"], "quantity_removed": body["quantity_removed"],
           "quantity_recovered": body["quantity_recovered"], "unit": body["unit"], "note": body["note"],
           "lot_key": lot_key(body["gtin"], body["lot"]) if body["gtin"] else None,
           "token_id": principal.token_id}
    response = jsonify(_visible(recalls.acknowledge(graph(), recall_id, ack)))
    response.status_code = 201
    return response


@blp.route("/recalls/<recall_id>/close", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(CloseIn)
@blp.alt_response(200, schema=RecallOut, success=True, description="The closed case")
@blp.alt_response(404, schema="Error", description="No such recall")
@blp.alt_response(409, schema="Error", description="Closed already")
@large_answer
def close_recall(body, recall_id):
    """Close a case."""
    return jsonify(recalls.close(graph(), recall_id, current_principal().token_id, body["note"]))


@blp.route("/recalls/<recall_id>/export")
@require("regulator", "admin")
@blp.arguments(RecallExportQuery, location="query")
@blp.alt_response(200, success=True, description="CSV or XLSX")
@blp.alt_response(404, schema="Error", description="No such recall")
@large_answer
def export_recall(args, recall_id):
    """The case's sortable spreadsheet of key data elements (FSMA 204 / PTI columns)."""
    rows = recalls.export_rows(graph(), recall_id)
    fmt = args["format"]
    body = exports.to_csv(rows) if fmt == "csv" else exports.to_xlsx(rows, recall_id)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = exports.attachment(f"{recall_id}.{fmt}")
    return response


@blp.route("/lots/<gtin>/<path:lot>/hold", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(HoldIn)
@blp.response(200, HoldOut)
@blp.alt_response(404, schema="Error", description="No such lot")
@blp.alt_response(409, schema="Error", description="The lot is recalled")
def hold_lot(body, gtin, lot):
    """Put a lot on hold while investigating: it cannot be shipped or sold until released."""
    return recalls.set_hold(graph(), _key("lot", gtin, lot), True, body["reason"])


@blp.route("/lots/<gtin>/<path:lot>/release", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(HoldIn)
@blp.response(200, HoldOut)
@blp.alt_response(404, schema="Error", description="No such lot")
@blp.alt_response(409, schema="Error", description="The lot is recalled")
def release_lot(body, gtin, lot):
    """Release a held lot."""
    return recalls.set_hold(graph(), _key("lot", gtin, lot), False)
