"""The audit trail from the app's side: what an entry says, the key, and every write path that appends one.

HTTP writes (after the response: successful ones and refused attempts with their reason), the CLI (EPCIS import,
tokens, restore), the demo load and copy flags raised by scans each append an entry to the keyed chain in
graph/audit.py. An entry keeps the request body (or the EPCIS document) up to AUDIT_BODY_MAX bytes with secrets
redacted, and always its SHA-256.

The key (AUDIT_KEY, or one derived from SECRET_KEY) is never stored in Neo4j and never logged.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import logging
import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from flask import Flask, current_app, g, has_request_context, request

from graph import audit as store
from graph.driver import Graph
from graph.errors import GraphError

log = logging.getLogger(__name__)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Refusals that are about volume, not content: recording each would let a flood turn into audit writes.
UNRECORDED_REFUSALS = (429,)
REDACTED = "[redacted]"
_SECRET_WORDS = {"password", "passwd", "secret", "authorization", "credentials"}
# Words that may name a secret, searched in the ASCII-lowercased body: the same test as the case-insensitive regex
# `pass|secret|token|authori|api_?key|credential`, about 50x faster on a 600 kB EPCIS document (bytes.lower and
# `in` run in C; the regex's alternation stepped through every byte: 30 ms per 1,000-event capture).
_SECRET_HINTS = (b"pass", b"secret", b"token", b"authori", b"apikey", b"api_key", b"credential")
# A token the service issued (tg_<id>_<secret>): its secret part never reaches the trail, wherever it appears.
_TOKEN_TEXT = re.compile(r"\b(tg_[0-9a-f]{8})_[A-Za-z0-9_-]{16,}")
_BEARER_ID = re.compile(r"^\s*bearer\s+(tg_[0-9a-f]{8})_", re.IGNORECASE)
_KEY_DOMAIN = b"tracegraph/audit-chain-key/v1"
APPEND_ATTEMPTS = 3


def audit_key(app: Flask | None = None) -> bytes:
    """Return the chain's key: AUDIT_KEY, else HMAC-SHA256(SECRET_KEY, a fixed audit domain) (never stored)."""
    config = (app or current_app).config
    configured = (config.get("AUDIT_KEY") or "").strip()
    if configured:
        return configured.encode("utf-8")
    # Domain separation: the derived key is useless for signing serials or fingerprints, and vice versa.
    return hmac.new(config["SECRET_KEY"].encode("utf-8"), _KEY_DOMAIN, hashlib.sha256).digest()


def redact(value: object) -> tuple[object, list[str]]:
    """Return a JSON value with secret-named fields replaced, and the names replaced (pure)."""
    found: list[str] = []

    def walk(node: object) -> object:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if isinstance(k, str) and _secret_name(k):
                    out[k] = REDACTED
                    found.append(k)
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return _TOKEN_TEXT.sub(r"\1_" + REDACTED, node)
        return node

    return walk(value), found


def _secret_name(name: str) -> bool:
    """Tell whether a field name says it holds a secret: password/secret anywhere, token or api key at its end."""
    parts = [p for p in re.split(r"[^a-z0-9]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()) if p]
    joined = "".join(parts)
    return bool(parts) and (any(p in _SECRET_WORDS for p in parts) or parts[-1] in ("token", "tokens")
                            or joined.endswith("apikey"))


def _secret_hint(raw: bytes) -> bool:
    """Tell whether a body may name a secret (any of _SECRET_HINTS, ASCII letters in any case)."""
    low = raw.lower()
    return any(word in low for word in _SECRET_HINTS)


def body_fields(raw: bytes, content_type: str | None, limit: int) -> dict:
    """Describe a body for an entry: its text (secrets redacted) when at most ``limit`` bytes, and its SHA-256.

    The SHA-256 is of the stored text when something was redacted (a hash of the original next to the rest of the
    body would let a short password be guessed), of the bytes as sent otherwise.
    """
    fields: dict = {"body_bytes": len(raw), "content_type": content_type or None}
    if not raw:
        return fields
    if len(raw) > limit:
        return {**fields, "body_sha256": hashlib.sha256(raw).hexdigest(),
                "body_note": f"not kept: {len(raw)} bytes > AUDIT_BODY_MAX {limit}; its SHA-256 is"}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {**fields, "body_sha256": hashlib.sha256(raw).hexdigest(), "body_note": "not kept: not UTF-8 text"}
    redacted: list[str] = []
    if _secret_hint(raw):
        text, redacted = _redact_text(text, content_type or "")
    note = f"redacted: {', '.join(sorted(set(redacted)))}" if redacted else None
    digest = hashlib.sha256(text.encode("utf-8") if redacted else raw).hexdigest()
    return {**fields, "body": text, "body_sha256": digest, "body_note": note}


def _redact_text(text: str, content_type: str) -> tuple[str, list[str]]:
    """Redact a JSON or form body by field name, and issued tokens anywhere in any text."""
    if "x-www-form-urlencoded" in content_type:
        pairs, found = [], []
        for k, v in parse_qsl(text, keep_blank_values=True):
            if _secret_name(k):
                pairs.append((k, REDACTED))
                found.append(k)
            else:
                pairs.append((k, v))
        return _TOKEN_TEXT.sub(r"\1_" + REDACTED, urlencode(pairs)), found
    try:
        value = json.loads(text)
    except ValueError:
        cleaned = _TOKEN_TEXT.sub(r"\1_" + REDACTED, text)
        return cleaned, (["(issued token)"] if cleaned != text else [])
    clean, found = redact(value)
    if not found and clean == value:
        return text, []
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":")), found or ["(issued token)"]


