"""Bearer-token authentication and role/party authorization.

Tokens are looked up by their SHA-256 hash. A valid token is read from Neo4j on every request by default
(TOKEN_CACHE_SECONDS=0): one indexed read, and a revocation (`flask tokens revoke`, from any process or host) holds
from the next request on, in every worker. Unknown and revoked tokens are remembered for a while, so a flood of
bad tokens does not reach Neo4j; a revoked token never becomes valid again, so that cache cannot be stale.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, g, request

from app.errors import ApiError
from app.extensions import graph
from graph import tokens as token_store

SECURITY = [{"bearerAuth": []}]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's public id, its role and the party it acts for."""

    token_id: str
    role: str
    party_gln: str | None

    def may_act_for(self, gln: str | None) -> bool:
        """Tell whether this principal may write on behalf of the party with this GLN."""
        if self.role == "admin":
            return True
        return gln is not None and self.party_gln == gln


class _TokenCache:
    """A small TTL cache: token hash -> Principal (or None for unknown tokens, so floods do not hit Neo4j)."""

    def __init__(self, size: int = 4096):
        self._items: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str, ttl: float, ttl_invalid: float) -> tuple[bool, Principal | None]:
        """Return (found, principal): a principal younger than ttl, or None (invalid) younger than ttl_invalid."""
        with self._lock:
            hit = self._items.get(key)
            if hit and time.monotonic() - hit[0] < (ttl if hit[1] is not None else ttl_invalid):
                self._items.move_to_end(key)
                return True, hit[1]
            return False, None

    def put(self, key: str, value: Principal | None) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = _TokenCache()
# How long an unknown or revoked token's hash is answered from memory (they cannot turn valid).
NEGATIVE_TTL = 30.0


def current_principal() -> Principal | None:
    """Return the caller's principal from the Authorization header, or None when there is none.

    Raises:
        ApiError: 401 for a malformed, unknown or revoked token.
    """
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    if not header:
        g.principal = None
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("use 'Authorization: Bearer <token>'")
    key = token_store.hash_token(token)
    # A valid token is trusted from memory only TOKEN_CACHE_SECONDS (0: never), an invalid one NEGATIVE_TTL.
    found, principal = cache.get(key, current_app.config["TOKEN_CACHE_SECONDS"], NEGATIVE_TTL)
    if not found:
        row = token_store.lookup(graph(), token)
        principal = Principal(row["token_id"], row["role"], row["party_gln"]) if row else None
        cache.put(key, principal)
    if principal is None:
        raise _unauthorized("the token is not valid")
    g.principal = principal
    return principal


def require(*roles: str):
    """Decorate a view: a valid token is needed, with one of these roles (any role when none are named)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise _unauthorized("this endpoint needs a token: 'Authorization: Bearer <token>'")
            if roles and principal.role not in roles:
                raise ApiError(403, f"a {principal.role} token may not do this (needs: {', '.join(roles)})")
            return view(*args, **kwargs)

        # Document the security requirement and its errors in OpenAPI (flask-smorest reads _apidoc).
        doc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(doc.get("manual_doc", {}))
        manual["security"] = SECURITY
        responses = dict(manual.get("responses", {}))
        responses.setdefault(401, {"description": "Missing or invalid token", "content": _error_content()})
        responses.setdefault(403, {"description": "Not allowed for this role or party", "content": _error_content()})
        manual["responses"] = responses
        doc["manual_doc"] = manual
        wrapper._apidoc = doc
        return wrapper

    return decorator


def ensure_party(gln: str | None, field: str = "party") -> Principal:
    """Check the caller may act for this party; 403 naming the field otherwise."""
    principal = current_principal()
    if principal is None:
        raise _unauthorized("this endpoint needs a token")
    if not principal.may_act_for(gln):
        raise ApiError(
            403,
            f"this token acts for party {principal.party_gln}, not for {gln}",
            errors={"json": {field: [f"not your party: {gln}"]}},
        )
    return principal


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="tracegraph"'})


def _error_content() -> dict:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
