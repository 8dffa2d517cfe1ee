"""API tokens (admin)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.auth import require
from app.extensions import graph
from app.schemas.tokens import TokenIn, TokenOut
from graph import tokens

blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens")


@blp.route("", methods=["POST"])
@require("admin")
@blp.arguments(TokenIn)
@blp.response(201, TokenOut)
def create_token(body):
    """Create a token for a party and role; the secret is in this answer only."""
    return tokens.create(graph(), body["role"], body["party_gln"], body["label"])
