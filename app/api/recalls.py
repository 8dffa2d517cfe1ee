"""Recall cases, acknowledgements, and holds on lots under investigation."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from flask import Response, current_app, jsonify
from flask_smorest import Blueprint

from app import exports
from app.api.trace import _key
from app.auth import current_principal, ensure_party, require
from app.errors import ApiError
from app.extensions import graph
from app.gcpause import large_answer
from app.notify import notify_key
from app.schemas.fields import GLN
from app.schemas.recalls import (
    AckIn,
    CloseIn,
    HoldIn,
    HoldOut,
    RecallChangeIn,
    RecallExportQuery,
    RecallIn,
    RecallListOut,
    RecallListQuery,
    RecallOut,
    RotateIn,
    WebhookIn,
    WebhookOut,
)
from graph import notify_rules, outbox, recall_cases, recalls
from gs1.identifiers import lot_key
from gs1.subscription_rules import dest_problem

blp = Blueprint("recalls", __name__, url_prefix="/api/v1", description="Recalls and holds")


def _visible(case: dict) -> dict:
    """A holder sees the case with its own row only; regulators, and the owner that opened its own recall, see every
    holder (a lot's holders are shown to its owner)."""
    principal = current_principal()
    if principal.role in ("regulator", "admin") or (
            case.get("opened_by_party") and case["opened_by_party"] == principal.party_gln):
        return case
    mine = [h for h in case["holders"] if h["party"]["gln"] == principal.party_gln]
    if not mine:
        raise ApiError(403, f"party {principal.party_gln} is not a holder in recall {case['recall_id']}")
    return {**case, "holders": mine, "effectiveness": None}


@blp.route("/recalls", methods=["POST"])
@require("regulator", "admin", "producer")
@blp.arguments(RecallIn)
@blp.alt_response(201, schema=RecallOut, success=True, description="The case")
@blp.alt_response(404, schema="Error", description="An implicated lot does not exist")
@large_answer
def open_recall(body):
    """Open a recall (a producer: only of lots it owns, 自主召回; `drill`: a mock recall), notices to every holder."""
    principal = current_principal()
    window = body["window"]
    window = (window["from_"], window["to"]) if window and window.get("from_") else None
    own = principal.party_gln if principal.role == "producer" else None
    case = recalls.open_case(graph(), [lot_key(x["gtin"], x["lot"]) for x in body["lots"]], body["level"],
                             body["reason"], window, opened_by=principal.token_id, notify_key=notify_key(),
                             drill=body["drill"], owner_gln=own, refund_contact=body["refund_contact"])
    response = jsonify(case)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/recalls/{case['recall_id']}"
    return response


@blp.route("/recalls", methods=["GET"])
@require("regulator", "admin", "producer", "lab")
@blp.arguments(RecallListQuery, location="query")
@blp.response(200, RecallListOut)
@blp.alt_response(400, schema="Error", description="A page token this list did not make")
def list_recalls(args):
    """List recall cases, newest first (a party: the cases it opened or holds in; regulators and admins: all)."""
    principal = current_principal()
    viewer = None if principal.role in ("regulator", "admin") else principal.party_gln
    filters = {"status": args["status"], "level": args["level"], "gtin": args["gtin"], "party": args["party"],
               "drill": args["drill"], "from": _iso(args["from_"]), "to": _iso(args["to"])}
    page = recall_cases.list_cases(graph(), filters, viewer, args["limit"], _position(args["page"]))
    return {"cases": page["cases"], "next": _page_token(page["next"])}


def _iso(value):
    return value.isoformat() if value else None


def _page_token(position: tuple[str, str] | None) -> str | None:
    if position is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def _position(token: str | None) -> tuple[str, str] | None:
    """The list position a page token names; 400 for a token this server did not make."""
    if not token:
        return None
    try:
        at, recall_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not isinstance(recall_id, str) or len(recall_id) > 40:
            raise ValueError(recall_id)
        at = when.isoformat()  # as Neo4j's datetime() reads it, whatever ISO spelling the token held
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "page is not a page token of this list", errors={"query": {"page": ["not valid"]}}) \
            from exc
    return at, recall_id


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


