"""Records every successful write request in the hash-chained audit trail (graph/audit.py)."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from flask import Flask, g, request

from app.extensions import graph
from graph import audit
from graph.errors import GraphError

log = logging.getLogger(__name__)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def init_audit(app: Flask) -> None:
    """Append an audit entry after every successful write (who, when, what: method, path, body hash)."""

    @app.after_request
    def _record(response):
        if request.method not in WRITE_METHODS or not 200 <= response.status_code < 300:
            return response
        principal = g.get("principal")
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "token_id": principal.token_id if principal else None,
            "role": principal.role if principal else None,
            "party_gln": principal.party_gln if principal else None,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            # The body itself may hold private data; its hash proves what was sent when the client keeps a copy.
            "body_sha256": hashlib.sha256(request.get_data(cache=True)).hexdigest(),
        }
        try:
            audit.append(graph(), entry)
        except GraphError:
            # The write is committed already; losing its audit line must be loud, but not turn success into failure.
            log.error("audit entry not recorded for %s %s", request.method, request.path)
        return response
