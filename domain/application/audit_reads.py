"""The operator audit's reads report: accesses, silent reads, "no records" answers and
refusals per organisation over a period [from, to), by either clock (audit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.application.app import CpisApplication
from domain.application.audit import READ_EVENTS, AuditError, Clock
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import UnnumberedRefusal


@dataclass(frozen=True)
class OrganisationReads:
    ods_code: str
    name: str
    accesses: int
    silent_reads: int
    no_records: int
    refused: int
    nhs_numbers: int


@dataclass(frozen=True)
class ReadsReport:
    rows: list[OrganisationReads]
    unreadable: list[str]  # positions of events that could not be read


READ_TOPICS = [cls.TOPIC for cls in (*READ_EVENTS, Record.QueryRefused,
                                     UnnumberedRefusal.Recorded)]


def reads_by_organisation(app: CpisApplication, start: datetime, end: datetime,
                          ods_code: str | None = None, clock: Clock = Clock.EFFECTIVE
                          ) -> ReadsReport:
    """Reads in [start, end) per organisation, most accesses first, by `clock`."""
    if start >= end:
        raise AuditError(f"the period is empty: --from {start.isoformat()} is not before "
                         f"--to {end.isoformat()}")
    wanted = ods_code.strip().upper() if ods_code else None
    tally: dict[str, dict[str, Any]] = {}
    unreadable: list[str] = []
    for position, event in _read_events(app):
        if event is None:
            unreadable.append(f"position {position}")
            continue
        org, name, when = _who_and_when(event, clock)
        if not start <= when < end or (wanted and org != wanted):
            continue
        row = tally.setdefault(org, {"name": name, "kinds": dict.fromkeys(
            ("access", "silent", "none", "refused"), 0), "numbers": set()})
        row["kinds"][_kind(event)] += 1
        number = getattr(event, "nhs_number", None)
        if number is not None:
            row["numbers"].add(str(number))
    rows = [OrganisationReads(org, r["name"], r["kinds"]["access"], r["kinds"]["silent"],
                              r["kinds"]["none"], r["kinds"]["refused"], len(r["numbers"]))
            for org, r in tally.items()]
    return ReadsReport(sorted(rows, key=lambda r: (-r.accesses, r.ods_code)), unreadable)


def accesses_by_organisation(app: CpisApplication, start: datetime, end: datetime,
                             ods_code: str | None = None) -> list[OrganisationReads]:
    return reads_by_organisation(app, start, end, ods_code).rows


def _kind(event: Any) -> str:
    if isinstance(event, Record.InformationAccessed):
        return "access"
    if isinstance(event, Record.InformationReadSilently):
        return "silent"
    if isinstance(event, Record.NoRecordsFoundAnswered):
        return "none"
    return "refused"


def _who_and_when(event: Any, clock: Clock) -> tuple[str, str, datetime]:
    if isinstance(event, READ_EVENTS):
        author = event.access.author
        when = event.access.accessed_at
        org, name = author.organisation_ods, author.organisation_name
    else:
        refusal = event.refusal
        when = refusal.received_at
        org = (refusal.organisation or "UNKNOWN").upper()
        name = refusal.author.organisation_name if refusal.author else "(as sent)"
    return org, name, event.timestamp if clock is Clock.RECORDED else when


def _read_events(app: CpisApplication) -> Iterator[tuple[int, Any]]:
    """(position, event) of every read and refusal; event None where unreadable."""
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=1000, topics=READ_TOPICS)
        if not page:
            return
        for notification in page:
            try:
                yield notification.id, app.mapper.to_domain_event(notification)
            except Exception:
                yield notification.id, None
        start = page[-1].id + 1
