"""The windows every value from outside (HL7, MESH, the PDS feed) must fall in before any
event exists. A value outside its window is refused with a message naming the window, so
nothing stored can later fail to read back or push genuine entries out of a history.

| value                         | window                                                  |
|-------------------------------|---------------------------------------------------------|
| access time (effectiveTime)   | no later than now + clock skew (default 5 minutes), no  |
|                               | earlier than now - maximum age (default 24 hours)       |
| plan start, end, delete dates | years 1900 to 2099 (the NHS plan-date type's own range)  |
| birth date                    | 1900-01-01 to today                                     |
| LA file sequence number       | 1 to 2,147,483,647                                      |
| transmissionQuantity          | 0 to 2,147,483,647                                      |
| ids (event, message, feed)    | 1 to 128 characters                                     |
| names and display texts       | 1 to 200 characters                                     |
| NHS number                    | Modulus 11, and inside a range issued to patients       |
|                               | (domain/nhs_number.py ISSUED_RANGES)                    |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.model.access_log import REOPEN_WINDOW
from domain.model.errors import OutOfRangeError
from domain.model.nhs_number import NhsNumber, check_issued

PLAN_YEARS = (1900, 2099)
EARLIEST_BIRTH = date(1900, 1, 1)
LARGEST_INT = 2**31 - 1  # a file sequence fits every consumer's int column
MAX_ID = 128
MAX_TEXT = 200


@dataclass(frozen=True)
class AccessWindow:
    """How far an access time may stray from the clock of the CP-IS service."""

    clock_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        # a record re-collapses late accesses only within its reopen window (access_log.py)
        if self.max_age + self.clock_skew > REOPEN_WINDOW:
            raise ValueError(
                f"an access window of {_span(self.max_age)} and {_span(self.clock_skew)} of "
                f"clock skew is longer than the {_span(REOPEN_WINDOW)} a record keeps every "
                "access for")

    def check(self, accessed_at: datetime, now: datetime) -> None:
        if accessed_at > now + self.clock_skew:
            raise OutOfRangeError(
                f"access time {accessed_at.isoformat()} is more than "
                f"{_span(self.clock_skew)} after CP-IS's clock ({now.isoformat()})")
        if accessed_at < now - self.max_age:
            raise OutOfRangeError(
                f"access time {accessed_at.isoformat()} is more than "
                f"{_span(self.max_age)} before CP-IS's clock ({now.isoformat()})")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def check_plan_date(moment: datetime, what: str) -> None:
    first, last = PLAN_YEARS
    if not first <= moment.year <= last:
        raise OutOfRangeError(f"{what} {moment:%Y-%m-%d} is outside the years {first}-{last}")


def check_birth_date(day: date, today: date) -> None:
    if not EARLIEST_BIRTH <= day <= today:
        raise OutOfRangeError(
            f"birth date {day.isoformat()} is outside {EARLIEST_BIRTH.isoformat()} to today")


def check_whole_number(value: int, what: str, least: int) -> None:
    if not least <= value <= LARGEST_INT:
        raise OutOfRangeError(f"{what} {value} is outside {least} to {LARGEST_INT:,}")


def shortened(text: str, longest: int = MAX_TEXT) -> str:
    """The text, cut to `longest` characters where longer: a detail may quote what a message
    sent, and a hostile 10 MB value is quoted, not copied into an event or a reply."""
    return text if len(text) <= longest else text[:longest - 4] + " ..."


def check_text(value: str, what: str, longest: int = MAX_TEXT) -> None:
    if len(value) > longest:
        raise OutOfRangeError(f"{what} is {len(value):,} characters; at most {longest} are taken")


@dataclass(frozen=True)
class Limits:
    """The windows a CP-IS service applies; configurable where a deployment needs it."""

    access: AccessWindow = AccessWindow()
    test_nhs_numbers: bool = True  # the 999 test range; refuse it in live service

    def check_nhs_number(self, nhs_number: NhsNumber) -> None:
        check_issued(nhs_number, self.test_nhs_numbers)
