"""Errors raised by the label package; the app maps them to HTTP responses."""


class LabelError(Exception):
    """Base class for every error the label package raises on purpose."""


class InvalidLabelData(LabelError, ValueError):
    """A value cannot be printed on a GS1 label (bad GTIN, lot, serial, date, size or badge)."""


class FontMissing(LabelError):
    """No CJK-capable font was found, so Chinese text would print as empty boxes."""
