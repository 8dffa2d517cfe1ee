"""EPCIS 2.0 query subscriptions, the pure rules: the query schedule (cron-like fields), where results may go, and
how a delivery is named and cut into documents.

The schedule follows EPCIS (§8.2.5.3 of 1.2, kept by the 2.0 REST binding): six optional fields, ``second``
(0-59), ``minute`` (0-59), ``hour`` (0-23), ``dayOfMonth`` (1-31), ``month`` (1-12), ``dayOfWeek`` (1-7, Monday
is 1), each a comma-separated list of numbers and ranges ``[a-b]``; GS1's own REST example writes ``"0/30"`` (every
30 from 0), so a step ``a/s``, ``[a-b]/s`` or ``*/s`` is read too, and ``*`` means any value. Times are matched in
China time (Asia/Shanghai, UTC+8: "a time zone chosen by the EPCIS service").

An omitted field coarser than the finest one given matches any value; an omitted field finer than it matches only
its least value. Taken literally the standard would run ``{"hour": "1", "minute": "5"}`` once a second from 01:05:00
to 01:05:59; GS1 calls that example "every morning at 1.05am", and the standard lets a service honour "the general
intent", which this rule does. A schedule with no field at all is refused.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from gs1.errors import GS1Error
from gs1.timezones import CHINA

# (name, least, greatest), finest first
FIELDS = (("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("dayOfMonth", 1, 31), ("month", 1, 12),
          ("dayOfWeek", 1, 7))
_ELEMENT = re.compile(r"^(?:(\*)|(\d{1,2})|\[(\d{1,2})-(\d{1,2})\]|(\d{1,2})-(\d{1,2}))(?:/(\d{1,2}))?$")
# How far ahead a schedule is searched for its next time: a schedule that never fires in this long (31 February,
# 30 February on a Monday...) is refused.
HORIZON_DAYS = 8 * 366
_NAMESPACE = uuid.UUID("0b7c2f4e-5d1a-5c3b-8e9f-2a4d6c8e0f13")


class ScheduleError(GS1Error):
    """A schedule the standard's grammar refuses, or one that never fires (SubscriptionControlsException)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Schedule:
    """The values each field matches (a frozenset per field, finest first)."""

    second: frozenset[int]
    minute: frozenset[int]
    hour: frozenset[int]
    dayOfMonth: frozenset[int]  # noqa: N815 - the standard's names
    month: frozenset[int]
    dayOfWeek: frozenset[int]  # noqa: N815

    def matches(self, moment: datetime) -> bool:
        """Tell whether a moment (any zone) is one of the schedule's times, to the second, in China time."""
        t = moment.astimezone(CHINA)
        return (t.second in self.second and t.minute in self.minute and t.hour in self.hour
                and t.day in self.dayOfMonth and t.month in self.month and t.isoweekday() in self.dayOfWeek)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first schedule time strictly after ``moment`` (to the second, China time), or None within the horizon.

        Walks the days that match (month, day of month, day of week) and, in each, the first (hour, minute, second)
        at or after the start: at most HORIZON_DAYS days, each a few set lookups.
        """
        start = (moment.astimezone(CHINA) + timedelta(seconds=1)).replace(microsecond=0)
        day = start.replace(hour=0, minute=0, second=0)
        hours, minutes, seconds = sorted(self.hour), sorted(self.minute), sorted(self.second)
        for _ in range(HORIZON_DAYS):
            if day.month in self.month and day.day in self.dayOfMonth and day.isoweekday() in self.dayOfWeek:
                floor = start if day.date() == start.date() else day
                for h in hours:
                    if h < floor.hour:
                        continue
                    for m in minutes:
                        if h == floor.hour and m < floor.minute:
                            continue
                        for s in seconds:
                            if h == floor.hour and m == floor.minute and s < floor.second:
                                continue
                            return day.replace(hour=h, minute=m, second=s)
            day += timedelta(days=1)  # China time has a fixed offset: every day is 24 hours
        return None


def _field_values(name: str, text: object, least: int, greatest: int) -> frozenset[int]:
    if not isinstance(text, str | int) or isinstance(text, bool):
        raise ScheduleError(name, "expected a string such as \"5\", \"0,30\", \"[1-5]\" or \"0/15\"")
    text = str(text).strip()
    if not text or len(text) > 200:
        raise ScheduleError(name, "expected one or more values separated by commas")
    values: set[int] = set()
    for part in text.split(","):
        m = _ELEMENT.match(part.strip())
        if not m:
            raise ScheduleError(name, f"{part.strip()!r} is not a number, a range [a-b] or a step a/s")
        star, one, lo1, hi1, lo2, hi2, step = m.groups()
        if star:
            lo, hi = least, greatest
        elif one is not None:
            lo = int(one)
            hi = greatest if step else lo
        else:
            lo, hi = int(lo1 or lo2), int(hi1 or hi2)
        if not (least <= lo <= greatest and least <= hi <= greatest):
            raise ScheduleError(name, f"values must lie in {least}..{greatest}")
        if lo > hi:
            raise ScheduleError(name, f"the range {lo}-{hi} runs backwards")
        every = int(step) if step else 1
        if every < 1:
            raise ScheduleError(name, "a step must be at least 1")
        values.update(range(lo, hi + 1, every))
    return frozenset(values)


def parse_schedule(raw: object) -> Schedule:
    """Read a subscription's ``schedule`` object.

    Raises:
        ScheduleError: not an object, an unknown field, a value outside the grammar or range, no field at all, or a
            schedule that never fires.
    """
    if not isinstance(raw, dict):
        raise ScheduleError("schedule", "expected an object with second, minute, hour, dayOfMonth, month, dayOfWeek")
    names = [f[0] for f in FIELDS]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ScheduleError(unknown[0], f"not a schedule field (use {', '.join(names)})")
    given = [i for i, (name, _, _) in enumerate(FIELDS) if raw.get(name) is not None]
    if not given:
        raise ScheduleError("schedule", "name at least one field (e.g. {\"hour\": \"1\", \"minute\": \"5\"})")
    finest = min(given)
    sets = {}
    for i, (name, least, greatest) in enumerate(FIELDS):
        if raw.get(name) is not None:
            sets[name] = _field_values(name, raw[name], least, greatest)
        elif i < finest:
            sets[name] = frozenset({least})  # finer than what was named: its least value (the general intent)
        else:
            sets[name] = frozenset(range(least, greatest + 1))
    schedule = Schedule(**sets)
    if schedule.next_after(datetime(2026, 1, 1, tzinfo=CHINA)) is None:
        raise ScheduleError("schedule", "these fields never match a date (e.g. 31 February)")
    return schedule


def schedule_text(raw: dict) -> dict[str, str]:
    """The schedule as given, each field as text (what is stored and answered back)."""
    return {name: str(raw[name]).strip() for name, _, _ in FIELDS if raw.get(name) is not None}


def next_run(schedule: Schedule, now: datetime, last: datetime | None, min_interval_s: float) -> datetime | None:
    """When a scheduled subscription runs next: its first time after ``now``, and not sooner than ``min_interval_s``
    after its last run (a schedule of every second is run at most that often; missed times coalesce into one run,
    whose window covers them all)."""
    floor = now if last is None else max(now, last + timedelta(seconds=min_interval_s) - timedelta(seconds=1))
    return schedule.next_after(floor)


def dest_problem(url: str, production: bool) -> str | None:
    """Why a URL we are asked to post to (a subscription's ``dest``, a party's recall webhook) may not be used, or None.

    Every environment: http or https, a host, no user name or password in the URL (it would be answered back and
    logged). Production: https only, and never a host that is a loopback, private, link-local, reserved or
    multicast address or ``localhost`` (the server would otherwise post into its own network; any reader may
    subscribe, any party set its webhook). Tests and development may use a local receiver.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not host:
        return "use an http(s) URL with a host"
    if parts.username is not None or parts.password is not None:
        return "a dest may not carry a user name or password"
    if not production:
        return None
    if parts.scheme != "https":
        return "use https"
    if host == "localhost" or host.endswith(".localhost"):
        return "not a public host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: its addresses are checked again at each delivery (app/subscriptions.py)
    return None if public_address(host) else "not a public address"


def public_address(text: str) -> bool:
    """Tell whether an IP address (text) is a public one: not loopback, private, link-local, reserved, multicast or
    unspecified (an IPv4-mapped IPv6 address is judged by its IPv4 address)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_loopback or address.is_private or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified)


def delivery_id(subscription_id: str, run: str, part: int) -> str:
    """The delivery ID of one document of one run (a capture's stream, or a scheduled window), the same on every
    retry: receivers de-duplicate on it."""
    return str(uuid.uuid5(_NAMESPACE, f"{subscription_id}/{run}/{part}"))


def chunks(items: list, size: int) -> list[list]:
    """Cut a run's events into documents of at most ``size`` events ("manageable batches", as the binding asks)."""
    size = max(size, 1)
    return [items[i:i + size] for i in range(0, len(items), size)]
