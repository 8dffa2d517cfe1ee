"""Workbench accounts: log in, log out, change one's password; admins create, disable and reset accounts."""

from __future__ import annotations

from flask import abort, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app import accounts
from app.extensions import graph
from app.web.work import TEXT, bp, lang, render, safe_next
from graph import users as store
from graph import workbench
from graph.errors import Conflict, NotFound


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The log-in form: user name or phone number, and password."""
    target = safe_next(request.values.get("next"), url_for("work.home"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target)
        return render("work/login.html", next=target, login="", failed=False)
    user = accounts.authenticate(request.form.get("login", ""), request.form.get("password", ""))
    if user is None:
        # One answer for an unknown name, a wrong password, a disabled or a locked account.
        return render("work/login.html", status=401, next=target, login=request.form.get("login", "")[:64],
                      failed=True)
    session.clear()  # a fresh session (and CSRF secret) for the logged-in user: nothing carried over from before
    session.permanent = True
    login_user(user)
    g.principal = user.principal  # the audit entry of this request names who logged in
    return redirect(target, 303)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out: this account's sessions end everywhere (a copied cookie stops working too)."""
    store.end_sessions(graph(), current_user.user_id)
    logout_user()
    session.clear()
    return redirect(url_for("work.login"), 303)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change one's own password; other sessions of the account end, this one goes on."""
    if request.method == "GET":
        return render("work/password.html", error=None)
    t = TEXT[lang()]
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    error = None
    if new != again:
        error = t["password_mismatch"]
    else:
        try:
            user = accounts.change_password(current_user, request.form.get("current_password", ""), new)
            if user is None:
                error = t["password_wrong_current"]
        except ValueError:
            error = t["password_rules"]
    if error:
        return render("work/password.html", status=422, error=error)
    login_user(user)  # this session carries the new session version
    return redirect(url_for("work.home", changed=1), 303)


def _admin_only() -> None:
    if current_user.role != "admin":
        abort(403)


@bp.route("/admin/users", methods=["GET"])
def users_page():
    """The admin's list of accounts with the form to create one."""
    _admin_only()
    return _users_page()


def _users_page(status: int = 200, error: str | None = None, issued: dict | None = None, form: dict | None = None):
    return render("work/users.html", status=status, users=store.list_all(graph()),
                  parties=workbench.parties(graph()), roles=store.ROLES, error=error, issued=issued, form=form or {})


@bp.route("/admin/users", methods=["POST"])
def create_user():
    """Create an account with a generated first password, shown once on the answer."""
    _admin_only()
    form = {k: request.form.get(k, "").strip() for k in ("username", "display_name", "phone", "role", "party_gln")}
    password = accounts.generate_password()
    try:
        made = store.create(graph(), form, accounts.hash_password(password), current_user.principal.token_id)
    except ValueError as exc:
        return _users_page(422, str(exc), form=form)
    except NotFound as exc:
        return _users_page(422, exc.message, form=form)
    except Conflict as exc:
        return _users_page(409, TEXT[lang()]["user_taken_" + store.conflict_field(exc)], form=form)
    return _users_page(201, issued={"username": made["username"], "password": password})


@bp.route("/admin/users/<user_id>/<action>", methods=["POST"])
def change_user(user_id: str, action: str):
    """Disable, enable or reset the password of an account (a reset shows the new password once)."""
    _admin_only()
    if action == "disable":
        if user_id == current_user.user_id:
            return _users_page(422, TEXT[lang()]["user_not_self"])
        store.set_disabled(graph(), user_id, True)
    elif action == "enable":
        store.set_disabled(graph(), user_id, False)
    elif action == "reset":
        password = accounts.generate_password()
        store.set_password(graph(), user_id, accounts.hash_password(password), must_change=True)
        row = next((u for u in store.list_all(graph()) if u["user_id"] == user_id), {"username": user_id})
        return _users_page(200, issued={"username": row["username"], "password": password})
    else:
        abort(404)
    return redirect(url_for("work.users_page"), 303)
