"""API blueprints: one per resource, registered on the flask-smorest Api (which builds /openapi.json)."""

from __future__ import annotations

from flask import Flask

from app.extensions import api


def register_api(app: Flask) -> None:
    """Register the API and every blueprint."""
    from app.api import (
        epcis,
        epcis_resources,
        events,
        fsma,
        health,
        labels,
        lots,
        parties,
        products,
        quality,
        recalls,
        tokens,
        trace,
    )

    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "token from `flask tokens create`"}
    )
    for module in (health, parties, products, lots, tokens, labels, epcis, epcis_resources, events, quality, trace,
                   recalls, fsma):
        api.register_blueprint(module.blp)
    from app.api import supervision

    api.register_blueprint(supervision.blp)
    from app.api import supervision_plans

    api.register_blueprint(supervision_plans.blp)
    from app.api import epcis_subscriptions  # EPCIS query subscriptions (docs/subscriptions.md)

    api.register_blueprint(epcis_subscriptions.blp)
