"""Fields for GS1 keys: each validates its check digit or character set and names the problem."""

from __future__ import annotations

from marshmallow import ValidationError, fields

from gs1 import keys


class _GS1Field(fields.String):
    """A string field normalised and validated by one gs1.keys function."""

    check = staticmethod(lambda value: value)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return type(self).check(text.strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class GTIN(_GS1Field):
    """A GTIN-8/12/13/14 with a valid check digit, answered as GTIN-14."""

    check = staticmethod(keys.validate_gtin)

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "06901234567892")
        super().__init__(**kwargs)


class GLN(_GS1Field):
    """A 13-digit GLN with a valid check digit."""

    check = staticmethod(keys.validate_gln)

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "6901234000017")
        super().__init__(**kwargs)


class LotNumber(_GS1Field):
    """A batch/lot number (GS1 AI 10): 1-20 characters of GS1's set 82."""

    check = staticmethod(keys.validate_lot)

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "FS2026-001")
        super().__init__(**kwargs)


class Serial(_GS1Field):
    """A serial number (GS1 AI 21): 1-20 characters of GS1's set 82."""

    check = staticmethod(keys.validate_serial)


class Instant(fields.AwareDateTime):
    """An ISO 8601 date-time with a UTC offset within ±14:00 (the offsets clocks use; Neo4j stores up to ±18:00).

    Python accepts offsets up to ±23:59, which the database would refuse mid-query: check them here instead.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        offset = moment.utcoffset()
        if offset is not None and abs(offset.total_seconds()) > 14 * 3600:
            raise ValidationError(f"UTC offset {moment.strftime('%z')} is outside -14:00..+14:00")
        return moment
