"""An LA's uploads as the event store holds them: each file's file code, its records' codes
and the FileResponse sent for it (the ledger's UploadProcessed and FileResponseSent events).
For `cpis status` (the last upload per LA) and the operator console."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from domain.application.app import CpisApplication
from domain.application.audit import stored_events
from domain.model.upload_ledger import UploadLedger, ledger_id


@dataclass
class UploadEntry:
    mesh_message_id: str
    processed_at: datetime
    sequence: int
    file_code: str  # CPF01-06
    file_meaning: str
    records: int
    succeeded: int
    record_codes: dict[str, int]
    detail: str
    response_message_id: str | None = None
    record_details: list[tuple[int, str, str, str]] = field(default_factory=list)


def uploads_of(app: CpisApplication, ods_code: str) -> list[UploadEntry]:
    """Every upload the LA sent that CP-IS processed, oldest first (none for an LA that never
    uploaded)."""
    entries: dict[str, UploadEntry] = {}
    for event in stored_events(app, ledger_id(ods_code.strip().upper())):
        if isinstance(event, UploadLedger.UploadProcessed):
            outcome = event.outcome
            entries[event.mesh_message_id] = UploadEntry(
                event.mesh_message_id, event.timestamp, outcome.sequence,
                outcome.file_code.name, outcome.file_code.value,
                len(outcome.records), outcome.successful,
                dict(Counter(r.code.name for r in outcome.records)), outcome.detail,
                record_details=[(r.index, r.code.name, r.location, r.detail)
                                for r in outcome.records])
        elif (isinstance(event, UploadLedger.FileResponseSent)
              and event.mesh_message_id in entries):
            entries[event.mesh_message_id].response_message_id = event.response_message_id
    return list(entries.values())


def last_upload(app: CpisApplication, ods_code: str) -> UploadEntry | None:
    uploads = uploads_of(app, ods_code)
    return uploads[-1] if uploads else None
