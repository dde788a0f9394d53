"""The operator audit: every event of an NHS number and of the numbers merged with it, the
record as CP-IS held it at a moment, what a given query was answered, and reads by
organisation over a period.

Two clocks, named wherever a report takes a time:
- recorded: when CP-IS stored an event. "What CP-IS held at T" goes by it (`record_at`).
- effective: when a read happened by the care setting's clock (the query's effectiveTime),
  or when a refusal was received. "What happened at T" goes by it (`reads_by_organisation`,
  which can go by either).
Periods include their start and exclude their end: [from, to).

Events are read one at a time: one that cannot be read back (written by another build) is
reported as unreadable, naming its record and version, and the report carries on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.application.answers import QueryAnswer, ShownPlan, answer_from
from domain.application.app import CpisApplication
from domain.application.history import event_name, summarise
from domain.model.access import Access
from domain.model.errors import DomainError
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Provenance
from domain.model.record import ChildProtectionRecord as Record
from domain.model.record import record_id

_EPOCH = datetime.min.replace(tzinfo=UTC)
READ_EVENTS = (Record.InformationAccessed, Record.InformationReadSilently,
               Record.NoRecordsFoundAnswered)


class AuditError(DomainError):
    """A report that cannot be made as asked; the message says why."""


class Clock(Enum):
    RECORDED = "recorded"
    EFFECTIVE = "effective"


@dataclass(frozen=True)
class Unreadable:
    """A stored event that cannot be read back."""

    originator_id: UUID
    version: int
    topic: str
    error: str


@dataclass(frozen=True)
class AuditEntry:
    recorded_at: datetime | None  # None for an event that cannot be read
    nhs_number: str
    version: int
    event: str
    summary: str
    access_id: str | None
    channel: str
    message_id: str | None
    file_sequence: int | None
    asid: str | None


def stored_events(app: CpisApplication, originator_id: UUID) -> Iterator[Any]:
    """The originator's events, oldest first; each that cannot be read as Unreadable."""
    for stored in app.recorder.select_events(originator_id):
        try:
            yield app.mapper.to_domain_event(stored)
        except Exception as error:
            yield Unreadable(originator_id, stored.originator_version, stored.topic,
                             f"{type(error).__name__}: {error}")


def _access_id(event: Any) -> str | None:
    if isinstance(event, READ_EVENTS):
        return str(event.access.access_id)
    if isinstance(event, Record.QueryRefused):
        return event.refusal.access_id
    return None


def _entry(nhs_number: NhsNumber, event: Any) -> AuditEntry:
    if isinstance(event, Unreadable):
        return AuditEntry(None, nhs_number.value, event.version, event_name(event.topic),
                          f"cannot be read: {event.error}", None, "-", None, None, None)
    provenance: Provenance | None = getattr(event, "provenance", None)
    return AuditEntry(
        recorded_at=event.timestamp, nhs_number=nhs_number.value,
        version=event.originator_version, event=event_name(type(event).TOPIC),
        summary=summarise(event), access_id=_access_id(event),
        channel=provenance.channel.value if provenance else "-",
        message_id=provenance.message_id if provenance else None,
        file_sequence=provenance.file_sequence if provenance else None,
        asid=provenance.asid if provenance else None)


@dataclass
class Family:
    """An NHS number, every number merged into it or that it was merged into (directly
    or through a chain), and each one's events."""

    events: dict[NhsNumber, list[Any]] = field(default_factory=dict)

    @property
    def numbers(self) -> list[NhsNumber]:
        return list(self.events)


def family_of(app: CpisApplication, nhs_number: NhsNumber) -> Family:
    """Follows merges both ways: back through RecordMergedIn, on through
    NhsNumberSuperseded."""
    family, queue = Family(), [nhs_number]
    while queue:
        number = queue.pop(0)
        if number in family.events:
            continue
        events = list(stored_events(app, record_id(number)))
        family.events[number] = events
        for event in events:
            if isinstance(event, Record.RecordMergedIn):
                queue.append(event.merged_from)
            elif isinstance(event, Record.NhsNumberSuperseded):
                queue.append(event.replacement)
    return family


def _require_record(family: Family, nhs_number: NhsNumber) -> None:
    if not family.events[nhs_number]:
        raise AuditError(f"CP-IS holds no record for NHS number {nhs_number}")


def full_history(app: CpisApplication, nhs_number: NhsNumber) -> list[AuditEntry]:
    """Every stored event of the number and of the numbers merged with it, by when it was
    stored (recorded clock)."""
    family = family_of(app, nhs_number)
    _require_record(family, nhs_number)
    entries = [_entry(n, e) for n, events in family.events.items() for e in events]
    # an event that cannot be read has no known time: listed after the rest
    return sorted(entries, key=lambda e: (e.recorded_at is None, e.recorded_at or _EPOCH,
                                          e.nhs_number, e.version))


