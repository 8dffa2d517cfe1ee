"""Accounts for people: password hashes, log-in with lockout per account, sessions (Flask-Login), the principal a
logged-in user writes as, `flask users ...`, and the demo's users.

A password is hashed with argon2id (argon2-cffi) and never stored, logged or answered. A log-in answers the same
whether the account does not exist, is disabled, is locked or the password is wrong (and takes about as long), so
the page tells an attacker nothing about which accounts exist. Failures lock the account, never the address: a
farm's shared phone or a carrier's NAT must not lock out its neighbours.

A session names the account and its `session_version`; raising the version (password change or reset, disable,
log out) ends every session made before. Writes by a logged-in user go through the API's path under the principal
``user:<user_id>`` (app/capture.py, app/audit.py), so they are authorised and audited exactly like a token's.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from functools import lru_cache

import click
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask.cli import AppGroup
from flask_login import UserMixin

from app.auth import Principal
from app.extensions import graph
from graph import users as store

MIN_PASSWORD = 8
MAX_PASSWORD = 128


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """The argon2id hasher (argon2-cffi's RFC 9106 low-memory profile defaults)."""
    return PasswordHasher()


def hash_password(password: str) -> str:
    """Return the stored form of a password (argon2id, salted; the password is not recoverable from it).

    Raises:
        ValueError: the password is shorter than MIN_PASSWORD or longer than MAX_PASSWORD characters.
    """
    check_password_rules(password)
    return hasher().hash(password)


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short or too long.

    Raises:
        ValueError: naming the rule.
    """
    if not (MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD):
        raise ValueError(f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters")


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Verified against when there is no account to check, so an unknown name costs as long as a wrong password.
    return hasher().hash(secrets.token_urlsafe(16))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return hasher().verify(password_hash or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass
class SessionUser(UserMixin):
    """The logged-in person as Flask-Login and the pages see them (no password hash)."""

    user_id: str
    username: str
    display_name: str
    role: str
    party_gln: str | None
    session_version: int
    party_name_zh: str | None = None
    party_name_en: str | None = None
    must_change: bool = False  # an admin reset the password: the workbench asks for a new one before anything else

    def get_id(self) -> str:
        """The session's identity: the account and its session version (a newer version ends this session)."""
        return f"{self.user_id}:{self.session_version}"

    @property
    def principal(self) -> Principal:
        """The principal this user's writes are authorised and audited as (the same rules as a token's)."""
        return Principal(f"user:{self.user_id}", self.role, self.party_gln)

    def party_name(self, lang: str) -> str:
        """The user's party by name in the page's language."""
        name = self.party_name_en if lang == "en" else self.party_name_zh
        return name or self.party_name_zh or self.party_gln or ""


def load_session_user(session_id: str) -> SessionUser | None:
    """Flask-Login's user loader: the account of a session, or None when it is gone, disabled or ended."""
    user_id, _, version = session_id.partition(":")
    row = store.for_session(graph(), user_id)
    if row is None or row["disabled"] or str(row["session_version"]) != version:
        return None
    return SessionUser(**{k: row[k] for k in ("user_id", "username", "display_name", "role", "party_gln",
                                              "session_version", "party_name_zh", "party_name_en", "must_change")})


def authenticate(login: str, password: str) -> SessionUser | None:
    """Check a log-in (user name or phone + password); the user, or None for every kind of refusal alike.

    A wrong password counts against the account; LOGIN_MAX_FAILURES in a row lock it for LOGIN_LOCK_MINUTES,
    during which even the right password is refused.
    """
    config = current_app.config
    row = store.find_for_login(graph(), login) if len(password or "") <= MAX_PASSWORD else None
    if row is None or row["disabled"] or row["locked"]:
        _verify(None, password or "")  # the same work as a real check
        return None
    if not _verify(row["password_hash"], password):
        store.record_failure(graph(), row["user_id"], int(config["LOGIN_MAX_FAILURES"]),
                             int(config["LOGIN_LOCK_MINUTES"]))
        return None
    new_hash = hasher().hash(password) if hasher().check_needs_rehash(row["password_hash"]) else None
    store.record_login(graph(), row["user_id"], new_hash)
    session_id = f"{row['user_id']}:{store.for_session(graph(), row['user_id'])['session_version']}"
    return load_session_user(session_id)


def change_password(user: SessionUser, current: str, new: str) -> SessionUser | None:
    """Change one's own password (the current one must be right); every other session ends. None if refused.

    Raises:
        ValueError: the new password breaks a rule.
    """
    check_password_rules(new)
    row = store.find_for_login(graph(), user.username)
    if row is None or row["user_id"] != user.user_id or not _verify(row["password_hash"], current):
        return None
    version = store.set_password(graph(), user.user_id, hash_password(new))
    return load_session_user(f"{user.user_id}:{version}")


def generate_password() -> str:
    """A password to hand over once (12 characters from an unambiguous alphabet, about 70 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


# --- the demo's users -------------------------------------------------------------------------------------------
DEMO_ROLE = {"lab": "lab", "regulator": "regulator"}


def create_demo_users(app, parties: list[dict]) -> dict[str, str]:
    """Create one account per demo party (user name = the party's key, e.g. fusong_farm) and a `demo_admin`, each
    with a generated password; return {username: password} for those created now (existing ones are left alone).

    Args:
        app: the Flask app.
        parties: [{"key": "fusong_farm", "gln": ..., "roles": [...], "name_zh": ...}, ...].
    """
    from app import audit

    with app.app_context():
        wanted = [("demo_admin", "admin", None, "演示管理员")]
        for p in parties:
            role = next((DEMO_ROLE[r] for r in p.get("roles", ()) if r in DEMO_ROLE), "producer")
            wanted.append((p["key"], role, p["gln"], p.get("name_zh") or p["key"]))
        taken = store.existing_usernames(graph(), [w[0] for w in wanted])
        made: dict[str, str] = {}
        for username, role, gln, name in wanted:
            if username in taken:
                continue
            password = generate_password()
            created = store.create(graph(), {"username": username, "role": role, "party_gln": gln,
                                             "display_name": name}, hash_password(password), "demo")
            made[username] = password
            audit.record("demo.users.create", app=app, outcome="done", path="demo users",
                         detail={"user_id": created["user_id"], "username": username, "role": role,
                                 "party_gln": gln})
        return made


def describe_demo_users(made: dict[str, str], base_url: str) -> str:
    """The lines to print after creating the demo's users (passwords are shown once: only hashes are kept)."""
    if not made:
        return "Workbench users: already created (reset a password on the admin page or with `flask users reset`)."
    lines = [f"Workbench users ({base_url}/work/login, user name + password):"]
    lines += [f"  {name:<26} {password}" for name, password in made.items()]
    return "\n".join(lines)


# --- flask users ... --------------------------------------------------------------------------------------------
users_cli = AppGroup("users", help="Accounts for people (the workbench).")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(store.ROLES))
@click.option("--party", "party_gln", default=None, help="GLN of the party (producer and lab accounts)")
@click.option("--phone", default=None, help="mobile number the user may log in with")
@click.option("--name", "display_name", default="", help="the person's name as pages show it")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
def create_user_command(username, role, party_gln, phone, display_name, password_stdin):
    """Create an account (e.g. the first admin); the password is prompted for, never an argument."""
    from app.audit import audit_key, cli_actor, cli_entry
    from graph import audit
    from graph.errors import Conflict, NotFound

    password = _read_password(password_stdin)
    try:
        check_password_rules(password)
        fields = {"username": username, "role": role, "party_gln": party_gln, "phone": phone,
                  "display_name": display_name}
        store.validate(fields)
        actor = cli_actor()
        created, _ = audit.write_audited(
            graph(), audit_key(), store.create_tx,
            lambda made: cli_entry("cli.users.create", outcome="done", path="users create", actor=actor, role=role,
                                   party_gln=party_gln, detail={"user_id": made["user_id"], "username": username}),
            fields, hash_password(password), actor)
    except (ValueError, NotFound, Conflict) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {created['username']} ({created['role']}) {created['user_id']}")


@users_cli.command("reset")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the new password from the first line of stdin")
def reset_password_command(username, password_stdin):
    """Set a new password for an account (its sessions end; the user must choose a new one at the next log-in)."""
    from app.audit import record

    row = store.find_for_login(graph(), username)
    if row is None:
        raise click.ClickException(f"no user {username}")
    password = _read_password(password_stdin)
    try:
        store.set_password(graph(), row["user_id"], hash_password(password), must_change=True)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    record("cli.users.reset", outcome="done", path="users reset", detail={"user_id": row["user_id"]})
    click.echo(f"password of {username} changed; its sessions ended; a new one is asked for at the next log-in")
