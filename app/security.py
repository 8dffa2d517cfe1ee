"""Security headers, the real client address behind proxies, rate limits, and authentication before the body.

Failed token checks lock out only what failed: the presented token (by its hash) and the client address that
presented it, and only for requests that present a token which is not valid. A valid token always passes (it is
checked first), whoever else shares its address; /healthz, the consumer pages (/01/...) and anonymous requests are
never locked by failures. The token is checked before anything reads the request body, so a client without a
valid token cannot make the service parse 20 MB.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.middleware.proxy_fix import ProxyFix

from app.auth import current_principal
from app.errors import ApiError, error_response
from graph.tokens import hash_token

log = logging.getLogger(__name__)

# No inline script or style anywhere: pages load their JS/CSS from our own static files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
RESOLVER_BLUEPRINTS = ("resolver",)
# Where a token is checked before the view (and before the body): the API and the EPCIS binding. /healthz and the
# pages are outside them.
AUTH_PREFIXES = ("/api/", "/epcis/")


def init_security(app: Flask) -> None:
    """Trust the configured proxies, install the limiter (after the blueprints) and the security headers."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind N proxies the client is the Nth address from the right of X-Forwarded-For; with 0 (direct
        # serving) the header is ignored, so a client cannot choose the address its failures count against.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    limiter = Limiter(get_remote_address, app=app)
    for name in RESOLVER_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            limiter.limit(app.config["RATELIMIT_RESOLVER"])(blueprint)
    login = app.view_functions.get("work.login")
    if login is not None:
        # Each log-in attempt costs an argon2 check (64 MiB): per address, a bound on guessing in bulk; the lockout
        # per account (app/accounts.py) is what protects one account.
        app.view_functions["work.login"] = limiter.limit(app.config["RATELIMIT_LOGIN"], methods=["POST"])(login)
    app.extensions["tracegraph_limiter"] = limiter
    # First of all before_request hooks: the request-body check (app/request_body.py) reads the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _authenticate_first)

    @app.errorhandler(429)
    def _too_many(exc):
        if request.path.startswith("/work/"):
            from app.web.work import problem

            response = problem(429, "problem_slow_down")
            response.headers["Retry-After"] = "60"
            return response
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


def _authenticate_first() -> None:
    """Check a presented token before the view and the body; a failure counts against its token and address.

    Raises:
        ApiError: 401 for a token that is not valid; 429 instead once its token or address failed too often.
    """
    if not request.path.startswith(AUTH_PREFIXES) or "Authorization" not in request.headers:
        return  # anonymous: the view answers (public data, or 401 from require() before any body is read)
    try:
        current_principal()
    except ApiError as exc:
        if exc.status == 401 and not _count_failure():
            raise ApiError(429, "too many requests with a token that is not valid from this address or with this "
                                "token; wait a minute", code="too_many_requests",
                           headers={"Retry-After": "60"}) from None
        raise


def _count_failure() -> bool:
    """Count a failed token check against the token's hash and the client address; False past either's limit."""
    limiter: Limiter = current_app.extensions["tracegraph_limiter"]
    if not limiter.enabled:
        return True
    limit = parse(current_app.config["RATELIMIT_AUTH_FAILURES"])
    token = hash_token(request.headers.get("Authorization", ""))
    # both counted (no short-circuit): a guesser rotating tokens meets the address limit, one spreading a stolen,
    # revoked token over many addresses meets the token's
    counter = limiter.limiter
    try:
        by_address = counter.hit(limit, "auth-failures", "address", request.remote_addr or "-")
        by_token = counter.hit(limit, "auth-failures", "token", token)
    except counter.storage.base_exceptions as exc:
        # The shared store (Redis) does not answer: the 401 stands, uncounted, rather than a 500 for every client
        # with a bad token; Flask-Limiter's own limits fall back to memory meanwhile.
        log.warning("token failures not counted, the rate-limit store does not answer: %s", type(exc).__name__)
        return True
    return by_address and by_token
