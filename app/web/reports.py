"""Labs' report PDFs: stored content-addressed (SHA-256 file names) outside Neo4j, served publicly when cited.

The lab page stores a report with `store_report` and keeps its hash on the inspection (graph/quality.py); the
consumer page links /reports/<sha256>.pdf. The route serves a file only if an inspection cites that hash: the
directory is never listed and nothing else in it can be fetched, and anyone who can see the inspection on the
consumer page (everybody) can read its report.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Blueprint, Response, abort, current_app

from app.extensions import graph
from graph import quality

bp = Blueprint("reports", __name__)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class NotAPdf(ValueError):
    """The upload is not a PDF, or is larger than REPORT_MAX_BYTES."""


def reports_dir() -> Path:
    """The configured directory of report PDFs (made on first use)."""
    path = Path(current_app.config["REPORTS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_report(data: bytes) -> str:
    """Store a report PDF under its SHA-256 (once: the same bytes twice are one file); return the hash.

    Raises:
        NotAPdf: the bytes do not start as a PDF does, or exceed REPORT_MAX_BYTES.
    """
    if len(data) > current_app.config["REPORT_MAX_BYTES"] or not data.startswith(b"%PDF-"):
        raise NotAPdf("not a PDF, or too large")
    digest = hashlib.sha256(data).hexdigest()
    target = reports_dir() / f"{digest}.pdf"
    if not target.exists():
        # Written beside it and renamed: a reader never sees half a file, two writers of one hash agree.
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(partial, target)
    return digest


@bp.route("/reports/<sha256>.pdf")
def report_file(sha256: str):
    """A lab's report PDF cited by an inspection (public, like the consumer page that links it)."""
    if not _SHA256.match(sha256) or not quality.report_referenced(graph(), sha256):
        abort(404)
    path = reports_dir() / f"{sha256}.pdf"
    if not path.is_file() or path.stat().st_size > current_app.config["REPORT_MAX_BYTES"]:
        abort(404)
    # Read whole (bounded above) rather than streamed: no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype="application/pdf")
    response.headers["Cache-Control"] = "public, max-age=86400, immutable"  # the name is the content's hash
    response.headers["ETag"] = f'"{sha256}"'
    response.headers["Content-Disposition"] = f'inline; filename="report-{sha256[:12]}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
