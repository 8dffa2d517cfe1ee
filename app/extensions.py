"""The process-wide objects the app holds: the API (flask-smorest) and the graph (one Neo4j driver)."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Api as _Api

from app.errors import ErrorResponses, ErrorSchema
from graph.driver import Graph


class Api(_Api):
    """flask-smorest's Api documenting our error shape; app/errors.py handles the errors themselves."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Leave error handling to app/errors.py so every error has one shape."""


api = Api(spec_kwargs={"extra_plugins": [ErrorResponses()]})


def graph() -> Graph:
    """Return this process's Graph (created in create_app, closed at exit)."""
    return current_app.extensions["graph"]
