"""Workbench pages: home, a lot, ship, receive (a batch is registered on batches.py's /work/batch). Thin views
over the API's own functions.

Input is checked by the API's schemas (ShipmentIn, ReceiptIn), events are built by the API's builders
(gs1/event_builders.py) and written through app/capture.record_events with the user's principal: a page can do no
more than the same user's token could.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.capture import record_events
from app.errors import status_of
from app.extensions import graph
from app.schemas.events import ReceiptIn, ShipmentIn
from app.web.work import TEXT, UNITS, bp, lang, render
from graph import workbench
from graph.errors import GraphError, Unavailable
from gs1 import event_builders as build

_SHIPMENT = ShipmentIn()
_RECEIPT = ReceiptIn()
SEE_ALL = ("regulator", "admin")
# The ship page's receiver list: the first parties by name (a phone's list of more is not read; it costs the page).
SHIP_RECEIVERS = 200


def _party() -> str:
    """The user's party; an account without one (an admin) has no workbench of its own."""
    if not current_user.party_gln:
        abort(403)
    return current_user.party_gln


@bp.route("/")
def home():
    """My lots with what I hold, shipments waiting for me to confirm, and warnings."""
    if not current_user.party_gln:
        return render("work/home.html", facts=None)
    facts = workbench.home(graph(), current_user.party_gln)
    return render("work/home.html", facts=facts, changed=request.args.get("changed"),
                  done=request.args.get("done"))


@bp.route("/lots/<gtin>/<path:lot>")
def lot_page(gtin: str, lot: str):
    """One lot as my party may see it; another party's lot does not exist here (404)."""
    facts = workbench.lot(graph(), current_user.party_gln, gtin, lot, see_all=current_user.role in SEE_ALL)
    if facts is None:
        abort(404)
    return render("work/lot.html", f=facts)


@bp.route("/ship", methods=["GET", "POST"])
def ship():
    """Ship some of a lot I hold to a party picked by name (POST /api/v1/shipments does the same)."""
    gln = _party()
    held = [x for x in workbench.home(graph(), gln)["lots"] if x["quantity"] - x["pending"] > 0]
    receivers = workbench.receivers(graph(), gln, limit=SHIP_RECEIVERS)
    if request.method == "GET":
        form = {"lot_key": request.args.get("lot", "")}
        return render("work/ship.html", held=held, receivers=receivers, form=form, errors={})
    form = {k: request.form.get(k, "").strip() for k in ("lot_key", "destination_gln", "quantity", "document")}
    chosen = next((x for x in held if f"{x['gtin']}|{x['lot']}" == form["lot_key"]), None)
    errors = {}
    if chosen is None:
        errors["lot_key"] = TEXT[lang()]["ship_pick_lot"]
    else:
        on_hand = chosen["quantity"] - chosen["pending"]
        try:
            if float(form["quantity"]) > on_hand:
                errors["quantity"] = TEXT[lang()]["ship_too_much"].format(
                    n=_num(on_hand), unit=UNITS.get(chosen["unit"], (chosen["unit"],) * 2)[lang() == "en"])
        except ValueError:
            errors["quantity"] = TEXT[lang()]["ship_quantity"]
    if not errors:
        body = {"party_gln": gln, "destination_gln": form["destination_gln"],
                "lots": [{"gtin": chosen["gtin"], "lot": chosen["lot"], "quantity": form["quantity"],
                          "unit": chosen["unit"]}],
                "documents": [{"type": "desadv", "id": form["document"]}] if form["document"] else []}
        try:
            data = _SHIPMENT.load(body)
        except ValidationError as exc:
            errors = _flat(exc.messages)
    if errors:
        return render("work/ship.html", status=422, held=held, receivers=receivers, form=form, errors=errors)
    refused = _record(build.shipment_event(data))
    if refused is not None:
        return render("work/ship.html", status=status_of(refused), held=held, receivers=receivers, form=form,
                      errors={"form": refused.message})
    return redirect(url_for("work.home", done="ship"), 303)


@bp.route("/receive", methods=["POST"])
def receive():
    """Confirm an inbound shipment from my list: receive what was shipped to me (POST /api/v1/receipts)."""
    gln = _party()
    form = {k: request.form.get(k, "").strip() for k in ("gtin", "lot", "source_gln")}
    waiting = next((x for x in workbench.home(graph(), gln)["inbound"]
                    if (x["gtin"], x["lot"], x["source_gln"]) == (form["gtin"], form["lot"], form["source_gln"])), None)
    if waiting is None:
        abort(404)
    data = _RECEIPT.load({"party_gln": gln, "source_gln": waiting["source_gln"],
                          "lots": [{"gtin": waiting["gtin"], "lot": waiting["lot"], "quantity": waiting["quantity"],
                                    "unit": waiting["unit"]}]})
    refused = _record(build.receipt_event(data))
    if refused is not None:
        raise refused
    return redirect(url_for("work.home", done="receive"), 303)


def _record(event: dict) -> GraphError | None:
    """Record through the one write path as the user's principal; return a rule's refusal (the page shows it)."""
    try:
        record_events([event], current_user.principal)
    except Unavailable:
        raise
    except GraphError as exc:
        return exc
    return None


def _flat(messages: dict) -> dict:
    """marshmallow's nested messages as {field: first message} (lots.0.quantity -> quantity)."""
    out: dict[str, str] = {}

    def walk(node, name):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k if not str(k).isdigit() else name)
        elif isinstance(node, list) and node and isinstance(node[0], str):
            out.setdefault(name, node[0])

    walk(messages, "form")
    return out


def _num(value: float) -> str:
    return f"{value:g}"
