"""What an operator types, checked: a bad NHS number, date or code gets a message on the
page saying what was expected, never a stack trace."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.model.errors import DomainError
from domain.model.nhs_number import NhsNumber

UK = ZoneInfo("Europe/London")
_ODS = re.compile(r"^[A-Z0-9]{3,10}$")
_ACCESS_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class BadInput(ValueError):  # noqa: N818 - a message for the page, not a program error
    """Input the page refuses, with what it expected."""


def nhs_number(text: str | None) -> NhsNumber:
    if not text or not text.strip():
        raise BadInput("Enter an NHS number (10 digits, e.g. 999 000 0018).")
    try:
        return NhsNumber.parse(text)
    except DomainError as error:
        raise BadInput(f"That is not a valid NHS number: {error}.") from None


def moment(text: str | None, what: str) -> datetime | None:
    """A date and time as a browser's datetime-local field sends it (UK time), or None."""
    if not text or not text.strip():
        return None
    try:
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"The {what} must be a date and time such as 2026-11-01T12:00 "
                       f"(UK time); got {text[:40]!r}.") from None
    return found if found.tzinfo else found.replace(tzinfo=UK)


def day(text: str | None, what: str, default: date) -> date:
    if not text or not text.strip():
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"The {what} must be a date such as 2026-11-01; got "
                       f"{text[:40]!r}.") from None


def period(start: str | None, end: str | None, today: date) -> tuple[datetime, datetime]:
    """[from, to] as whole UK days; the last 7 days when not given."""
    first = day(start, "'from' date", today - timedelta(days=6))
    last = day(end, "'to' date", today)
    if last < first:
        raise BadInput(f"The 'to' date ({last}) is before the 'from' date ({first}).")
    if (last - first).days > 366:
        raise BadInput("Choose a period of at most a year.")
    return (datetime.combine(first, time(), UK),
            datetime.combine(last + timedelta(days=1), time(), UK))


def ods_code(text: str | None, required: bool = True) -> str | None:
    if not text or not text.strip():
        if required:
            raise BadInput("Enter a local authority's ODS code (e.g. X26).")
        return None
    code = text.strip().upper()
    if not _ODS.match(code):
        raise BadInput(f"An ODS code is 3 to 10 letters or digits; got {text[:40]!r}.")
    return code


def access_id(text: str | None) -> str:
    if not text or not _ACCESS_ID.match(text.strip()):
        raise BadInput("Enter the query's access id (its event id, as the record's timeline "
                       "lists it).")
    return text.strip()
