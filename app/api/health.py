"""Liveness of the service and its database."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.extensions import graph
from gs1.schema import schema_available

blp = Blueprint("health", __name__, description="Service health")


class HealthOut(Schema):
    """The service and its database answer."""

    status = fields.String(metadata={"example": "ok"})
    neo4j = fields.String(metadata={"description": "Neo4j server version", "example": "5.26.31"})
    details = fields.Dict(metadata={
        "description": "Which checks are on: epcis_structure (our own rules, always) and epcis_schema_cross_check "
                       "(GS1's EPCIS JSON schema, when its file is installed: EPCIS_SCHEMA_PATH)",
        "example": {"epcis_structure": "active", "epcis_schema_cross_check": "active"}})


@blp.route("/healthz")
@blp.response(200, HealthOut)
@blp.alt_response(503, schema="Error", description="Neo4j does not answer")
def healthz():
    """Report whether the service and Neo4j answer."""
    cross_check = "active" if schema_available() else "off: GS1 schema file not installed"
    return {"status": "ok", "neo4j": graph().server_version(),
            "details": {"epcis_structure": "active", "epcis_schema_cross_check": cross_check}}
