"""Accounts for people (the workbench), beside tokens for machines: who logs in, for which party, in which role.

A `User` stores only a password hash made by the app (argon2id); this module never sees a password. Lockout state
(`failed_count`, `locked_until`) is kept on the account, not on the client address, and changed by single statements
so concurrent attempts count exactly. `session_version` is part of every session's identity: raising it ends every
session of the account (password change, reset, disable, log out).
"""

from __future__ import annotations

import re
import secrets
from typing import LiteralString

from neo4j import ManagedTransaction

from graph.driver import Graph, tx_rows
from graph.errors import Conflict, NotFound

ROLES = ("producer", "lab", "regulator", "admin")
# Roles that act for one party: their writes are that party's (docs/ownership.md).
PARTY_ROLES = ("producer", "lab")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
# A mainland mobile number: 11 digits starting 13-19.
PHONE = re.compile(r"^1[3-9]\d{9}$")
PUBLIC_FIELDS = ("user_id", "username", "phone", "display_name", "party_gln", "role", "disabled", "failed_count",
                 "locked_until", "created_at", "last_login_at")

CREATE: LiteralString = """
OPTIONAL MATCH (p:Party {gln: $u.party_gln})
WITH p WHERE $u.party_gln IS NULL OR p IS NOT NULL
CREATE (u:User {user_id: $u.user_id, username: $u.username, phone: $u.phone, display_name: $u.display_name,
                party_gln: $u.party_gln, role: $u.role, password_hash: $u.password_hash, disabled: false,
                failed_count: 0, session_version: 1, created_at: datetime(), created_by: $u.created_by})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (u)-[:MEMBER_OF]->(p))
RETURN u {.*, password_hash: null} AS user
"""

FOR_LOGIN: LiteralString = """
MATCH (u:User) WHERE u.username = $login OR u.phone = $login
RETURN u.user_id AS user_id, u.password_hash AS password_hash, u.disabled AS disabled,
       coalesce(u.locked_until > datetime(), false) AS locked
LIMIT 1
"""

FOR_SESSION: LiteralString = """
MATCH (u:User {user_id: $user_id})
OPTIONAL MATCH (p:Party {gln: u.party_gln})
RETURN u.user_id AS user_id, u.username AS username, u.display_name AS display_name, u.role AS role,
       u.party_gln AS party_gln, u.session_version AS session_version, u.disabled AS disabled,
       coalesce(u.must_change, false) AS must_change, p.name_zh AS party_name_zh, p.name_en AS party_name_en
"""

# One statement: the count and the lock change together, so concurrent wrong passwords are each counted.
FAILURE: LiteralString = """
MATCH (u:User {user_id: $user_id})
WITH u, coalesce(u.failed_count, 0) + 1 AS failures
SET u.failed_count = CASE WHEN failures >= $max_failures THEN 0 ELSE failures END,
    u.locked_until = CASE WHEN failures >= $max_failures THEN datetime() + duration({minutes: $lock_minutes})
                          ELSE u.locked_until END,
    u.last_failure_at = datetime()
RETURN failures >= $max_failures AS locked
"""

SUCCESS: LiteralString = """
MATCH (u:User {user_id: $user_id})
SET u.failed_count = 0, u.locked_until = null, u.last_login_at = datetime(),
    u.password_hash = coalesce($new_hash, u.password_hash)
RETURN u.session_version AS session_version
"""

SET_PASSWORD: LiteralString = """
MATCH (u:User {user_id: $user_id})
SET u.password_hash = $password_hash, u.session_version = coalesce(u.session_version, 0) + 1,
    u.failed_count = 0, u.locked_until = null, u.password_changed_at = datetime(), u.must_change = $must_change
RETURN u.session_version AS session_version
"""

SET_DISABLED: LiteralString = """
MATCH (u:User {user_id: $user_id})
SET u.disabled = $disabled,
    u.session_version = CASE WHEN $disabled THEN coalesce(u.session_version, 0) + 1 ELSE u.session_version END
RETURN u.session_version AS session_version
"""

END_SESSIONS: LiteralString = """
MATCH (u:User {user_id: $user_id})
SET u.session_version = coalesce(u.session_version, 0) + 1
RETURN u.session_version AS session_version
"""

LIST: LiteralString = """
MATCH (u:User)
OPTIONAL MATCH (p:Party {gln: u.party_gln})
RETURN u {.*, password_hash: null, party_name_zh: p.name_zh, party_name_en: p.name_en} AS user
ORDER BY u.role, u.username
LIMIT $limit
"""

BY_USERNAMES: LiteralString = """
UNWIND $usernames AS name
MATCH (u:User {username: name})
RETURN u.username AS username
"""


def new_user_id() -> str:
    """Return a fresh public user id: u_ and 12 hex characters."""
    return "u_" + secrets.token_hex(6)


def validate(user: dict) -> dict:
    """Return the account fields checked and normalised (user name lower case, phone digits only).

    Raises:
        ValueError: a field is not acceptable (its message names it).
    """
    username = (user.get("username") or "").strip().lower()
    if not USERNAME.match(username):
        raise ValueError("username: 3-32 characters: lower-case letters, digits, '_', '.', '-'")
    if PHONE.match(username):
        raise ValueError("username: a phone number goes in the phone field")  # log-in reads either
    phone = re.sub(r"[\s-]", "", user.get("phone") or "") or None
    if phone is not None and not PHONE.match(phone):
        raise ValueError("phone: an 11-digit mobile number")
    role = user.get("role")
    if role not in ROLES:
        raise ValueError(f"role: one of {', '.join(ROLES)}")
    party = (user.get("party_gln") or "").strip() or None
    if role in PARTY_ROLES and not party:
        raise ValueError(f"party_gln: a {role} account acts for a party")
    if role == "admin":
        party = None
    display = (user.get("display_name") or "").strip()[:60] or username
    return {"username": username, "phone": phone, "role": role, "party_gln": party, "display_name": display}