@blp.route("/recalls/<recall_id>", methods=["PATCH"])
@require("regulator", "admin", "producer")
@blp.arguments(RecallChangeIn)
@blp.alt_response(200, schema=RecallOut, success=True, description="The changed case")
@blp.alt_response(404, schema="Error", description="No such recall")
@blp.alt_response(409, schema="Error", description="The case is closed")
@large_answer
def change_recall(body, recall_id):
    """Change an open case's level or reason (deadlines follow the level); every holder is told."""
    principal = current_principal()
    if principal.role == "producer" and recall_cases.opened_by_party(graph(), recall_id) != principal.party_gln:
        raise ApiError(403, f"party {principal.party_gln} did not open recall {recall_id}")
    return jsonify(_visible(recall_cases.change(graph(), recall_id, body["level"], body["reason"], principal.token_id,
                                           notify_key=notify_key())))


@blp.route("/recalls/<recall_id>/close", methods=["POST"])
@require("regulator", "admin")
@blp.arguments(CloseIn)
@blp.alt_response(200, schema=RecallOut, success=True, description="The closed case")
@blp.alt_response(404, schema="Error", description="No such recall")
@blp.alt_response(409, schema="Error", description="Closed already")
@large_answer
def close_recall(body, recall_id):
    """Close a case (every holder is told)."""
    return jsonify(recalls.close(graph(), recall_id, current_principal().token_id, body["note"],
                                 notify_key=notify_key()))


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


@blp.route("/recalls/<recall_id>/report")
@require("regulator", "admin", "producer")
@blp.alt_response(200, success=True, description="Time to trace, holders reached and acknowledged in 24/48 h")
@blp.alt_response(404, schema="Error", description="No such recall")
def recall_report(recall_id):
    """A case's (or drill's) report: time to trace, holders reached and acknowledged within 24 h / 48 h, missed."""
    case = recalls.get(graph(), recall_id)
    principal = current_principal()
    if principal.role == "producer" and case["opened_by_party"] != principal.party_gln:
        raise ApiError(403, f"party {principal.party_gln} did not open recall {recall_id}")
    return jsonify(notify_rules.drill_report(case, recall_cases.deliveries(graph(), recall_id)))


# Parties' webhook endpoints for recall notices: each party registers and rotates its own, under its own token.

def _party(gln: str) -> str:
    """The GLN of the path, valid and the caller's own party (admin: any)."""
    try:
        gln = GLN().deserialize(gln)
    except Exception as exc:  # noqa: BLE001 - a marshmallow ValidationError: the path is not a GLN
        raise ApiError(404, f"no party with GLN {gln}") from exc
    ensure_party(gln, "gln")
    return gln


@blp.route("/parties/<gln>/webhook", methods=["PUT"])
@require("producer", "lab", "admin")
@blp.arguments(WebhookIn)
@blp.response(200, WebhookOut)
@blp.alt_response(404, schema="Error", description="No such party, or it has no webhook")
def put_webhook(body, gln):
    """Register or move the party's endpoint; a new endpoint's signing secret is answered once."""
    gln = _party(gln)
    # in production https only, and never a loopback, private or link-local host (as subscription dests): the worker
    # would otherwise post into our own network; a name is checked again at each delivery (app/outbound.py)
    problem = dest_problem(body["url"], current_app.config["ENV"] == "production")
    if problem:
        message = "a webhook must use https" if problem == "use https" else f"this webhook URL is refused: {problem}"
        raise ApiError(422, message, errors={"json": {"url": [problem]}})
    return outbox.set_webhook(graph(), notify_key(), gln, body["url"])


@blp.route("/parties/<gln>/webhook", methods=["GET"])
@require("producer", "lab", "admin")
@blp.response(200, WebhookOut)
@blp.alt_response(404, schema="Error", description="No such party, or it has no webhook")
def get_webhook(gln):
    """The party's endpoint, secret version and fingerprint (never the secret)."""
    return outbox.get_webhook(graph(), _party(gln))


@blp.route("/parties/<gln>/webhook/rotate", methods=["POST"])
@require("producer", "lab", "admin")
@blp.arguments(RotateIn)
@blp.response(200, WebhookOut)
@blp.alt_response(404, schema="Error", description="No such party, or it has no webhook")
def rotate_webhook(body, gln):
    """Replace the party's signing secret (answered once); messages are signed with the new one from now on."""
    return outbox.rotate_secret(graph(), notify_key(), _party(gln))
