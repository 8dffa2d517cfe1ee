"""Products (GTIN)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import ensure_party, require
from app.extensions import graph
from app.schemas.products import ProductIn, ProductOut
from graph import products

blp = Blueprint("products", __name__, url_prefix="/api/v1/products", description="Products (GTIN)")


@blp.route("", methods=["POST"])
@require("producer", "admin")
@blp.arguments(ProductIn)
@blp.response(201, ProductOut)
@blp.alt_response(409, schema="Error", description="A product with this GTIN exists")
def create_product(body):
    """Register a product owned by the caller's party."""
    ensure_party(body["owner_gln"], "owner_gln")
    return products.create(graph(), body)


@blp.route("/<gtin>")
@blp.response(200, ProductOut)
@blp.alt_response(404, schema="Error", description="No such product")
def get_product(gtin):
    """Show a product."""
    return products.get(graph(), gtin)
