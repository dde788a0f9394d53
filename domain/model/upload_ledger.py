"""Upload ledger: one event-sourced aggregate per local authority, recording each upload
file it sent (by MESH message id and file sequence) and the FileResponse CP-IS returned.

It makes uploads idempotent: the same MESH message again returns the outcome already
recorded and changes nothing. The ledger holds, per message, only the version of its
`UploadProcessed` event; the outcome (every record's) stays in that event and is read from
the store when a message comes again (CpisApplication.upload_outcome). Held in the ledger,
outcomes grew without end in a long-running poller's cache: ~220 bytes a record, every file
an LA ever sent.

The application snapshots a ledger every SNAPSHOT_EVERY events (CpisApplication), so a
process loading it reads the last snapshot and at most that many events after it - not
every outcome the LA was ever sent.
"""

from __future__ import annotations

from uuid import NAMESPACE_OID, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as AggregateSnapshot
from eventsourcing.utils import register_topic

from domain.model.copying import CopiedByContainers
from domain.model.uploads import MAX_RECORDS, FileCode, LaUpload, UploadOutcome, rejected_file

LEDGER_NAMESPACE = uuid5(NAMESPACE_OID, "2.16.840.1.113883.2.1.3.2.4.19.1")  # ODS org OID
ACCEPTED = (FileCode.CPF02, FileCode.CPF03, FileCode.CPF04)
SNAPSHOT_EVERY = 20  # ledger events (one per file, one per FileResponse): ten files


def ledger_id(ods_code: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, ods_code)


class UploadLedger(CopiedByContainers, Aggregate):
    TOPIC = "cpis:UploadLedger"

    class Event(Aggregate.Event):
        TOPIC = "cpis:UploadLedger.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "cpis:UploadLedger.Created"

    class Opened(Created):
        TOPIC = "cpis:UploadLedgerOpened.v1"
        ods_code: str

    class UploadProcessed(Event):
        TOPIC = "cpis:UploadProcessed.v1"
        ods_code: str
        mesh_message_id: str
        outcome: UploadOutcome

    class FileResponseSent(Event):
        TOPIC = "cpis:FileResponseSent.v1"
        ods_code: str
        mesh_message_id: str
        response_message_id: str

    class Snapshot(AggregateSnapshot):
        """The ledger's state at a version (its message versions and responses, stored as
        JSON in the snapshots table: never published)."""

        TOPIC = "cpis:UploadLedgerSnapshot.v1"

    @staticmethod
    def create_id(ods_code: str) -> UUID:
        return ledger_id(ods_code)

    @event(Opened)
    def __init__(self, ods_code: str) -> None:
        self.ods_code = ods_code
        self.last_accepted_sequence = 0
        self.processed: dict[str, int] = {}  # MESH message id -> its UploadProcessed version
        self.responses: dict[str, str] = {}

    def has_processed(self, mesh_message_id: str) -> bool:
        return mesh_message_id in self.processed

    def check_file(self, upload: LaUpload) -> UploadOutcome | None:
        """A CPF01 outcome where the file as a whole is refused, else None."""
        if upload.sequence <= self.last_accepted_sequence:
            return rejected_file(upload.sequence, (
                f"file sequence number {upload.sequence} is not greater than the last "
                f"accepted {self.last_accepted_sequence}"))
        if len(upload.records) > MAX_RECORDS:
            return rejected_file(upload.sequence, (
                f"the file holds {len(upload.records)} records; CP-IS takes at most "
                f"{MAX_RECORDS:,} a file: send them in several files"))
        if upload.declared_count != len(upload.records):
            return rejected_file(upload.sequence, (
                f"transmissionQuantity is {upload.declared_count} but the file holds "
                f"{len(upload.records)} records"))
        return None

    def record_upload(self, mesh_message_id: str, outcome: UploadOutcome) -> None:
        if self.has_processed(mesh_message_id):
            return
        self._upload_processed(ods_code=self.ods_code, mesh_message_id=mesh_message_id,
                               outcome=outcome)

    @event(UploadProcessed)
    def _upload_processed(self, ods_code: str, mesh_message_id: str,
                          outcome: UploadOutcome) -> None:
        self.processed[mesh_message_id] = self.version + 1  # this event's version
        if outcome.file_code in ACCEPTED:
            self.last_accepted_sequence = max(self.last_accepted_sequence, outcome.sequence)

    def record_response(self, mesh_message_id: str, response_message_id: str) -> None:
        if mesh_message_id in self.responses:
            return
        self._file_response_sent(ods_code=self.ods_code, mesh_message_id=mesh_message_id,
                                 response_message_id=response_message_id)

    @event(FileResponseSent)
    def _file_response_sent(self, ods_code: str, mesh_message_id: str,
                            response_message_id: str) -> None:
        self.responses[mesh_message_id] = response_message_id


# a snapshot class is not registered by the aggregate's metaclass as its events are: without
# this, a process that has taken none could not resolve a stored snapshot's pinned topic
register_topic(UploadLedger.Snapshot.TOPIC, UploadLedger.Snapshot)
