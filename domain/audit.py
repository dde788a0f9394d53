"""The operator audit: every event of an NHS number across merges, the record as it stood
at any moment, what a given query was answered, and accesses by organisation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.access import Access
from domain.answers import answer_from
from domain.application import CpisApplication
from domain.history import summarise
from domain.nhs_number import NhsNumber
from domain.provenance import Provenance
from domain.record import ChildProtectionRecord as Record
from domain.record import record_id
from domain.views import PlanView, QueryAnswer


@dataclass(frozen=True)
class AuditEntry:
    recorded_at: datetime
    nhs_number: str
    version: int
    event: str
    summary: str
    channel: str
    message_id: str | None
    file_sequence: int | None
    asid: str | None


@dataclass(frozen=True)
class PointInTime:
    nhs_number: str
    at: datetime
    version: int
    status: str
    plans: tuple[PlanView, ...]
    history: tuple[Access, ...]


@dataclass(frozen=True)
class OrganisationAccesses:
    ods_code: str
    name: str
    accesses: int
    nhs_numbers: int


def _entry(event: Any) -> AuditEntry:
    provenance: Provenance | None = getattr(event, "provenance", None)
    return AuditEntry(
        recorded_at=event.timestamp, nhs_number=str(event.nhs_number),
        version=event.originator_version, event=type(event).__name__,
        summary=summarise(event), channel=provenance.channel.value if provenance else "-",
        message_id=provenance.message_id if provenance else None,
        file_sequence=provenance.file_sequence if provenance else None,
        asid=provenance.asid if provenance else None)


def numbers_merged_into(app: CpisApplication, nhs_number: NhsNumber) -> list[NhsNumber]:
    """The number itself and every number merged into it, directly or through a chain."""
    found, queue = [nhs_number], [nhs_number]
    while queue:
        record = app.find_record(queue.pop())
        for old in record.merged_from if record is not None else []:
            if old not in found:
                found.append(old)
                queue.append(old)
    return found


def full_history(app: CpisApplication, nhs_number: NhsNumber) -> list[AuditEntry]:
    """Every stored event of the number and of the numbers merged into it, oldest first."""
    entries = [_entry(e) for n in numbers_merged_into(app, nhs_number)
               for e in app.events.get(record_id(n))]
    return sorted(entries, key=lambda e: (e.recorded_at, e.nhs_number, e.version))


def record_at(app: CpisApplication, nhs_number: NhsNumber, at: datetime) -> PointInTime | None:
    """The record as it stood at `at` (None where it did not exist yet)."""
    events: list[Any] = list(app.events.get(record_id(nhs_number)))
    versions = [e.originator_version for e in events if e.timestamp <= at]
    if not versions:
        return None
    record = app.find_record(nhs_number, version=max(versions))
    assert record is not None
    status = ("superseded by " + str(record.superseded_by) if record.superseded_by
              else "inactive" if record.inactive else "active")
    return PointInTime(nhs_number.value, at, max(versions), status,
                       tuple(PlanView.of(p) for p in record.current_plans(at)),
                       tuple(record.access_history()))


def answer_given(app: CpisApplication, nhs_number: NhsNumber, access_id: str
                 ) -> QueryAnswer | None:
    """What the query with this access id was answered, rebuilt from the events."""
    for event in app.events.get(record_id(nhs_number)):
        if isinstance(event, Record.InformationAccessed) and event.access.access_id == access_id:
            record = app.find_record(nhs_number, version=event.originator_version)
            assert record is not None
            return answer_from(record, event.timestamp, event.access)
    return None


def _accesses(app: CpisApplication) -> Iterator[Any]:
    start = 1
    while True:
        page = app.recorder.select_notifications(
            start=start, limit=1000, topics=[Record.InformationAccessed.TOPIC])
        if not page:
            return
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        start = page[-1].id + 1


def accesses_by_organisation(app: CpisApplication, start: datetime, end: datetime,
                             ods_code: str | None = None) -> list[OrganisationAccesses]:
    """Accesses in [start, end) per accessing organisation, most first."""
    counts: dict[str, tuple[str, int, set[str]]] = {}
    for event in _accesses(app):
        access = event.access
        org = access.author.organisation_ods
        if not start <= access.accessed_at < end or (ods_code and org != ods_code):
            continue
        name, count, children = counts.get(org, (access.author.organisation_name, 0, set()))
        counts[org] = (name, count + 1, children | {event.nhs_number.value})
    return sorted((OrganisationAccesses(org, name, n, len(kids))
                   for org, (name, n, kids) in counts.items()),
                  key=lambda r: (-r.accesses, r.ods_code))
