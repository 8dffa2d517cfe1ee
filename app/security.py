"""Security headers and rate limits (Flask-Limiter): the public resolver, and failed token checks."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.errors import error_response

# No inline script or style anywhere: pages load their JS/CSS from our own static files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
RESOLVER_BLUEPRINTS = ("resolver",)


def init_security(app: Flask) -> None:
    """Install the limiter (after the blueprints are registered) and the security headers."""
    # Every 401 counts against the caller's address (application-wide); past the limit every request from it gets
    # 429 for a while, which stops token guessing without slowing legitimate clients.
    limiter = Limiter(
        get_remote_address,
        app=app,
        application_limits=[app.config["RATELIMIT_AUTH_FAILURES"]],
        application_limits_deduct_when=lambda response: response.status_code == 401,
    )
    for name in RESOLVER_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            limiter.limit(app.config["RATELIMIT_RESOLVER"])(blueprint)
    app.extensions["tracegraph_limiter"] = limiter

    @app.errorhandler(429)
    def _too_many(exc):
        return error_response(429, "too_many_requests", f"rate limit exceeded ({exc.description}); slow down",
                              headers={"Retry-After": "60"})

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
