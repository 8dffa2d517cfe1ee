"""China Standard Time, the one time zone TraceGraph's parties live in (UTC+8 all year: no daylight saving).

Dates a person reads (today's date on a scan page, a recall's deadlines, a report's day) are dates in this zone;
EPCIS events captured here carry its offset as ``eventTimeZoneOffset``.
"""

from __future__ import annotations

from datetime import timedelta, timezone

CHINA = timezone(timedelta(hours=8))
CHINA_OFFSET = "+08:00"  # CHINA as EPCIS writes it (eventTimeZoneOffset, ISO 8601 times)
