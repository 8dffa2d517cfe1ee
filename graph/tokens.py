"""API tokens: only a SHA-256 hash of each token is stored; the token itself is shown once at creation."""

from __future__ import annotations

import hashlib
import secrets

from neo4j import ManagedTransaction

from graph.driver import Graph, tx_rows
from graph.errors import NotFound

ROLES = ("producer", "lab", "regulator", "admin")


def hash_token(token: str) -> str:
    """Return the stored form of a token (SHA-256 hex: tokens carry 256 random bits, so no slow KDF is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(graph: Graph, role: str, party_gln: str | None, label: str = "") -> dict:
    """Create a token for a party and role, store its hash, and return it with the secret (once).

    Args:
        graph: the database.
        role: one of ROLES.
        party_gln: the party the token acts for (required for producer and lab).
        label: a note for people (who holds it).

    Returns:
        {"token": the secret token, "token_id", "role", "party_gln"}.

    Raises:
        NotFound: the party does not exist.
        ValueError: an unknown role, or a producer/lab token without a party.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role in ("producer", "lab") and not party_gln:
        raise ValueError(f"a {role} token needs a party")
    return graph.write(create_tx, new_token(), role, party_gln, label)


def new_token() -> str:
    """Return a fresh secret token: tg_<8 hex public id>_<256 random bits>."""
    return f"tg_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def create_tx(tx: ManagedTransaction, token: str, role: str, party_gln: str | None, label: str = "") -> dict:
    """Store a token made by ``create`` inside the caller's transaction (so its audit entry can commit with it).

    Raises:
        NotFound: the party does not exist.
    """
    rows = tx_rows(
        tx,
        """
        OPTIONAL MATCH (p:Party {gln: $party_gln})
        WITH p WHERE $party_gln IS NULL OR p IS NOT NULL
        CREATE (t:Token {token_id: $token_id, hash: $hash, role: $role, party_gln: $party_gln,
                         label: $label, created_at: datetime()})
        FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (t)-[:ACTS_FOR]->(p))
        RETURN t.token_id AS token_id
        """,
        token_id=token.split("_")[1],
        hash=hash_token(token),
        role=role,
        party_gln=party_gln,
        label=label,
    )
    if not rows:
        raise NotFound(f"no party with GLN {party_gln}", field="party_gln")
    return {"token": token, "token_id": rows[0]["token_id"], "role": role, "party_gln": party_gln}


def lookup(graph: Graph, token: str) -> dict | None:
    """Return the principal {token_id, role, party_gln} of a live token, or None for an unknown or revoked one."""
    rows = graph.query(
        """
        MATCH (t:Token {hash: $hash}) WHERE t.revoked_at IS NULL
        RETURN t.token_id AS token_id, t.role AS role, t.party_gln AS party_gln
        """,
        read=True,
        hash=hash_token(token),
    )
    return rows[0] if rows else None


def revoke(graph: Graph, token_id: str) -> None:
    """Revoke a token by its public id.

    Raises:
        NotFound: no such token.
    """
    graph.write(revoke_tx, token_id)


def revoke_tx(tx: ManagedTransaction, token_id: str) -> None:
    """Revoke a token inside the caller's transaction.

    Raises:
        NotFound: no such token.
    """
    rows = tx_rows(
        tx,
        "MATCH (t:Token {token_id: $token_id}) SET t.revoked_at = coalesce(t.revoked_at, datetime()) RETURN 1 AS ok",
        token_id=token_id,
    )
    if not rows:
        raise NotFound(f"no token {token_id}", field="token_id")
