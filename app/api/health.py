"""Liveness of the service and its database."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.extensions import graph

blp = Blueprint("health", __name__, description="Service health")


class HealthOut(Schema):
    """The service and its database answer."""

    status = fields.String(metadata={"example": "ok"})
    neo4j = fields.String(metadata={"description": "Neo4j server version", "example": "5.26.31"})


@blp.route("/healthz")
@blp.response(200, HealthOut)
@blp.alt_response(503, schema="Error", description="Neo4j does not answer")
def healthz():
    """Report whether the service and Neo4j answer."""
    return {"status": "ok", "neo4j": graph().server_version()}
