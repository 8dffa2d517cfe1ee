"""One JSON error shape for every 4xx and 5xx the service answers.

    {"error": {"status": 422, "code": "validation_error", "message": "...",
               "errors": {"json": {"gln": ["Invalid check digit ..."]}}}}

`errors` (where and what) is present when the request had field-level problems.
"""

from __future__ import annotations

import logging

from apispec import BasePlugin
from flask import Flask, has_request_context, jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from graph.errors import Conflict, Forbidden, GraphError, NotFound, RuleViolation, Unavailable

log = logging.getLogger(__name__)

# Status -> machine code for werkzeug's own errors (404 route, 405, 413, ...).
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


# Domain error -> HTTP status: the one place graph/'s errors meet HTTP (graph/ never speaks it).
GRAPH_STATUS: dict[type[GraphError], int] = {
    NotFound: 404,
    Conflict: 409,
    RuleViolation: 422,
    Forbidden: 403,
    Unavailable: 503,
}


def status_of(exc: GraphError) -> int:
    """Return the HTTP status a domain error answers with (its nearest mapped class; 500 when none is mapped)."""
    for cls in type(exc).__mro__:
        if cls in GRAPH_STATUS:
            return GRAPH_STATUS[cls]
    return 500


class ErrorDetail(Schema):
    """What went wrong."""

    status = fields.Integer(required=True, metadata={"example": 422})
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "location (json, query, path, headers) -> field -> messages"})


class ErrorSchema(Schema):
    """The one error body of the API."""

    error = fields.Nested(ErrorDetail, required=True)


class ApiError(Exception):
    """An error raised by app/ code: status, machine code, message, optional field errors."""

    def __init__(self, status: int, message: str, code: str | None = None, errors: dict | None = None,
                 headers: dict | None = None, problem: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.problem = problem  # an EPCIS exception type (epcisException:...), answered as RFC 7807 members too


def error_response(status: int, code: str, message: str, errors: dict | None = None, headers: dict | None = None,
                   problem: str | None = None):
    """Build the JSON error response.

    An error that is one of the EPCIS REST binding's exceptions (``problem``, e.g.
    ``epcisException:QueryParameterException``) answers RFC 7807 (application/problem+json: type, title, status,
    errors) to a client that asks for problem+json over JSON in its Accept header; every other client gets the one
    shape.
    """
    body = {"status": status, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    if problem and has_request_context() and request.accept_mimetypes["application/problem+json"] > \
            request.accept_mimetypes["application/json"]:
        response = jsonify(type=problem, title=message, status=status, **({"errors": errors} if errors else {}))
        response.mimetype = "application/problem+json"
    else:
        response = jsonify(error=body)
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    if status == 503:
        response.headers.setdefault("Retry-After", "5")
    return response


_GENERIC = {
    400: "The body is not JSON: malformed, invalid UTF-8, a duplicate key, NaN/Infinity, or nested too deep",
    413: "The body is larger than MAX_CONTENT_LENGTH",
    415: "The body is not application/json",
}


class ErrorResponses(BasePlugin):
    """Document the errors any operation can answer, so /openapi.json tells the truth without every view repeating it.

    Every operation may answer 503 (Neo4j down); every operation with a JSON body may answer 400, 413 and 415.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        """Add the generic error responses to each operation that lacks them."""
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            wanted = {503: "Neo4j does not answer: retry after Retry-After seconds"}
            if "requestBody" in operation:
                wanted.update(_GENERIC)
            for status, description in wanted.items():
                if status not in responses and str(status) not in responses:
                    responses[str(status)] = {"description": description, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def register(app: Flask) -> None:
    """Install the handlers that turn every exception into the one error shape."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.errors, exc.headers, exc.problem)

    @app.errorhandler(GraphError)
    def _graph_error(exc: GraphError):
        errors = None
        if exc.field:
            errors = {"json": {exc.field: [exc.message]}}
        if exc.details:
            errors = {**(errors or {}), **exc.details}
        return error_response(status_of(exc), exc.code, exc.message, errors)

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def http_error_response(exc: HTTPException):
    """The JSON error answer for werkzeug's own errors (a 404 route, 405, 413, ...) and abort()."""
    status = exc.code or 500
    # flask-smorest / webargs put marshmallow messages here: {"json": {"field": ["msg"]}}
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or (exc.description if isinstance(exc.description, str) else "")
    if errors:
        message = "the request is not valid: " + _summary(errors)
    headers = dict(data.get("headers") or {})
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    return error_response(status, _CODES.get(status, "error"), message, errors, headers)


def _summary(errors: dict, prefix: str = "") -> str:
    """Flatten {"json": {"gln": ["bad"]}} into "json.gln: bad" for the message line."""
    parts = []
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            parts.append(_summary(value, path))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            parts.append(f"{path}: {' '.join(value)}")
        elif isinstance(value, list):
            parts.append(f"{path}: " + "; ".join(str(v) for v in value))
        else:
            parts.append(f"{path}: {value}")
    return "; ".join(p for p in parts if p)[:2000]
