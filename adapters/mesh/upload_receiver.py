"""Inbound: poll the CP-IS inbox, apply each upload, reply with a FileResponse, acknowledge.

Per message: 1. download it (mesh-client joins chunks); 2. read the File; 3. the file
checks; 4. apply its records and store the events (or find the stored outcome again, for a
redelivered message); 5. send the FileResponse unless the ledger says it was sent, and
record that; 6. only then acknowledge the message. A crash anywhere before 6 means MESH
delivers the message again and the steps run again without changing anything stored.

No message can hold up the ones after it. One that fails at any stage (download, read, file
checks, records, storage) is answered CPF01 with the reason, kept with its raw bytes in the
quarantine (adapters/mesh/quarantine.py), and acknowledged. Only the store or MESH being
away ends a round early, the message unacknowledged, to be taken again at the next poll.
Error reports (REPORT) mark the notification they concern undelivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import requests

from adapters.hl7v3.elements import to_bytes
from adapters.mesh.file_response import file_response, unknown_local_authority
from adapters.mesh.la_file import FileRejectedError, parse_la_file
from adapters.mesh.mailbox import InboundMessage, Mailbox
from adapters.mesh.quarantine import Quarantine
from adapters.mesh.workflows import LaMailboxes, Workflows
from domain.application.pds import PdsPort
from domain.application.store import UNAVAILABLE
from domain.application.uploads import UploadFailedError
from domain.model.local_authority import LocalAuthority
from domain.model.upload_ledger import UploadLedger
from domain.model.uploads import FileCode, LaUpload, UploadOutcome, rejected_file

log = logging.getLogger(__name__)
# MESH or the store away: the round ends, the message stays in the inbox for the next poll
UNREACHABLE = (*UNAVAILABLE, requests.ConnectionError, requests.Timeout)


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
    quarantined: int = 0
    reports: int = 0
    by_code: dict[str, int] = field(default_factory=dict)
    interrupted: str | None = None  # why the round ended early (MESH or the store away)


@dataclass(frozen=True)
class Refused:
    """A message CP-IS cannot take: where it failed and why."""

    stage: str
    reason: str
    sequence: int = -1
    local_authority: LocalAuthority | None = None


class UploadReceiver:
    def __init__(self, app: TakesUploads, pds: PdsPort, mailbox: Mailbox,
                 la_mailboxes: LaMailboxes, workflows: Workflows,
                 clock: Callable[[], datetime], quarantine: Quarantine,
                 reports: TakesReports | None = None) -> None:
        self.app = app
        self.pds = pds
        self.mailbox = mailbox
        self.la_mailboxes = la_mailboxes
        self.workflows = workflows
        self.clock = clock
        self.quarantine = quarantine
        self.reports = reports

    def poll_once(self) -> PollReport:
        report = PollReport()
        try:
            for message_id in self.mailbox.inbox():
                self._take(message_id, report)
        except UNREACHABLE as error:
            report.interrupted = f"{type(error).__name__}: {error}"
        return report

    def _take(self, message_id: str, report: PollReport) -> None:
        try:
            message = self.mailbox.retrieve(message_id)
        except UNREACHABLE:
            raise
        except Exception as error:
            self._quarantine(message_id, None, None, Refused("download", _why(error)), report)
        else:
            try:
                if message.message_type == "REPORT":
                    self._error_report(message, report)
                else:
                    self._upload(message, report)
            except UNREACHABLE:
                raise
            except Exception as error:  # the FileResponse could not be made or sent
                log.exception("upload %s: no FileResponse sent", message_id)
                self._quarantine(message_id, message.sender, message.data,
                                 Refused("reply", _why(error)), report)
        self.mailbox.acknowledge(message_id)

    def _error_report(self, message: InboundMessage, report: PollReport) -> None:
        report.reports += 1
        reason = f"MESH error {message.status_code}: {message.status_description}"
        linked = message.linked_message_id or message.local_id or ""
        if self.reports is not None and self.reports.mark_undelivered(linked, reason):
            log.warning("notification in MESH message %s undelivered: %s", linked, reason)
        else:
            log.warning("MESH error report for message %s: %s", linked, reason)

    def _upload(self, message: InboundMessage, report: PollReport) -> None:
        taken = self._checked(message)
        if isinstance(taken, Refused):
            self._refuse(message, taken, report)
            return
        try:
            outcome = self.app.process_upload(taken, message.message_id, self.pds)
        except UploadFailedError as error:
            log.exception("upload %s failed at %s", message.message_id, error.stage)
            self._refuse(message, Refused(error.stage, error.detail, taken.sequence,
                                          taken.local_authority), report)
            return
        self._count(outcome, report, message.message_id)
        if outcome.file_code is FileCode.CPF01:
            self._quarantine(message.message_id, message.sender, message.data,
                             Refused("file checks", outcome.detail), report)
        ledger = self.app.upload_ledger(taken.local_authority.ods_code)
        if message.message_id not in ledger.responses:
            response_id = self._reply(message, outcome, taken.local_authority)
            self.app.record_file_response(taken.local_authority.ods_code, message.message_id,
                                          response_id)

    def _checked(self, message: InboundMessage) -> LaUpload | Refused:
        """The upload read from the message, or why it cannot be taken."""
        sender_ods = self.la_mailboxes.ods_of(message.sender)
        try:
            upload = parse_la_file(message.data)
        except FileRejectedError as error:
            return Refused("read", error.detail, error.sequence)
        except Exception as error:
            return Refused("read", _why(error))
        if sender_ods != upload.local_authority.ods_code:
            return Refused("file checks", f"mailbox {message.sender} does not belong to local "
                           f"authority {upload.local_authority.ods_code}", upload.sequence,
                           upload.local_authority)
        return upload

    def _refuse(self, message: InboundMessage, refused: Refused, report: PollReport) -> None:
        """Answer CPF01 with the reason, and keep the message in the quarantine."""
        report.rejected_files += 1
        log.warning("upload %s from %s refused at %s: %s", message.message_id, message.sender,
                    refused.stage, refused.reason, extra={
                        "mesh_message_id": message.message_id,
                        "file_sequence": refused.sequence, "stage": refused.stage})
        self._quarantine(message.message_id, message.sender, message.data, refused, report)
        la = refused.local_authority or unknown_local_authority(
            self.la_mailboxes.ods_of(message.sender) or "UNKNOWN")
        self._reply(message, rejected_file(refused.sequence, refused.reason), la)

    def _quarantine(self, message_id: str, sender: str | None, data: bytes | None,
                    refused: Refused, report: PollReport) -> None:
        report.quarantined += 1
        self.quarantine.keep(message_id, sender, refused.stage, refused.reason, data,
                             self.clock())

    def _count(self, outcome: UploadOutcome, report: PollReport, mesh_message_id: str) -> None:
        report.uploads += 1
        report.records += len(outcome.records)
        for key in [outcome.file_code.name, *(r.code.name for r in outcome.records)]:
            report.by_code[key] = report.by_code.get(key, 0) + 1
        log.info("upload file #%d: %s, %d records (%d uploaded, %d rejected)",
                 outcome.sequence, outcome.file_code.name, len(outcome.records),
                 outcome.successful, outcome.failed, extra={
                     "mesh_message_id": mesh_message_id, "file_sequence": outcome.sequence,
                     "file_code": outcome.file_code.name})

    def _reply(self, message: InboundMessage, outcome: UploadOutcome,
               la: LocalAuthority) -> str:
        body = to_bytes(file_response(outcome, la, self.clock()))
        return self.mailbox.send(
            message.sender or "", body, self.workflows.upload_ack, str(outcome.sequence),
            f"CP-IS FileResponse {outcome.file_code.name} for file {outcome.sequence}",
            f"FileResponse_{outcome.sequence}.xml")


def _why(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
