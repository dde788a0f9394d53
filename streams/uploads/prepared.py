"""A large upload's records prepared in shards, each of which may run in a process of its own
(the application's RecordPreparation port, domain/application/uploads.py).

Reading, checking and applying a record to a new record, and putting its events in their
stored form, depend on nothing but the record itself, until it meets a record that already
exists or another record of the same file for the same NHS number. So a shard applies its
records as if every NHS number were new, and says which record each of them loaded (its
claim). The application then takes a prepared outcome where that holds: no claim (the record
failed before it was loaded), or a claim on a record that did not exist and that no other
record of the file claims; it applies every other record itself, in file order, as if there
had been no shards. Either way the outcome is the one applying every record in turn gives.
A shard that cannot ask PDS stops there, and the application applies the rest itself.

How the shards run is a `ShardRunner`: in turn in this process (InTurn, for tests), or each
in a process of its own (forked.py). Worth it from SHARD_FROM records: below that, the
processes cost more than they save.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.application.pds import PdsPort, PdsUnavailableError
from domain.application.upload_records import UploadApplier
from domain.model.limits import Limits
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Provenance
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.uploads import LaUpload, RecordOutcome

R = TypeVar("R")
SHARD_FROM = 2_000  # records in a file from which shards pay for the processes they start


class ShardRunner(Protocol):
    """Runs work(shard, shards) for every shard of its choosing and returns the results in
    shard order."""

    def run(self, work: Callable[[int, int], R]) -> list[R]: ...


class InTurn:
    """Every shard in this process, one after another (for tests: the merge, without
    processes)."""

    def __init__(self, shards: int = 2) -> None:
        self.shards = shards

    def run(self, work: Callable[[int, int], R]) -> list[R]:
        return [work(shard, self.shards) for shard in range(self.shards)]


@dataclass
class PreparedShard:
    """One shard's records applied as if every NHS number were new (picklable)."""

    outcomes: dict[int, RecordOutcome] = field(default_factory=dict)  # by record index
    claims: dict[int, UUID] = field(default_factory=dict)  # record index -> record it loaded
    stored: dict[UUID, list[StoredEvent]] = field(default_factory=dict)  # by record id


SHRINK = 0.8  # each shard this much the size of the one before


def shard_indexes(count: int, shard: int, shards: int) -> range:
    """The 1-based record indexes of `shard` of `shards`: contiguous, in order, each shard
    SHRINK times the size of the one before, so that processes taking the next shard left
    finish close together (the last shards, taken last, are the shortest)."""
    return range(_records_before(count, shard, shards) + 1,
                 _records_before(count, shard + 1, shards) + 1)


def _records_before(count: int, shard: int, shards: int) -> int:
    return round(count * (1 - SHRINK ** shard) / (1 - SHRINK ** shards))


@dataclass(frozen=True)
class ShardWork:
    """What every shard needs to prepare its records (inherited by a forked process)."""

    upload: LaUpload
    pds: PdsPort
    provenance: Provenance
    now: datetime
    mapper: Mapper[UUID]
    limits: Limits

    def __call__(self, shard: int, shards: int) -> PreparedShard:
        prepared = PreparedShard()
        opened: dict[NhsNumber, ChildProtectionRecord] = {}
        index = 0

        def open_new(nhs_number: NhsNumber) -> ChildProtectionRecord:
            prepared.claims[index] = record_id(nhs_number)
            if nhs_number not in opened:
                opened[nhs_number] = ChildProtectionRecord(nhs_number=nhs_number)
            return opened[nhs_number]

        applier = UploadApplier(self.upload, self.pds, self.provenance, open_new, self.now,
                                self.limits)
        indexes = shard_indexes(len(self.upload.records), shard, shards)
        records = self.upload.records[indexes.start - 1:indexes.stop - 1]
        try:
            for index, sent in zip(indexes, records, strict=True):
                prepared.outcomes[index] = applier.apply(sent)
        except PdsUnavailableError:
            pass  # the rest of the shard is left to the application, which asks PDS again
        for record in opened.values():
            prepared.stored[record.id] = [self.mapper.to_stored_event(e)
                                          for e in record.collect_events()]
        return prepared


@dataclass
class Prepared:
    """Every shard's preparation, and which of it may be taken as it is."""

    shards: Sequence[PreparedShard]
    known: set[UUID]

    def __post_init__(self) -> None:
        self.claimed = Counter(rid for shard in self.shards for rid in shard.claims.values())
        self.shard_of = {index: shard for shard in self.shards for index in shard.outcomes}

    def take(self, index: int) -> tuple[RecordOutcome, list[StoredEvent]] | None:
        """The record's prepared outcome and the stored events it brings (none for a record
        that failed before it was loaded), or None where the record must be applied afresh."""
        shard = self.shard_of.get(index)
        if shard is None:
            return None
        claim = shard.claims.get(index)
        if claim is None:
            return shard.outcomes[index], []
        if claim in self.known or self.claimed[claim] > 1:
            return None
        return shard.outcomes[index], shard.stored[claim]


class ShardedPreparation:
    """The application's RecordPreparation: a file of `from_records` or more prepared in
    shards by `runner`, its events put in their stored form by `mapper`."""

    def __init__(self, runner: ShardRunner, mapper: Mapper[UUID],
                 from_records: int = SHARD_FROM) -> None:
        self.runner = runner
        self.mapper = mapper
        self.from_records = from_records

    def prepare(self, upload: LaUpload, pds: PdsPort, provenance: Provenance, now: datetime,
                limits: Limits, known: set[UUID]) -> Prepared | None:
        if len(upload.records) < self.from_records:
            return None
        return Prepared(self.runner.run(ShardWork(upload, pds, provenance, now, self.mapper,
                                                  limits)), known)
