"""The CP-IS application: commands that record events, and the query use case.

Each method is get -> command -> save. A save that loses a race with another writer on
the same NHS number is retried on the fresh record (optimistic concurrency).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar, TypeVar, overload
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import (
    InterfaceError,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    OperationalError,
    RecordConflictError,
    Recording,
    StoredEvent,
)

from domain.application.answers import answer_from
from domain.application.contention import ExclusiveWrites, ProcessLocks
from domain.application.history import history_entry
from domain.application.pds import PdsPort, PdsUnavailableError
from domain.application.transcodings import register_domain_transcodings
from domain.application.upload_shards import Prepared, ShardRunner, ShardWork
from domain.application.uploads import UploadApplier
from domain.application.views import HistoryEntry, PlanView, QueryAnswer
from domain.model.access import Access
from domain.model.authors import Author
from domain.model.errors import (
    DomainError,
    IdentityError,
    InvalidNhsNumberError,
    NoRecordFoundError,
    OutOfRangeError,
    QueryRefusedError,
)
from domain.model.event_id_claims import EventIdClaim, claim_id
from domain.model.limits import Limits
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanKey, PlanType
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.refusals import Refusal, RefusalReason, UnnumberedRefusal
from domain.model.upload_ledger import SNAPSHOT_EVERY, UploadLedger, ledger_id
from domain.model.uploads import FileCode, LaUpload, RecordOutcome, UploadOutcome, file_code_for

APPLICATION_NAME = "CPIS"
SAVE_ATTEMPTS = 30  # contended NHS numbers: a few writers on one record at once
CACHED_AGGREGATES = 10_000
SHARD_FROM = 2_000  # records in a file from which shards pay for the processes they start
T = TypeVar("T")
# how the composition root chooses the stored form of events: given the library's JSON mapper,
# the mapper to use (streams/avro_mapper.py stores them as their Avro messages)
MapperChoice = Callable[[Mapper[UUID]], Mapper[UUID]]


def utc_now() -> datetime:
    return datetime.now(UTC)


# the store cannot be reached now: try again later; never a reason to refuse an input
UNAVAILABLE = (OperationalError, InterfaceError)


class UploadFailedError(RuntimeError):
    """An upload that failed for a reason of CP-IS's own, not its content: `stage` says
    where (records: applying them; storage: saving them), `detail` what happened."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


class UnreadableRecordError(DomainError):
    """A record whose stored events cannot be read back (written by another build)."""


class ChangeOutcome(Enum):
    """What an identity change did; true unless CP-IS holds no record for the number."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already applied"
    NOT_HELD = "not held"

    def __bool__(self) -> bool:
        return self is not ChangeOutcome.NOT_HELD


class PlanChange(Enum):
    REGISTERED = "registered"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class AppliedRecords:
    """The records an upload changes: loaded or opened while applying it (with the index of
    the file's first record to touch each), and the stored events prepared records bring."""

    records: dict[NhsNumber, ChildProtectionRecord] = field(default_factory=dict)
    first_use: dict[NhsNumber, int] = field(default_factory=dict)
    brought: dict[int, list[StoredEvent]] = field(default_factory=dict)  # by record index

    def clear(self) -> None:
        self.records.clear()
        self.first_use.clear()
        self.brought.clear()


class ThenMapped(Sequence[StoredEvent]):
    """Stored events, then domain events put in their stored form only once an iteration
    reaches them: a recorder COPYing the sequence sends the first rows to the database
    before the last are made, so the database takes them in meanwhile."""

    def __init__(self, stored: list[StoredEvent], later: Sequence[Any],
                 to_stored: Callable[[Any], StoredEvent]) -> None:
        self._stored = stored
        self._later = later
        self._to_stored = to_stored
        self._mapped: list[StoredEvent] | None = None
        self._every: list[StoredEvent] | None = None  # for indexing, made at the first

    def __len__(self) -> int:
        return len(self._stored) + len(self._later)

    def __iter__(self) -> Iterator[StoredEvent]:
        yield from self._stored
        yield from self._tail()

    def _tail(self) -> list[StoredEvent]:
        if self._mapped is None:
            self._mapped = [self._to_stored(e) for e in self._later]
        return self._mapped

    @overload
    def __getitem__(self, index: int) -> StoredEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StoredEvent]: ...

    def __getitem__(self, index: int | slice) -> StoredEvent | Sequence[StoredEvent]:
        if self._every is None:
            self._every = [*self._stored, *self._tail()]
        return self._every[index]


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
    """Write side of CP-IS. Persistence (memory, SQLite, PostgreSQL) comes from `env`; the
    stored form of events from `mapper` (the library's JSON unless the composition root
    chooses another: it stores them as their Avro messages).

    Records and ledgers stay in memory between commands (an LRU cache): each get reads only
    the events saved since, by any process (eventsourcing's fast-forward), instead of every
    event of the record - a record grows by one event per access for ever. A command works
    on a copy (domain/copying.py: cheap, as all their values are immutable), so one that
    fails leaves the cached record as stored.
    """

    name = APPLICATION_NAME
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": str(CACHED_AGGREGATES)}
    # ledgers only: a record's events are few and small, a ledger's hold whole outcomes
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {UploadLedger: SNAPSHOT_EVERY}

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = utc_now,
        mapper: MapperChoice | None = None, shards: ShardRunner | None = None,
        shard_from: int = SHARD_FROM, limits: Limits | None = None,
    ) -> None:
        self._choose_mapper = mapper  # read by construct_mapper, during super().__init__
        super().__init__(env)
        self.clock = clock
        self.shards = shards
        self.shard_from = shard_from
        self.limits = limits or Limits()
        self.exclusive_writes: ExclusiveWrites = ProcessLocks()
        self._known_records: set[UUID] = set()
        self._known_up_to = 0

    def use_exclusive_writes(self, exclusive: ExclusiveWrites) -> None:
        """How a retry keeps every other writer out (domain/contention.py)."""
        self.exclusive_writes = exclusive

    def construct_mapper(self) -> Mapper[UUID]:
        json_mapper = super().construct_mapper()
        return json_mapper if self._choose_mapper is None else self._choose_mapper(json_mapper)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def save(  # type: ignore[override]
        self, *aggregates: Aggregate | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """The library's save, without its two runtime-Protocol isinstance checks on each
        object (is it an event? can it collect events?): about 8 us per aggregate, a tenth of
        a 10,000-record upload. Everything this application saves is an aggregate."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            if aggregate is not None:
                processing_event.events.extend(aggregate.collect_events())
                processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

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
        """Mark `old` superseded without moving anything (see `merge`)."""
        self._change(old, lambda r: r.supersede(new, provenance, self.clock()), create=True)

    def mark_inactive(self, nhs_number: NhsNumber, provenance: Provenance) -> ChangeOutcome:
        """Retire the NHS number; NOT_HELD (nothing recorded) where CP-IS holds no record."""
        record = self.find_record(nhs_number)
        if record is None:
            return ChangeOutcome.NOT_HELD
        if record.inactive:
            return ChangeOutcome.ALREADY_APPLIED
        self._change(nhs_number, lambda r: r.mark_inactive(provenance, self.clock()))
        return ChangeOutcome.APPLIED

    def merge(self, old: NhsNumber, new: NhsNumber, provenance: Provenance) -> ChangeOutcome:
        """PDS merged `old` into `new`: move plans and accesses to the live end of `new`'s
        chain, mark `old` superseded (its LAs are notified), in one transaction.

        NOT_HELD (nothing recorded) where CP-IS holds no record for `old`; a repeat changes
        nothing (ALREADY_APPLIED); a self-merge or a merge that would make a loop is
        refused.
        """
        if old == new:
            raise IdentityError(f"NHS number {old} cannot be merged into itself")

        def attempt() -> ChangeOutcome:
            source = self.find_record(old)
            if source is None:
                return ChangeOutcome.NOT_HELD
            target_number = self.live_number(new)
            if target_number == old:
                raise IdentityError(f"merging {old} into {new} would make a loop")
            if source.superseded_by in (new, target_number):
                return ChangeOutcome.ALREADY_APPLIED
            target = self.find_record(target_number) or ChildProtectionRecord(
                nhs_number=target_number)
            now = self.clock()
            target.merge_in(old, list(source.plans.values()), list(source.accesses), provenance,
                            now)
            source.supersede(target_number, provenance, now)
            self.save(source, target)
            return ChangeOutcome.APPLIED

        return self._retrying(attempt)

    def live_number(self, nhs_number: NhsNumber) -> NhsNumber:
        """Follow superseded-by links to the number now in use."""
        seen = {nhs_number}
        record = self.find_record(nhs_number)
        while record is not None and record.superseded_by is not None:
            if record.superseded_by in seen:
                raise IdentityError(f"NHS number {nhs_number} is in a supersession loop")
            seen.add(record.superseded_by)
            nhs_number = record.superseded_by
            record = self.find_record(nhs_number)
        return nhs_number

    # -- the query use case -----------------------------------------------------------

    def query(self, request: QueryRequest) -> QueryAnswer:
        """Answer with every current plan and the access history, and record the read as one
        event: an unscheduled access (shown in the history, its local authorities
        notified), a silent read, or a "no records" answer. The same query resent (same
        event id, NHS number, author and organisation) is answered again, recorded once.

        Raises NoRecordFoundError where the number has no current plan, and
        QueryRefusedError where a value is out of its window or the event id belongs to
        another query; both are recorded first.
        """
        now = self.clock()
        self._check_query(request, now)
        tries = itertools.count()

        def attempt() -> QueryAnswer:
            record = self.find_record(request.nhs_number) or ChildProtectionRecord(
                nhs_number=request.nhs_number)
            if next(tries) > 0:  # a refused save: perhaps the event id was claimed before
                claim = self.find_claim(request.access_id)
                if claim is not None:
                    return self._answer_again(record, claim, request, now)
            answer = self._read(record, request, now)
            self.save(record, EventIdClaim.claim(request.access_id, request.nhs_number,
                                                 request.author))
            if answer is None:
                raise NoRecordFoundError(f"No Records Found for NHS number {request.nhs_number}")
            return answer

        return self._retrying(attempt, record_id(request.nhs_number))

    def _check_query(self, request: QueryRequest, now: datetime) -> None:
        """Refuse, and record the refusal, where a value lies outside its window."""
        try:
            self.limits.check_nhs_number(request.nhs_number)
            self.limits.access.check(request.accessed_at, now)
        except (InvalidNhsNumberError, OutOfRangeError) as error:
            refusal = Refusal(RefusalReason.OUT_OF_RANGE, str(error), now, request.access_id,
                              request.author)
            self.record_refusal(request.nhs_number.value, refusal, request.provenance)
            raise QueryRefusedError(refusal.reason.value, str(error)) from None

    @staticmethod
    def _read(record: ChildProtectionRecord, request: QueryRequest, now: datetime
              ) -> QueryAnswer | None:
        """Record the read on the record; the answer, or None for "no records"."""
        access = request.access
        if not record.is_active or not record.current_plans(now):
            record.answer_no_records(access, request.provenance)
            return None
        if request.silent:
            record.read_silently(access, request.provenance)
            return answer_from(record, now, None)
        record.record_access(access, request.provenance)
        return answer_from(record, now, access)

    def _answer_again(self, record: ChildProtectionRecord, claim: EventIdClaim,
                      request: QueryRequest, now: datetime) -> QueryAnswer:
        """A query whose event id was claimed: the same query resent is answered again;
        any other use of the id is refused, and the refusal recorded."""
        if not claim.belongs_to(request.nhs_number, request.author):
            detail = (f"event id {request.access_id} was already used for another query "
                      "(another NHS number, author or organisation)")
            record.refuse(Refusal(RefusalReason.EVENT_ID_REUSED, detail, now,
                                  request.access_id, request.author), request.provenance)
            self.save(record)
            raise QueryRefusedError(RefusalReason.EVENT_ID_REUSED.value, detail)
        if not record.is_active or not record.current_plans(now):
            raise NoRecordFoundError(f"No Records Found for NHS number {request.nhs_number}")
        return answer_from(record, now, None if request.silent else request.access)

    def record_refusal(self, nhs_number_sent: str | None, refusal: Refusal,
                       provenance: Provenance) -> None:
        """Record a refused query: on the record of the NHS number it named, where that is a
        number CP-IS takes; otherwise on its own."""
        number = self._number_taken(nhs_number_sent)
        if number is None:
            self.save(UnnumberedRefusal.record(nhs_number_sent, refusal, provenance))
            return

        def attempt() -> None:
            record = self.find_record(number) or ChildProtectionRecord(nhs_number=number)
            record.refuse(refusal, provenance)
            self.save(record)

        self._retrying(attempt, record_id(number))

    def _number_taken(self, sent: str | None) -> NhsNumber | None:
        if sent is None:
            return None
        try:
            number = NhsNumber.parse(sent)
            self.limits.check_nhs_number(number)
        except InvalidNhsNumberError:
            return None
        return number

    def find_claim(self, event_id: str) -> EventIdClaim | None:
        try:
            claim: object = self.repository.get(claim_id(event_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(claim, EventIdClaim)
        return claim

    # -- local-authority uploads --------------------------------------------------------

    def process_upload(self, upload: LaUpload, mesh_message_id: str, pds: PdsPort
                       ) -> UploadOutcome:
        """Check and apply an upload file once; the same MESH message again changes nothing.

        The ledger entry and every record's plan events are saved in one transaction. With
        a shard runner, a file of `shard_from` records or more is prepared in shards first
        (domain/upload_shards.py); the outcome and the events are those of applying each
        record in turn.
        """

        def attempt() -> UploadOutcome:
            ledger = self.upload_ledger(upload.local_authority.ods_code)
            done = self._recorded_outcome(ledger, mesh_message_id)
            if done is not None:
                return done
            applied = AppliedRecords()
            outcome = ledger.check_file(upload) or _staged("records", lambda: (
                self._apply_records(upload, mesh_message_id, pds, applied)))
            ledger.record_upload(mesh_message_id, outcome)
            _staged("storage", lambda: self._save_upload(ledger, applied))
            return outcome

        return self._retrying(attempt)

    def _apply_records(self, upload: LaUpload, mesh_message_id: str, pds: PdsPort,
                       applied: AppliedRecords) -> UploadOutcome:
        known = self.known_records()
        provenance = Provenance(Channel.MESH, mesh_message_id, file_sequence=upload.sequence)
        now = self.clock()
        prepared = None
        if self.shards is not None and len(upload.records) >= self.shard_from:
            work = ShardWork(upload, pds, provenance, now, self.mapper, self.limits)
            prepared = Prepared(self.shards.run(work), known)
        index = 0

        def load(nhs_number: NhsNumber) -> ChildProtectionRecord:
            if nhs_number not in applied.records:
                found = self.readable_record(nhs_number) if record_id(nhs_number) in known \
                    else None
                applied.records[nhs_number] = found or ChildProtectionRecord(
                    nhs_number=nhs_number)
                applied.first_use[nhs_number] = index
            return applied.records[nhs_number]

        applier = UploadApplier(upload, pds, provenance, load, now, self.limits)
        results: list[RecordOutcome] = []
        try:
            for index in range(1, len(upload.records) + 1):
                taken = prepared.take(index) if prepared is not None else None
                if taken is None:
                    results.append(applier.apply(upload.records[index - 1]))
                else:
                    results.append(taken[0])
                    if taken[1]:
                        applied.brought[index] = taken[1]
        except PdsUnavailableError as error:
            applied.clear()
            return UploadOutcome(upload.sequence, FileCode.CPF05, (), str(error))
        return UploadOutcome(upload.sequence, file_code_for(tuple(results)), tuple(results))

    def _save_upload(self, ledger: UploadLedger, applied: AppliedRecords) -> None:
        """Each record's events in the order the file first touched it, then the ledger's,
        in one transaction. The ledger's are put in their stored form last, as the recorder
        reaches them (ThenMapped): a 10,000-record File's outcome event takes ~15 ms to
        encode, in which PostgreSQL takes in the 20,000 rows already sent (3-5% of the
        upload, measured)."""
        to_stored = self.mapper.to_stored_event
        units = [(applied.first_use[n], [to_stored(e) for e in record.collect_events()])
                 for n, record in applied.records.items()]
        units += applied.brought.items()
        units.sort(key=lambda unit: unit[0])
        records = [event for _, events in units for event in events]
        ledger_events = ledger.collect_events()
        self.recorder.insert_events(ThenMapped(records, ledger_events, to_stored))
        self._snapshot_if_due(ledger, ledger_events)

    def _snapshot_if_due(self, ledger: UploadLedger, events: Sequence[Any]) -> None:
        """The snapshot step of `save`, for the ledger an upload stored itself."""
        saved: ProcessingEvent[UUID] = ProcessingEvent()
        saved.events.extend(events)
        saved.aggregates[ledger.id] = ledger
        self._take_snapshots(saved)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A snapshot of each saved aggregate whose new events reached a multiple of its
        interval, taken from the aggregate as saved. (The library's reads it again from the
        store - the last snapshot and up to an interval's events, each UploadProcessed a whole
        file's outcomes: ~0.1 s for 2,000-record files, in every twentieth upload.)"""
        if self.snapshots is None:
            return
        for aggregate in processing_event.aggregates.values():
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is not None and any(
                    event.originator_id == aggregate.id
                    and event.originator_version % interval == 0
                    for event in processing_event.events):
                snapshot_class = getattr(type(aggregate), "Snapshot", Snapshot)
                self.snapshots.put([snapshot_class.take(aggregate)])

    def known_records(self) -> set[UUID]:
        """Ids of every record opened so far, from the notification log (kept up to date).

        Lets a large upload skip a lookup per new NHS number. A record opened by another
        process meanwhile makes the save conflict, and the upload is retried afresh.
        """
        while True:
            page = self.recorder.select_notifications(
                start=self._known_up_to + 1, limit=10_000,
                topics=[ChildProtectionRecord.Opened.TOPIC])
            if not page:
                return self._known_records
            self._known_records.update(UUID(str(n.originator_id)) for n in page)
            self._known_up_to = page[-1].id

    def record_file_response(self, ods_code: str, mesh_message_id: str,
                             response_message_id: str) -> None:
        def attempt() -> None:
            ledger = self.upload_ledger(ods_code)
            ledger.record_response(mesh_message_id, response_message_id)
            self.save(ledger)

        self._retrying(attempt)

    def upload_outcome(self, ods_code: str, mesh_message_id: str) -> UploadOutcome | None:
        """The outcome recorded for the LA's upload in that MESH message, if processed."""
        return self._recorded_outcome(self.upload_ledger(ods_code), mesh_message_id)

    def _recorded_outcome(self, ledger: UploadLedger, mesh_message_id: str
                          ) -> UploadOutcome | None:
        version = ledger.processed.get(mesh_message_id)
        if version is None:
            return None
        for stored in self.repository.event_store.get(ledger.id, gt=version - 1, lte=version):
            if isinstance(stored, UploadLedger.UploadProcessed):
                return stored.outcome
        raise AssertionError(f"ledger {ledger.ods_code} v{version} is not an UploadProcessed")

    def upload_ledger(self, ods_code: str) -> UploadLedger:
        try:
            ledger: object = self.repository.get(ledger_id(ods_code))
        except AggregateNotFoundError:
            return UploadLedger(ods_code=ods_code)
        assert isinstance(ledger, UploadLedger)
        return ledger

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
        one `record` keeps the other writers out meanwhile (domain/contention.py)."""
        for number in range(1, SAVE_ATTEMPTS + 1):
            turn = self.exclusive_writes.holding(record) if record is not None \
                and number > 1 else nullcontext()
            try:
                with turn:
                    return attempt()
            except RecordConflictError:
                if number == SAVE_ATTEMPTS:
                    raise
                if number > 1:  # the first retry at once: fast-forwarding the record is cheap
                    time.sleep(random.uniform(0, 0.001 * 2 ** min(number, 6)))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover



def _staged(stage: str, step: Callable[[], T]) -> T:
    """`step`, any failure of CP-IS's own (not a domain rule, not a lost race, not the
    store being away) raised as UploadFailedError naming `stage`."""
    try:
        return step()
    except (DomainError, RecordConflictError, *UNAVAILABLE):
        raise
    except Exception as error:
        raise UploadFailedError(stage, f"{type(error).__name__}: {error}") from error
