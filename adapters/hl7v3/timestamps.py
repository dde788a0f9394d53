"""HL7 TS values: YYYYMMDD[HHMM[SS[.fff]]][+|-ZZZZ], and the 12-digit plan date form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_TS = re.compile(r"^(\d{8})(\d{4})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


def parse_ts(value: str) -> datetime:
    """An HL7 TS as an aware datetime in UTC (a value without a zone is taken as UTC).

    ValueError where it is not a TS, not a real moment, or not one UTC can hold (year 9999
    behind UTC, year 1 ahead of it): such a value could be stored but never read back."""
    match = _TS.match(value.strip())
    if match is None:
        raise ValueError(f"not an HL7 timestamp: {value[:40]!r}")
    day, hhmm, ss, zone = match.groups()
    text = day + (hhmm or "0000") + (ss or "00")
    try:
        moment = datetime.strptime(text, "%Y%m%d%H%M%S")
        tz = UTC
        if zone:
            minutes = int(zone[1:3]) * 60 + int(zone[3:])
            tz = timezone(timedelta(minutes=minutes if zone[0] == "+" else -minutes))
        return moment.replace(tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"HL7 timestamp {value!r} is not a moment CP-IS can hold") from None


def format_ts(moment: datetime) -> str:
    """YYYYMMDDHHMMSS+ZZZZ."""
    return moment.strftime("%Y%m%d%H%M%S%z")


def format_response_time(moment: datetime) -> str:
    """An effectiveTime in a query response as NHS's samples write it: YYYYMMDDHHMM+ZZZZ."""
    return moment.strftime("%Y%m%d%H%M%z")


def format_creation_time(moment: datetime) -> str:
    """A message's creationTime as Spine writes it: YYYYMMDDHHMMSS, UTC, no zone."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def format_plan_date(moment: datetime) -> str:
    """The 12-digit YYYYMMDDHHMM plan date (TS.NHS.DateType1)."""
    return moment.strftime("%Y%m%d%H%M")


def format_date(day: date) -> str:
    return day.strftime("%Y%m%d")
