"""The records' store: the eventsourcing application every use case builds on.

Persistence (memory, SQLite, PostgreSQL) comes from `env`; the stored form of events from
the composition root's mapper choice (it stores them as their Avro messages). Records and
ledgers stay in memory between commands (an LRU cache), and each get reads only the events
saved since, by any process (the library's fast-forward).

Each command is get -> command -> save. A save that loses a race with another writer is
retried on the fresh record; the retry holds ExclusiveWrites (contention.py), so it cannot
lose again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import (
    InterfaceError,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    OperationalError,
    RecordConflictError,
)

from domain.application.answers import HistoryEntry, ShownPlan
from domain.application.contention import ExclusiveWrites, ProcessLocks
from domain.application.history import history_entry
from domain.application.transcodings import register_domain_transcodings
from domain.model.errors import DomainError, NoRecordFoundError
from domain.model.event_id_claims import EventIdClaim, claim_id
from domain.model.limits import Limits
from domain.model.nhs_number import NhsNumber
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.upload_ledger import SNAPSHOT_EVERY, UploadLedger, ledger_id

APPLICATION_NAME = "CPIS"
SAVE_ATTEMPTS = 30
CACHED_AGGREGATES = 10_000
# A record is snapshotted every RECORD_SNAPSHOT_EVERY events: a query on a record that is not
# in a process's cache then reads one snapshot and fewer events than that, whatever the
# record's history. Fewer events between snapshots make that read cheaper and the snapshots
# dearer (the library reads the record back to take one): at 50 the worst cold read stays
# within 2x of a new record's (docs/benchmarks.md, scaling) and snapshots cost a query ~0.1 ms.
RECORD_SNAPSHOT_EVERY = 50
T = TypeVar("T")
# how the composition root chooses the stored form of events: given the library's JSON
# mapper, the mapper to use (streams/avro/mapper.py stores them as their Avro messages)
MapperChoice = Callable[[Mapper[UUID]], Mapper[UUID]]
# the store cannot be reached now: try again later; never a reason to refuse an input
UNAVAILABLE = (OperationalError, InterfaceError)


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnreadableRecordError(DomainError):
    """A record whose stored events cannot be read back (written by another build)."""


class RecordStore(Application[UUID]):
    name = APPLICATION_NAME
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": str(CACHED_AGGREGATES)}
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        UploadLedger: SNAPSHOT_EVERY, ChildProtectionRecord: RECORD_SNAPSHOT_EVERY}

    def __init__(self, env: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = utc_now, mapper: MapperChoice | None = None,
                 limits: Limits | None = None) -> None:
        self._choose_mapper = mapper  # read by construct_mapper, during super().__init__
        super().__init__(env)
        self.clock = clock
        self.limits = limits or Limits()
        self.exclusive_writes: ExclusiveWrites = ProcessLocks()

    def use_exclusive_writes(self, exclusive: ExclusiveWrites) -> None:
        """How a retry keeps every other writer out (contention.py)."""
        self.exclusive_writes = exclusive

    def construct_mapper(self) -> Mapper[UUID]:
        json_mapper = super().construct_mapper()
        return json_mapper if self._choose_mapper is None else self._choose_mapper(json_mapper)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # -- reads ------------------------------------------------------------------------

    def find_record(self, nhs_number: NhsNumber, version: int | None = None
                    ) -> ChildProtectionRecord | None:
        try:
            record: object = self.repository.get(record_id(nhs_number), version=version)
        except AggregateNotFoundError:
            return None
        assert isinstance(record, ChildProtectionRecord)
        return record

    def readable_record(self, nhs_number: NhsNumber) -> ChildProtectionRecord | None:
        """find_record, where a record that cannot be read back is a DomainError naming
        it: the one input touching it is refused, the rest go on."""
        try:
            return self.find_record(nhs_number)
        except UNAVAILABLE:
            raise
        except (MapperDeserialisationError, ValueError, TypeError, KeyError) as error:
            raise UnreadableRecordError(
                f"the stored record of NHS number {nhs_number} cannot be read back "
                f"({type(error).__name__}); the CP-IS operators have been told") from error

    def find_claim(self, event_id: str) -> EventIdClaim | None:
        try:
            claim: object = self.repository.get(claim_id(event_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(claim, EventIdClaim)
        return claim

    def upload_ledger(self, ods_code: str) -> UploadLedger:
        try:
            ledger: object = self.repository.get(ledger_id(ods_code))
        except AggregateNotFoundError:
            return UploadLedger(ods_code=ods_code)
        assert isinstance(ledger, UploadLedger)
        return ledger

    def current_plans(self, nhs_number: NhsNumber) -> tuple[ShownPlan, ...]:
        record = self.find_record(nhs_number)
        if record is None:
            return ()
        return tuple(ShownPlan.of(plan) for plan in record.current_plans(self.clock()))

    def history(self, nhs_number: NhsNumber) -> list[HistoryEntry]:
        """Every stored event of the NHS number's record, oldest first."""
        return [history_entry(e) for e in self.events.get(record_id(nhs_number))]

    # -- writes -----------------------------------------------------------------------

    def snapshot_if_due(self, aggregate: Aggregate, new_events: int) -> None:
        """A snapshot of an aggregate saved outside `save` (by an upload), when its
        `new_events` took it to or past a multiple of its interval: taken from the
        aggregate as it is, not read back from the store."""
        interval = self.snapshotting_intervals.get(type(aggregate))
        version = aggregate.version
        if self.snapshots is not None and interval and \
                version // interval > (version - new_events) // interval:
            snapshot_class = getattr(type(aggregate), "Snapshot", Snapshot)
            self.snapshots.put([snapshot_class.take(aggregate)])

    def _change(self, nhs_number: NhsNumber, command: Callable[[ChildProtectionRecord], T],
                create: bool = False) -> T:
        """get -> command -> save, retried on the fresh record when another writer saved
        first."""

        def attempt() -> T:
            record = self.find_record(nhs_number)
            if record is None:
                if not create:
                    raise NoRecordFoundError(f"No Records Found for NHS number {nhs_number}")
                record = ChildProtectionRecord(nhs_number=nhs_number)
            result = command(record)
            self.save(record)
            return result

        return self._retrying(attempt, record_id(nhs_number))

    def _retrying(self, attempt: Callable[[], T], record: UUID | None = None) -> T:
        """Run `attempt` again (on fresh state) when another writer saved first; a retry on
        one `record` keeps the other writers out meanwhile (contention.py)."""
        for number in range(1, SAVE_ATTEMPTS + 1):
            turn = self.exclusive_writes.holding(record) if record is not None \
                and number > 1 else nullcontext()
            try:
                with turn:
                    return attempt()
            except RecordConflictError:
                if number == SAVE_ATTEMPTS:
                    raise
                if number > 1:  # the first retry at once: fast-forwarding is cheap
                    time.sleep(random.uniform(0, 0.001 * 2 ** min(number, 6)))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover
