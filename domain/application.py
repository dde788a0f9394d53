"""The CP-IS application: commands that record events, and the query use case.

Each method is get -> command -> save. A save that loses a race with another writer on
the same NHS number is retried on the fresh record (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError

from domain.access import Access, access_history
from domain.authors import Author
from domain.errors import NoRecordFoundError
from domain.history import history_entry
from domain.nhs_number import NhsNumber
from domain.plans import Plan, PlanKey, PlanType
from domain.provenance import Provenance
from domain.record import ChildProtectionRecord, record_id
from domain.transcodings import register_domain_transcodings
from domain.views import HistoryEntry, PlanView, QueryAnswer

APPLICATION_NAME = "CPIS"
SAVE_ATTEMPTS = 5
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class PlanChange(Enum):
    REGISTERED = "registered"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class QueryRequest:
    """A care setting asks about an NHS number; silent (scheduled-care) reads record nothing."""

    nhs_number: NhsNumber
    author: Author
    accessed_at: datetime
    access_id: str
    provenance: Provenance
    silent: bool = False

    @property
    def access(self) -> Access:
        return Access(self.access_id, self.accessed_at, self.author)


class CpisApplication(Application[UUID]):
    """Write side of CP-IS. Persistence (memory, SQLite, PostgreSQL) comes from `env`."""

    name = APPLICATION_NAME

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env)
        self.clock = clock

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # -- commands ---------------------------------------------------------------------

    def upload_plan(self, nhs_number: NhsNumber, plan: Plan, provenance: Provenance) -> PlanChange:
        """Register the plan, or update the one its local authority already holds."""

        def change(record: ChildProtectionRecord) -> PlanChange:
            now = self.clock()
            held = record.plans.get(plan.key)
            if held is None or held.is_deleted(now):
                record.register_plan(plan, provenance, now)
                return PlanChange.REGISTERED
            if held == plan:
                return PlanChange.UNCHANGED
            record.update_plan(plan, provenance, now)
            return PlanChange.UPDATED

        return self._change(nhs_number, change, create=True)

    def end_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, end: datetime,
        provenance: Provenance,
    ) -> None:
        key = PlanKey(ods_code, plan_type)
        self._change(nhs_number, lambda r: r.end_plan(key, end, provenance, self.clock()))

    def delete_plan(
        self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType, delete: datetime,
        provenance: Provenance,
    ) -> None:
        key = PlanKey(ods_code, plan_type)
        self._change(nhs_number, lambda r: r.delete_plan(key, delete, provenance, self.clock()))

    def supersede(self, old: NhsNumber, new: NhsNumber, provenance: Provenance) -> None:
        self._change(old, lambda r: r.supersede(new, provenance, self.clock()), create=True)

    def mark_inactive(self, nhs_number: NhsNumber, provenance: Provenance) -> None:
        self._change(nhs_number, lambda r: r.mark_inactive(provenance, self.clock()),
                     create=True)

    # -- the query use case -----------------------------------------------------------

    def query(self, request: QueryRequest) -> QueryAnswer:
        """Answer with all plans and the access history; record the access unless silent.

        Raises NoRecordFoundError where the NHS number has no current plan.
        """

        def answer(record: ChildProtectionRecord) -> QueryAnswer:
            plans = record.current_plans(self.clock())
            if not plans or not record.is_active:
                raise NoRecordFoundError(f"No Records Found for NHS number {request.nhs_number}")
            if not request.silent:
                record.record_access(request.access, request.provenance)
            current = None if request.silent else request.access
            return QueryAnswer(
                nhs_number=record.nhs_number,
                plans=tuple(PlanView.of(plan) for plan in plans),
                history=tuple(access_history(record.accesses, current)),
                access_recorded=not request.silent,
            )

        return self._change(request.nhs_number, answer)

    # -- reads ------------------------------------------------------------------------

    def find_record(
        self, nhs_number: NhsNumber, version: int | None = None
    ) -> ChildProtectionRecord | None:
        try:
            record: object = self.repository.get(record_id(nhs_number), version=version)
        except AggregateNotFoundError:
            return None
        assert isinstance(record, ChildProtectionRecord)
        return record

    def current_plans(self, nhs_number: NhsNumber) -> tuple[PlanView, ...]:
        record = self.find_record(nhs_number)
        if record is None:
            return ()
        return tuple(PlanView.of(plan) for plan in record.current_plans(self.clock()))

    def history(self, nhs_number: NhsNumber) -> list[HistoryEntry]:
        """Every stored event of the NHS number's record, oldest first."""
        return [history_entry(e) for e in self.events.get(record_id(nhs_number))]

    # -- plumbing ---------------------------------------------------------------------

    def _change(
        self,
        nhs_number: NhsNumber,
        command: Callable[[ChildProtectionRecord], T],
        create: bool = False,
    ) -> T:
        """get -> command -> save, retried when another writer saved first."""
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            record = self.find_record(nhs_number)
            if record is None:
                if not create:
                    raise NoRecordFoundError(f"No Records Found for NHS number {nhs_number}")
                record = ChildProtectionRecord(nhs_number=nhs_number)
            result = command(record)
            try:
                self.save(record)
            except RecordConflictError:
                if attempt == SAVE_ATTEMPTS:
                    raise
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

