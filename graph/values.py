"""Values read from the database as plain Python and JSON values: dates, times and times in their own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any


def native(value: Any) -> Any:
    """Return a driver temporal value as its Python equivalent; any other value unchanged."""
    return value.to_native() if hasattr(value, "to_native") else value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def utc_micros(value: int | None) -> datetime | None:
    """Return microseconds since the epoch (as a query computes them from a stored datetime: `t.epochMillis * 1000 +
    t.microsecond % 1000`) as a UTC datetime, or None. An int crosses the wire and becomes a datetime at a fraction of
    what the driver's own temporal values cost (a zoned DateTime is built, converted and then made native)."""
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def micros(value: datetime) -> int:
    """Return an aware datetime as microseconds since the epoch (the inverse of `utc_micros`)."""
    return (value - _EPOCH) // _MICROSECOND


def iso_date(value: Any) -> str | None:
    """Return the ISO date (YYYY-MM-DD) of a date, a datetime or a stored date string, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10]
    value = native(value)
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def iso_utc(value: Any) -> str | None:
    """Return a datetime as an ISO time in UTC ending in Z (anything else as a string), or None."""
    if value is None:
        return None
    value = native(value)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else str(value)


def local_iso(value: Any, offset: str | None) -> str | None:
    """An event time in the time zone it was recorded in (what people at that place saw on the clock)."""
    value = native(value)
    if value is None:
        return None
    tz = UTC
    if offset and len(offset) == 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        except ValueError:
            tz = UTC
    return value.astimezone(tz).isoformat()
