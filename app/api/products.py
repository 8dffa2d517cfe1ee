"""Products (GTIN)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import ensure_party, require
from app.errors import ApiError
from app.extensions import graph
from app.schemas.products import LicenseesIn, LicenseesOut, ProductFactsIn, ProductIn, ProductOut
from graph import ownership, parties, products

blp = Blueprint("products", __name__, url_prefix="/api/v1/products", description="Products (GTIN)")


@blp.route("", methods=["POST"])
@require("producer", "admin")
@blp.arguments(ProductIn)
@blp.response(201, ProductOut)
@blp.alt_response(409, schema="Error", description="A product with this GTIN exists")
def create_product(body):
    """Register a product owned by the caller's party, under one of its GS1 company prefixes (admin: any)."""
    principal = ensure_party(body["owner_gln"], "owner_gln")
    if principal.role != "admin":
        prefixes = parties.get(graph(), principal.party_gln).get("company_prefixes")
        denial = ownership.product_registration_denial(principal.role, principal.party_gln, prefixes,
                                                       body["owner_gln"], body["gtin"])
        if denial:
            raise ApiError(403, denial, errors={"json": {"gtin": [denial]}})
    return products.create(graph(), body)


@blp.route("/<gtin>")
@blp.response(200, ProductOut)
@blp.alt_response(404, schema="Error", description="No such product")
def get_product(gtin):
    """Show a product."""
    return products.get(graph(), gtin)


@blp.route("/<gtin>", methods=["PATCH"])
@require("producer", "admin")
@blp.arguments(ProductFactsIn)
@blp.response(200, ProductOut)
@blp.alt_response(404, schema="Error", description="No such product")
def set_product_facts(body, gtin):
    """Set the brand owner's facts for shoppers on its product: storage conditions, variety (others stay)."""
    ensure_party(products.get(graph(), gtin)["owner_gln"], "gtin")
    return products.set_facts(graph(), gtin, body)


@blp.route("/<gtin>/licensees", methods=["PUT"])
@require("producer", "admin")
@blp.arguments(LicenseesIn)
@blp.response(200, LicenseesOut)
@blp.alt_response(404, schema="Error", description="No such product or party")
def set_licensees(body, gtin):
    """Name the parties the brand owner authorises to make lots of this product (replaces the list)."""
    ensure_party(products.get(graph(), gtin)["owner_gln"], "gtin")
    return products.set_licensees(graph(), gtin, body["glns"])
