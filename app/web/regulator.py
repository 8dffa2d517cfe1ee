"""The old regulator trace page's address: it asked for a pasted API token; the console's trace page replaced it."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

regulator = Blueprint("regulator", __name__)


@regulator.route("/regulator/trace")
def trace_page():
    """Send the regulator to the console's trace page (log-in with an account, no token), keeping gtin and lot."""
    args = {k: request.args[k] for k in ("gtin", "lot") if request.args.get(k)}
    return redirect(url_for("console.trace_page", **args), 301)
