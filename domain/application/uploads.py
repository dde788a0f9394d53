"""A local authority's upload file, applied once.

The file checks (its upload ledger: sequence, size, record count), then each record in
turn (upload_records.py), then every record's events and the ledger's entry saved in one
transaction. The same MESH message again finds its outcome in the ledger and changes
nothing. A large file may be prepared first (`RecordPreparation`, a port: the streams
layer prepares its records in several processes); the outcome and the events are those of
applying each record in turn.

A failure of CP-IS's own while applying or storing (not a record's content, not a lost
race, not the store being away) is raised as UploadFailedError naming its stage, so the
MESH poller can answer and quarantine the file and go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import RecordConflictError, StoredEvent

from domain.application.pds import PdsPort, PdsUnavailableError
from domain.application.store import UNAVAILABLE, RecordStore
from domain.application.upload_records import UploadApplier
from domain.model.errors import DomainError
from domain.model.limits import Limits
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.upload_ledger import UploadLedger
from domain.model.uploads import FileCode, LaUpload, RecordOutcome, UploadOutcome, file_code_for

T = TypeVar("T")


class UploadFailedError(RuntimeError):
    """An upload that failed for a reason of CP-IS's own, not its content: `stage` says
    where (records: applying them; storage: saving them), `detail` what happened."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


class PreparedRecords(Protocol):
    def take(self, index: int) -> tuple[RecordOutcome, list[StoredEvent]] | None:
        """The record's outcome and the stored events it brings, where it holds as
        prepared; None where the record must be applied in turn."""


class RecordPreparation(Protocol):
    def prepare(self, upload: LaUpload, pds: PdsPort, provenance: Provenance, now: datetime,
                limits: Limits, known: set[UUID]) -> PreparedRecords | None:
        """The file's records prepared ahead, or None where this file is not worth it.
        `known`: the ids of every record that exists."""


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


class Uploads(RecordStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.preparation: RecordPreparation | None = None
        self._known_records: set[UUID] = set()
        self._known_up_to = 0

    def prepare_with(self, preparation: RecordPreparation) -> None:
        self.preparation = preparation

    def process_upload(self, upload: LaUpload, mesh_message_id: str, pds: PdsPort
                       ) -> UploadOutcome:
        """Check and apply an upload file once; the same MESH message again changes
        nothing."""

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
        prepared = self.preparation.prepare(upload, pds, provenance, now, self.limits, known) \
            if self.preparation is not None else None
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
                    continue
                results.append(taken[0])
                if taken[1]:
                    applied.brought[index] = taken[1]
        except PdsUnavailableError as error:
            applied.clear()
            return UploadOutcome(upload.sequence, FileCode.CPF05, (), str(error))
        return UploadOutcome(upload.sequence, file_code_for(tuple(results)), tuple(results))

    def _save_upload(self, ledger: UploadLedger, applied: AppliedRecords) -> None:
        """Each record's events in the order the file first touched it, then the ledger's,
        in one transaction."""
        to_stored = self.mapper.to_stored_event
        changed = [(record, applied.first_use[n], [to_stored(e) for e in record.collect_events()])
                   for n, record in applied.records.items()]
        units = [(first, events) for _, first, events in changed]
        units += applied.brought.items()
        units.sort(key=lambda unit: unit[0])
        ledger_events = [to_stored(e) for e in ledger.collect_events()]
        self.recorder.insert_events([e for _, events in units for e in events]
                                    + ledger_events)
        for aggregate, new_events in [(ledger, ledger_events),
                                      *((record, events) for record, _, events in changed)]:
            self.snapshot_if_due(aggregate, len(new_events))

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


def _staged(stage: str, step: Callable[[], T]) -> T:
    """`step`, any failure of CP-IS's own (not a domain rule, not a lost race, not the
    store being away) raised as UploadFailedError naming `stage`."""
    try:
        return step()
    except (DomainError, RecordConflictError, *UNAVAILABLE):
        raise
    except Exception as error:
        raise UploadFailedError(stage, f"{type(error).__name__}: {error}") from error
