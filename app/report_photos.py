"""Photos sent with consumer reports: stored by SHA-256 outside Neo4j (REPORTS_DIR/consumer-photos), read back only
through the regulators' API (a report's photo is private, unlike a lab's cited report PDF)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app

_EXT = {"image/png": "png", "image/jpeg": "jpg"}


def photo_path(sha256: str, mime: str) -> Path:
    """Where the photo with this hash and type is kept."""
    return Path(current_app.config["REPORTS_DIR"]) / "consumer-photos" / f"{sha256}.{_EXT[mime]}"


def store_photo(data: bytes, mime: str) -> str:
    """Keep a checked photo (graph/report_rules.photo_type said what it is) once under its SHA-256; return it."""
    digest = hashlib.sha256(data).hexdigest()
    target = photo_path(digest, mime)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        # Written beside it and renamed: a reader never sees half a file.
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(partial, target)
    return digest