def now_iso() -> str:
    """The entry time: UTC ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def cli_actor() -> str:
    """Who runs a command: the operating-system user (the CLI has no token)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def append_entry(graph: Graph, key: bytes, entry: dict) -> int | None:
    """Append an entry in its own transaction, retrying; when it cannot be written, log it loudly and go on.

    The write it describes is committed already: a failure here must not turn that success into an error, but
    the lost line is logged at CRITICAL with what identifies it (never the body or the key).
    """
    for attempt in range(APPEND_ATTEMPTS):
        try:
            return store.append(graph, entry, key)
        except GraphError as exc:
            if attempt == APPEND_ATTEMPTS - 1:
                log.critical("AUDIT ENTRY LOST (%s): kind=%s actor=%s method=%s path=%s status=%s body_sha256=%s",
                             exc.message, entry.get("kind"), entry.get("actor") or entry.get("token_id"),
                             entry.get("method"), entry.get("path"), entry.get("status"), entry.get("body_sha256"))
                return None
            time.sleep(0.1 * (attempt + 1))
    return None


def record(kind: str, *, app: Flask | None = None, body: object = None, detail: dict | None = None,
           **fields) -> int | None:
    """Append an entry for a write that did not come over HTTP (CLI, demo, restore); return its number.

    Args:
        kind: what wrote ("cli.epcis_import", "cli.tokens.create", "demo.load", "restore", ...).
        app: the app (defaults to current_app).
        body: the document written (JSON-encoded, bounded and redacted like a request body).
        detail: a small summary (counts, ids), stored as JSON text.
        fields: other entry fields (outcome, message, path, actor, ...).
    """
    app = app or current_app._get_current_object()
    return append_entry(app.extensions["graph"], audit_key(app), cli_entry(kind, app=app, body=body, detail=detail,
                                                                           **fields))


def cli_entry(kind: str, *, app: Flask | None = None, body: object = None, detail: dict | None = None,
              **fields) -> dict:
    """Build the entry of a write that did not come over HTTP (see ``record`` for the arguments)."""
    app = app or current_app._get_current_object()
    entry = {"at": now_iso(), "kind": kind, "actor": fields.pop("actor", None) or cli_actor(), **fields}
    if body is not None:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
        entry.update(body_fields(raw, "application/json", app.config["AUDIT_BODY_MAX"]))
    if detail is not None:
        entry["detail"] = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return entry


def request_entry(response=None) -> dict:
    """Build the entry for the current request: who, from where, what (method, path, query, body), and answer."""
    principal = g.get("principal")
    entry = {
        "at": now_iso(), "kind": "http",
        "actor": f"token:{principal.token_id}" if principal else _presented_token(),
        "token_id": principal.token_id if principal else None,
        "role": principal.role if principal else None,
        "party_gln": principal.party_gln if principal else None,
        "client_addr": request.remote_addr,
        "method": request.method, "path": request.path,
        "query": _query() or None,
    }
    if response is not None:
        entry["status"] = response.status_code
        entry["outcome"] = "done" if response.status_code < 400 else "refused"
    entry.update(_request_body(read=response is None or response.status_code < 400))
    return entry


def _presented_token() -> str | None:
    """The public id of a token presented but not accepted (never its secret)."""
    found = _BEARER_ID.match(request.headers.get("Authorization", ""))
    return f"presented:{found.group(1)}" if found else None


def _query() -> str:
    pairs = [(k, REDACTED if _secret_name(k) else v) for k, v in parse_qsl(request.query_string.decode(
        "utf-8", "replace"), keep_blank_values=True)]
    return urlencode(pairs)


def _request_body(read: bool) -> dict:
    """The body fields; a refused request's body only when the app read it already (a refusal before reading it,
    e.g. 401 or 413, must not make the service read a large anonymous body after all)."""
    limit = current_app.config["AUDIT_BODY_MAX"]
    if read or getattr(request, "_cached_data", None) is not None:
        try:
            raw = request.get_data(cache=True)
        except Exception:  # noqa: BLE001 - e.g. 413 while reading: describe what is known
            raw = None
        if raw is not None:
            return body_fields(raw, request.content_type, limit)
    return {"body_bytes": request.content_length, "content_type": request.content_type,
            "body_note": "not read: refused before the body was read"} if request.content_length else {}


