"""Lots (GTIN + lot number)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import Principal, current_principal, ensure_party, require
from app.capture import policy_for
from app.extensions import graph
from app.schemas.events import OriginLotIn
from app.schemas.lots import LotOut
from graph import cold_chain, lots
from gs1.identifiers import lot_key

blp = Blueprint("lots", __name__, url_prefix="/api/v1/lots", description="Lots")


@blp.route("", methods=["POST"])
@require("producer", "admin")
@blp.arguments(OriginLotIn)
@blp.response(201, LotOut)
@blp.alt_response(409, schema="Error", description="The lot exists already")
def create_lot(body):
    """Register a lot at its origin (harvest, slaughter), held by its producing party; records the EPCIS event."""
    ensure_party(body["owner_gln"], "owner_gln")
    origin = {"kind": body.pop("origin"), "animal_ids": body.pop("animal_ids"),
              "quarantine_certificate": body.pop("quarantine_certificate"), "age_years": body.pop("age_years")}
    body = {**body, "production_date": body["production_date"].isoformat(),
            "expiry_date": body["expiry_date"].isoformat() if body["expiry_date"] else None}
    created = lots.create(graph(), body, origin, policy_for(current_principal()))
    return {**created, "holders": [{"gln": body["owner_gln"], "quantity": body["quantity"], "unit": body["unit"]}]}


@blp.route("/<gtin>/<path:lot>")
@blp.response(200, LotOut, description="Without a token only the public part (no quantity, no holders); the "
              "lot's owner, regulators and admins see every holder, another party only its own holding")
@blp.alt_response(404, schema="Error", description="No such lot")
def get_lot(gtin, lot):
    """Show a lot; who holds how much only to those allowed to know it."""
    return visible_lot(lots.get(graph(), gtin, lot), current_principal())


PUBLIC_LOT_FIELDS = ("gtin", "lot", "unit", "production_date", "expiry_date", "status", "owner_gln", "age_years")


def visible_lot(lot: dict, principal: Principal | None) -> dict:
    """The part of a lot this caller may see: who holds how much is a party's trade secret."""
    if principal is not None and principal.role in ("regulator", "admin"):
        return {**lot, "warnings": cold_chain.lot_warnings(graph(), lot_key(lot["gtin"], lot["lot"]))}
    if principal is not None and principal.party_gln == lot["owner_gln"]:
        return {**lot, "warnings": cold_chain.lot_warnings(graph(), lot_key(lot["gtin"], lot["lot"]),
                                                           party=principal.party_gln)}
    public = {k: lot[k] for k in PUBLIC_LOT_FIELDS}
    if principal is not None:
        public["holders"] = [h for h in lot["holders"] if h["gln"] == principal.party_gln]
    return public