def create(graph: Graph, user: dict, password_hash: str, created_by: str | None = None) -> dict:
    """Create an account with a password hash; return its public fields.

    Args:
        graph: the database.
        user: username, phone (optional), display_name, role, party_gln (checked by ``validate``).
        password_hash: the hash the app made (never a password).
        created_by: who created it (a user id or cli:<name>).

    Raises:
        ValueError: a field is not acceptable.
        NotFound: the party does not exist.
        Conflict: the user name or phone number is taken.
    """
    return graph.write(create_tx, user, password_hash, created_by)


def create_tx(tx: ManagedTransaction, user: dict, password_hash: str, created_by: str | None = None) -> dict:
    """Create an account inside the caller's transaction (see ``create``).

    Raises:
        ValueError: a field is not acceptable.
        NotFound: the party does not exist.
        Conflict: the user name or phone number is taken.
    """
    fields = validate(user)
    params = {**fields, "user_id": user.get("user_id") or new_user_id(), "password_hash": password_hash,
              "created_by": created_by}
    rows = tx_rows(tx, CREATE, u=params)
    if not rows:
        raise NotFound(f"no party with GLN {fields['party_gln']}", field="party_gln")
    return public(rows[0]["user"])


def find_for_login(graph: Graph, login: str) -> dict | None:
    """Return {user_id, password_hash, disabled, locked} of the account with this user name or phone, or None."""
    login = (login or "").strip()
    login = login.lower() if not PHONE.match(re.sub(r"[\s-]", "", login)) else re.sub(r"[\s-]", "", login)
    if not login:
        return None
    rows = graph.query(FOR_LOGIN, read=True, login=login)
    return rows[0] if rows else None


def for_session(graph: Graph, user_id: str) -> dict | None:
    """Return what a session needs of an account (role, party and its names, session_version, disabled, whether
    its password must be changed first), or None."""
    rows = graph.query(FOR_SESSION, read=True, user_id=user_id)
    return rows[0] if rows else None


def record_failure(graph: Graph, user_id: str, max_failures: int, lock_minutes: int) -> bool:
    """Count a wrong password; the count reaching max_failures locks the account for lock_minutes. True if locked."""
    rows = graph.query(FAILURE, user_id=user_id, max_failures=max_failures, lock_minutes=lock_minutes)
    return bool(rows and rows[0]["locked"])


def record_login(graph: Graph, user_id: str, new_hash: str | None = None) -> int:
    """Note a successful log-in (clears failures; stores a re-made hash when given); return the session version."""
    rows = graph.query(SUCCESS, user_id=user_id, new_hash=new_hash)
    if not rows:
        raise NotFound(f"no user {user_id}", field="user_id")
    return rows[0]["session_version"]


def set_password(graph: Graph, user_id: str, password_hash: str, must_change: bool = False) -> int:
    """Store a new password hash and end every session of the account; return the new session version.

    Args:
        graph: the database.
        user_id: the account.
        password_hash: the hash the app made.
        must_change: the password was set by someone else (an admin's reset): the user must choose a new one
            before anything else; a change by the user clears it.

    Raises:
        NotFound: no such user.
    """
    rows = graph.query(SET_PASSWORD, user_id=user_id, password_hash=password_hash, must_change=must_change)
    if not rows:
        raise NotFound(f"no user {user_id}", field="user_id")
    return rows[0]["session_version"]


def set_disabled(graph: Graph, user_id: str, disabled: bool) -> None:
    """Disable (ending its sessions) or enable an account.

    Raises:
        NotFound: no such user.
    """
    if not graph.query(SET_DISABLED, user_id=user_id, disabled=disabled):
        raise NotFound(f"no user {user_id}", field="user_id")


def end_sessions(graph: Graph, user_id: str) -> int:
    """End every session of the account (log out); return the new session version."""
    rows = graph.query(END_SESSIONS, user_id=user_id)
    return rows[0]["session_version"] if rows else 0


def list_all(graph: Graph, limit: int = 1000) -> list[dict]:
    """Return every account's public fields with its party's names, by role and user name."""
    return [public(r["user"]) | {"party_name_zh": r["user"].get("party_name_zh"),
                                 "party_name_en": r["user"].get("party_name_en")}
            for r in graph.query(LIST, read=True, limit=limit)]


def existing_usernames(graph: Graph, usernames: list[str]) -> set[str]:
    """Return which of these user names are taken."""
    return {r["username"] for r in graph.query(BY_USERNAMES, read=True, usernames=usernames)}


def public(props: dict) -> dict:
    """Return an account's public fields (never the hash) with times as ISO strings."""
    out = {k: props.get(k) for k in PUBLIC_FIELDS}
    for k in ("locked_until", "created_at", "last_login_at"):
        if out[k] is not None and not isinstance(out[k], str):
            out[k] = out[k].iso_format()
    return out


def conflict_field(exc: Conflict) -> str:
    """Which field a uniqueness conflict on create is about (username or phone)."""
    return "phone" if "`phone`" in exc.message else "username"