def _error_of(response) -> tuple[str | None, str | None]:
    """The machine code and message of an error answer (app/errors.py shape), if it has them."""
    try:
        error = (response.get_json(silent=True) or {}).get("error") or {}
    except Exception:  # noqa: BLE001 - a streamed or non-JSON answer has no error body to read
        return None, None
    if not isinstance(error, dict):
        return None, None
    return error.get("code"), (str(error["message"])[:1000] if error.get("message") else None)


def transaction_entry() -> tuple[dict, bytes] | None:
    """The current request's (entry, key) for a write that appends it in its own transaction; None outside one.

    Pass both to graph.audit.append_tx inside the write's transaction (last), then call mark_recorded with the
    number it returned, so the request is not recorded a second time after the response.
    """
    if not has_request_context() or request.method not in WRITE_METHODS:
        return None
    return {**request_entry(), "outcome": "committed"}, audit_key()


def mark_recorded(seq: int | None) -> None:
    """Note that the current request's entry was appended already (in its write's own transaction)."""
    g.audit_seq = seq


def init_audit(app: Flask) -> None:
    """Append an entry after every write request: successful, or refused with its reason (4xx but 429)."""
    app.config.setdefault("AUDIT_BODY_MAX", 1024 * 1024)
    app.config.setdefault("AUDIT_KEY", "")

    @app.after_request
    def _record(response):
        status = response.status_code
        if request.method not in WRITE_METHODS or (g.get("audit_seq") is not None and status < 400):
            return response  # a committed write's entry went in with it (transaction_entry)
        if not (200 <= status < 300 or (400 <= status < 500 and status not in UNRECORDED_REFUSALS)):
            return response
        entry = request_entry(response)
        if status >= 400:
            entry["kind"] = "http.refused"
            entry["error_code"], entry["message"] = _error_of(response)
        append_entry(app.extensions["graph"], audit_key(app), entry)
        return response

    buffer = app.extensions.get("scan_buffer")
    if buffer is not None:
        graph, key = app.extensions["graph"], audit_key(app)
        buffer.on_flags = lambda scans: record_copy_flags(graph, key, scans)


def record_copy_flags(graph: Graph, key: bytes, scans: list[dict]) -> int:
    """Append one entry per copy flag the written scans raised; return how many (runs in the scan writer)."""
    rows = [{"scan_id": s["scan_id"], "key": s["item_key"], "time": s["time"]} for s in scans
            if s.get("verdict") == "suspected_copy" and s.get("item_key")]
    by_id = {s["scan_id"]: s for s in scans}
    written = 0
    for flag in store.flags_raised(graph, rows):
        scan = by_id.get(flag["scan_id"], {})
        entry = {"at": now_iso(), "kind": "scan.copy_flag", "actor": f"scan-client:{scan.get('fp')}",
                 "method": "GET", "path": f"/01/{flag['gtin']}/10/{flag['lot']}/21/{flag['serial']}",
                 "outcome": "flagged", "message": flag["reason"],
                 "detail": json.dumps({**flag, "scan_id": scan.get("scan_id"), "lat": scan.get("lat"),
                                       "lon": scan.get("lon"), "region": scan.get("region")},
                                      ensure_ascii=False, sort_keys=True, default=str)}
        if append_entry(graph, key, entry) is not None:
            written += 1
    return written


def describe_verification(result: dict) -> list[str]:
    """The lines `flask audit verify` prints: what was checked, with which key, and the first break."""
    first, last, head = result["first"], result["last"], result["head"] or {"seq": 0, "hash": store.GENESIS}
    if result["ok"]:
        lines = [f"audit trail intact: {result['entries']} entries, #1 to #{head['seq']}, no gaps, each linked to "
                 "the one before"]
    else:
        lines = [f"audit trail BROKEN at entry #{result['broken_seq']}: {result['problem']}"]
    if result["entries"]:
        lines.append(f"  {'verified' if result['ok'] else 'verified before the break'}: #{first['seq']} "
                     f"({first['at']}) to #{last['seq']} ({last['at']})")
    else:
        lines.append("  no entry verified")
    if result["keyed"]:
        lines.append(f"  {result['keyed']} keyed entries: each HMAC-SHA256 link verified with the configured key "
                     f"(key id {result['key_id']})")
    if result["legacy"]:
        lines.append(f"  {result['legacy']} legacy entries (#1 to #{result['legacy']}): plain SHA-256 links written "
                     "before the chain was keyed" + ("; anchored by the keyed entry after them" if result["keyed"]
                                                     else "; not protected against a rewrite until a keyed entry "
                                                     "follows"))
    lines.append(f"  chain head: #{head['seq']} {head['hash']}" + (" matches the last entry" if result["ok"] else "")
                 + " (keep this line outside the database: a later run showing a smaller number means entries "
                 "were cut off the end)")
    return lines
