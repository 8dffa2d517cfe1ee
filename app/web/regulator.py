"""The regulator's trace page: draws a lot's lineage as a layered graph (our own SVG, no CDN, no inline script)."""

from __future__ import annotations

from flask import Blueprint, render_template

regulator = Blueprint("regulator", __name__, template_folder="templates", static_folder="static/regulator",
                      static_url_path="/static/regulator")


@regulator.route("/regulator/trace")
def trace_page():
    """The trace page; the browser asks the API with the regulator's own token (never stored server-side)."""
    return render_template("regulator/trace.html")
