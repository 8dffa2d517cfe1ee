"""What every console form shares: the form read through the API's own marshmallow schema (a friendly page in the
user's language when it is refused, nothing written), the user's principal as the API names it, and the request's
audit entry appended in the write's own transaction (then marked recorded, so it is not recorded twice)."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from marshmallow import Schema, ValidationError

from app.audit import mark_recorded, transaction_entry
from app.web.console import bp, problem
from app.web.console.shaping import form_messages


class BadForm(Exception):
    """A form the API's schema refuses: answered with the friendly page (422)."""

    def __init__(self, detail: str, key: str = "problem_bad"):
        super().__init__(detail)
        self.detail, self.key = detail, key


@bp.errorhandler(BadForm)
def _bad_form(exc: BadForm):
    return problem(422, exc.key, exc.detail)


def load_form(schema: Schema, names: tuple[str, ...], lists: tuple[str, ...] = (), key: str = "problem_bad") -> dict:
    """The named fields of the posted form (blank ones left out; ``lists`` as every value ticked) loaded through
    the API's schema.

    Raises:
        BadForm: the schema refuses the form (its messages as one readable line).
    """
    body = {k: request.form.get(k, "").strip() for k in names}
    body = {k: v for k, v in body.items() if v}
    body.update({k: [v.strip() for v in request.form.getlist(k) if v.strip()] for k in lists})
    return load_body(schema, body, key)


def load_body(schema: Schema, body: dict, key: str = "problem_bad") -> dict:
    """A body built from a form, loaded through the API's schema.

    Raises:
        BadForm: the schema refuses it.
    """
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise BadForm(form_messages(exc.messages), key) from None


def actor() -> str:
    """Who writes, as the API names a principal (app/api: ``token:<token_id>``; a user's is ``user:<user_id>``)."""
    return f"token:{current_user.principal.token_id}"


def audit() -> tuple[dict, bytes] | None:
    """The request's audit entry and key, for the graph write's own transaction."""
    return transaction_entry()


def recorded(out: dict) -> dict:
    """Mark the request's audit entry recorded by the write that answered ``out`` (its ``audit_seq``)."""
    mark_recorded(out.pop("audit_seq", None))
    return out


def user_id_of(principal: str | None) -> str | None:
    """The account id in a principal (``token:user:U1`` or ``user:U1`` -> ``U1``); None for an API token's."""
    rest = (principal or "").removeprefix("token:")
    return rest.removeprefix("user:") if rest.startswith("user:") else None
