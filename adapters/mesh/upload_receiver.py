"""Inbound: poll the CP-IS inbox, apply each upload, reply with a FileResponse, acknowledge.

Per message: 1. download it (mesh-client joins chunks); 2. parse and check the file;
3. apply it - its events are durably stored (or the stored outcome is found again, for a
redelivered message); 4. send the FileResponse unless the ledger says it was sent, and
record that; 5. only then acknowledge the message. A crash anywhere before 5 means MESH
delivers the message again and the steps run again without changing anything stored.
Error reports (REPORT) mark the notification they concern undelivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from adapters.hl7v3.elements import to_bytes
from adapters.mesh.file_response import file_response, unknown_local_authority
from adapters.mesh.la_file import FileRejectedError, parse_la_file
from adapters.mesh.mailbox import InboundMessage, Mailbox
from adapters.mesh.workflows import LaMailboxes, Workflows
from domain.local_authority import LocalAuthority
from domain.pds import PdsPort
from domain.upload_ledger import UploadLedger
from domain.uploads import LaUpload, UploadOutcome, rejected_file

log = logging.getLogger(__name__)


class TakesUploads(Protocol):
    def process_upload(self, upload: LaUpload, mesh_message_id: str, pds: PdsPort
                       ) -> UploadOutcome: ...

    def record_file_response(self, ods_code: str, mesh_message_id: str,
                             response_message_id: str) -> None: ...

    def upload_ledger(self, ods_code: str) -> UploadLedger: ...


class TakesReports(Protocol):
    def mark_undelivered(self, mesh_message_id: str, reason: str) -> bool: ...


@dataclass
class PollReport:
    uploads: int = 0
    records: int = 0
    rejected_files: int = 0
    reports: int = 0
    by_code: dict[str, int] = field(default_factory=dict)


class UploadReceiver:
    def __init__(self, app: TakesUploads, pds: PdsPort, mailbox: Mailbox,
                 la_mailboxes: LaMailboxes, workflows: Workflows,
                 clock: Callable[[], datetime], reports: TakesReports | None = None) -> None:
        self.app = app
        self.pds = pds
        self.mailbox = mailbox
        self.la_mailboxes = la_mailboxes
        self.workflows = workflows
        self.clock = clock
        self.reports = reports

    def poll_once(self) -> PollReport:
        report = PollReport()
        for message_id in self.mailbox.inbox():
            message = self.mailbox.retrieve(message_id)
            if message.message_type == "REPORT":
                self._error_report(message, report)
            else:
                self._upload(message, report)
            self.mailbox.acknowledge(message_id)
        return report

    def _error_report(self, message: InboundMessage, report: PollReport) -> None:
        report.reports += 1
        reason = f"MESH error {message.status_code}: {message.status_description}"
        linked = message.linked_message_id or message.local_id or ""
        if self.reports is not None and self.reports.mark_undelivered(linked, reason):
            log.warning("notification in MESH message %s undelivered: %s", linked, reason)
        else:
            log.warning("MESH error report for message %s: %s", linked, reason)

    def _upload(self, message: InboundMessage, report: PollReport) -> None:
        sender_ods = self.la_mailboxes.ods_of(message.sender)
        try:
            upload = parse_la_file(message.data)
        except FileRejectedError as error:
            log.warning("upload %s from %s refused: %s", message.message_id, message.sender,
                        error.detail)
            report.rejected_files += 1
            la = unknown_local_authority(sender_ods or "UNKNOWN")
            self._reply(message, rejected_file(error.sequence, error.detail), la)
            return
        if sender_ods != upload.local_authority.ods_code:
            report.rejected_files += 1
            detail = (f"mailbox {message.sender} does not belong to local authority "
                      f"{upload.local_authority.ods_code}")
            self._reply(message, rejected_file(upload.sequence, detail), upload.local_authority)
            return
        outcome = self.app.process_upload(upload, message.message_id, self.pds)
        self._count(outcome, report)
        ledger = self.app.upload_ledger(upload.local_authority.ods_code)
        if message.message_id not in ledger.responses:
            response_id = self._reply(message, outcome, upload.local_authority)
            self.app.record_file_response(upload.local_authority.ods_code, message.message_id,
                                          response_id)

    def _count(self, outcome: UploadOutcome, report: PollReport) -> None:
        report.uploads += 1
        report.records += len(outcome.records)
        for key in [outcome.file_code.name, *(r.code.name for r in outcome.records)]:
            report.by_code[key] = report.by_code.get(key, 0) + 1
        log.info("upload file #%d: %s, %d records (%d uploaded, %d rejected)",
                 outcome.sequence, outcome.file_code.name, len(outcome.records),
                 outcome.successful, outcome.failed)

    def _reply(self, message: InboundMessage, outcome: UploadOutcome,
               la: LocalAuthority) -> str:
        body = to_bytes(file_response(outcome, la, self.clock()))
        return self.mailbox.send(
            message.sender or "", body, self.workflows.upload_ack, str(outcome.sequence),
            f"CP-IS FileResponse {outcome.file_code.name} for file {outcome.sequence}",
            f"FileResponse_{outcome.sequence}.xml")
