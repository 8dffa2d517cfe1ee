"""Exceptions raised by the gs1 package."""

from __future__ import annotations


class GS1Error(ValueError):
    """Base class for every error raised by the gs1 package."""


class InvalidIdentifier(GS1Error):
    """A GS1 key, attribute value or identifier URI is malformed."""


class InvalidEvent(GS1Error):
    """An EPCIS document or event has content that cannot be normalised.

    ``location`` is a JSON-pointer-like path to the offending value, e.g. ``epcisBody.eventList[3].epcList[0]``.
    """

    def __init__(self, message: str, location: str = "") -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class SchemaUnavailable(RuntimeError):
    """The EPCIS JSON schema file cannot be found or read."""