@dataclass(frozen=True)
class PointInTime:
    """The record as CP-IS held it at `at` (recorded clock)."""

    nhs_number: str
    at: datetime
    version: int
    status: str
    plans: tuple[ShownPlan, ...]
    clinicians_view: tuple[Access, ...]  # what a query then was shown: collapsed, newest 25
    accesses_recorded: int  # every unscheduled access recorded by then
    merged_in: tuple[str, ...]
    followed: PointInTime | None = None  # the number it had been merged into, at `at`
    unreadable_after: tuple[str, ...] = ()  # events after `version` that cannot be read


def record_at(app: CpisApplication, nhs_number: NhsNumber, at: datetime
              ) -> PointInTime | None:
    """The record as it stood at `at`, and where it had been merged into another number,
    that number's too; None where CP-IS held nothing for it yet."""
    return _held_at(app, nhs_number, at, depth=0)


def _held_at(app: CpisApplication, nhs_number: NhsNumber, at: datetime, depth: int
             ) -> PointInTime | None:
    events = list(stored_events(app, record_id(nhs_number)))
    held = [e for e in events if isinstance(e, Unreadable) or e.timestamp <= at]
    readable = [e for e in held if not isinstance(e, Unreadable)]
    if not readable:
        return None
    version = max(e.originator_version for e in readable)
    unreadable = [e for e in held if isinstance(e, Unreadable) and e.version <= version]
    if unreadable:
        bad = unreadable[0]
        raise AuditError(f"the record of NHS number {nhs_number} cannot be rebuilt as it "
                         f"stood: its event v{bad.version} ({event_name(bad.topic)}) cannot "
                         f"be read ({bad.error})")
    record = app.find_record(nhs_number, version=version)
    assert record is not None
    status = ("superseded by " + str(record.superseded_by) if record.superseded_by
              else "inactive" if record.inactive else "active")
    followed = None
    if record.superseded_by is not None and depth < 10:
        followed = _held_at(app, record.superseded_by, at, depth + 1)
    later = tuple(f"v{e.version} ({event_name(e.topic)}): {e.error}" for e in events
                  if isinstance(e, Unreadable) and e.version > version)
    return PointInTime(
        nhs_number.value, at, version, status,
        tuple(ShownPlan.of(p) for p in record.current_plans(at)),
        tuple(record.access_history()),
        sum(isinstance(e, Record.InformationAccessed) for e in readable),
        tuple(n.value for n in record.merged_from), followed, later)


@dataclass(frozen=True)
class QueryGiven:
    """One query, as CP-IS recorded it, and what it was answered (None where it was
    refused or told No Records Found)."""

    access_id: str
    nhs_number: str  # the number it asked about
    asked_at: datetime  # effective clock
    recorded_at: datetime  # recorded clock
    by: str
    organisation: str
    outcome: str  # access | silent read | no records | refused: <reason>
    message_id: str | None
    answer: QueryAnswer | None


def query_given(app: CpisApplication, nhs_number: NhsNumber, access_id: str
                ) -> QueryGiven | None:
    """The query with this access id (any letter case) about the number or any number
    merged with it, and what it was answered, rebuilt from the events."""
    wanted = access_id.strip().lower()
    family = family_of(app, nhs_number)
    _require_record(family, nhs_number)
    for number, events in family.events.items():
        for event in events:
            found = _access_id(event) if not isinstance(event, Unreadable) else None
            if found is not None and found.lower() == wanted:
                return _given(app, number, event)
    return None


def _given(app: CpisApplication, number: NhsNumber, event: Any) -> QueryGiven:
    message = event.provenance.message_id
    if isinstance(event, Record.QueryRefused):
        refusal = event.refusal
        return QueryGiven(str(refusal.access_id), number.value, refusal.received_at,
                          event.timestamp,
                          refusal.author.display_name if refusal.author else "unknown",
                          refusal.organisation or "unknown",
                          f"refused: {refusal.reason.value}", message, None)
    access: Access = event.access
    outcome, answer = "no records", None
    if not isinstance(event, Record.NoRecordsFoundAnswered):
        record = app.find_record(number, version=event.originator_version)
        assert record is not None
        silent = isinstance(event, Record.InformationReadSilently)
        outcome = "silent read" if silent else "access"
        answer = answer_from(record, event.timestamp, None if silent else access)
    return QueryGiven(access.access_id, number.value, access.accessed_at, event.timestamp,
                      access.author.display_name, access.author.organisation_ods, outcome,
                      message, answer)


def answer_given(app: CpisApplication, nhs_number: NhsNumber, access_id: str
                 ) -> QueryAnswer | None:
    """What the query with this access id was answered (None where none was given)."""
    given = query_given(app, nhs_number, access_id)
    return given.answer if given is not None else None
