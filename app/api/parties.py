"""Parties: farms, processors, distributors, retailers, labs, regulators."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import current_principal, require
from app.extensions import graph
from app.schemas.parties import PartyIn, PartyOut, PartyPublic
from graph import parties

blp = Blueprint("parties", __name__, url_prefix="/api/v1/parties", description="Parties (GLN)")


@blp.route("", methods=["POST"])
@require("admin")
@blp.arguments(PartyIn)
@blp.response(201, PartyOut)
@blp.alt_response(409, schema="Error", description="A party with this GLN exists")
def create_party(body):
    """Register a party (admin)."""
    return parties.create(graph(), body)


@blp.route("/<gln>")
@blp.response(200, PartyOut)
@blp.alt_response(404, schema="Error", description="No such party")
def get_party(gln):
    """Show a party: contacts only to the party itself, regulators and admins."""
    party = parties.get(graph(), gln)
    principal = current_principal()
    if principal is None or not (principal.role in ("regulator", "admin") or principal.party_gln == gln):
        return PartyPublic().dump(party)
    return party
