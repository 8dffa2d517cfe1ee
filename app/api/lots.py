"""Lots (GTIN + lot number)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import ensure_party, require
from app.extensions import graph
from app.schemas.lots import LotIn, LotOut
from graph import lots

blp = Blueprint("lots", __name__, url_prefix="/api/v1/lots", description="Lots")


@blp.route("", methods=["POST"])
@require("producer", "admin")
@blp.arguments(LotIn)
@blp.response(201, LotOut)
@blp.alt_response(409, schema="Error", description="The lot exists already")
def create_lot(body):
    """Register a lot at its origin, held by its producing party."""
    ensure_party(body["owner_gln"], "owner_gln")
    body = {**body, "production_date": body["production_date"].isoformat(),
            "expiry_date": body["expiry_date"].isoformat() if body["expiry_date"] else None}
    return {**lots.create(graph(), body), "holders": [
        {"gln": body["owner_gln"], "quantity": body["quantity"], "unit": body["unit"]}]}


@blp.route("/<gtin>/<path:lot>")
@blp.response(200, LotOut)
@blp.alt_response(404, schema="Error", description="No such lot")
def get_lot(gtin, lot):
    """Show a lot and who holds it."""
    return lots.get(graph(), gtin, lot)
