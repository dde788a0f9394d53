"""Outbound: send each pending LA notification to the LA's MESH mailbox.

A notification is marked sent, with its MESH message id, only after MESH accepted it; a
failure is retried later with back-off. A crash between MESH accepting and the mark means
one resend on restart, carrying the same notification id (at least once, never lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mesh_client import MeshError
from requests import RequestException

from adapters.hl7v3.elements import to_bytes
from adapters.mesh.mailbox import Mailbox
from adapters.mesh.notification_writer import NotificationContext, notification_message
from adapters.mesh.workflows import LaMailboxes, Workflows
from adapters.views.outbox import DueNotification, NotificationOutbox
from domain.model.notifications import NotificationDue, NotificationKind

log = logging.getLogger(__name__)
BATCH = 500  # notifications read from the outbox at a time
RETENTION = timedelta(days=30)  # a sent notification's row stays in the view this long
PER_POLL = 2_000  # notifications tried in one poll at most


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    forgotten: int = 0  # sent rows past their retention, deleted from the view


class NotificationSender:
    def __init__(self, outbox: NotificationOutbox, mailbox: Mailbox, la_mailboxes: LaMailboxes,
                 workflows: Workflows, clock: Callable[[], datetime],
                 retention: timedelta = RETENTION) -> None:
        self.outbox = outbox
        self.retention = retention
        self.mailbox = mailbox
        self.la_mailboxes = la_mailboxes
        self.workflows = workflows
        self.clock = clock

    def send_due(self, limit: int = BATCH, most: int = PER_POLL) -> SendReport:
        """Send the due notifications, `limit` at a time, until none is left or `most` have
        been tried (the rest wait for the next poll, so the inbox is not kept waiting). One
        batch a poll, as before, let a busy day's accesses queue: 100 a minute at the
        default poll."""
        report = SendReport()
        while (tried := report.sent + report.failed) < most:
            batch = self.outbox.due(self.clock(), min(limit, most - tried))
            for due in batch.notifications:
                if self._send(due):
                    report.sent += 1
                else:
                    report.failed += 1
            self.outbox.scanned(batch.scanned)  # each now sent or failed: how far done
            if len(batch.notifications) < limit:
                break
        report.forgotten = self.outbox.forget_delivered(self.clock() - self.retention)
        return report

    def _send(self, due: DueNotification) -> bool:
        n, attempts = due.notification, due.attempts + 1
        recipient = self.la_mailboxes.mailbox_of(n.ods_code)
        if recipient is None:
            self.outbox.mark_failed(n.notification_id, f"no MESH mailbox configured for local "
                                    f"authority {n.ods_code}", attempts, self.clock())
            return False
        context = NotificationContext(due.la_name, due.local_id, due.source_file)
        body = to_bytes(notification_message(n, context, self.clock()))
        access = n.kind is NotificationKind.ACCESS
        workflow = self.workflows.access_notification if access \
            else self.workflows.inactive_notification
        try:
            mesh_id = self.mailbox.send(
                recipient, body, workflow, n.notification_id,
                f"CP-IS {'access' if access else 'inactive NHS number'} notification",
                f"{'Access' if access else 'InactiveNHSNumber'}Notification.xml")
        except (MeshError, RequestException) as error:
            log.warning("notification %s to %s not sent (attempt %d): %s", n.notification_id,
                        recipient, attempts, error, extra=_fields(n, recipient, attempts))
            self.outbox.mark_failed(n.notification_id, str(error), attempts, self.clock())
            return False
        self.outbox.mark_sent(n.notification_id, mesh_id, attempts)
        log.info("notification %s sent to %s as MESH message %s", n.notification_id,
                 recipient, mesh_id, extra=_fields(n, recipient, attempts)
                 | {"mesh_message_id": mesh_id})
        return True


def _fields(n: NotificationDue, recipient: str, attempts: int) -> dict[str, object]:
    """What ties a send's log line to its cause: the notification, the event that made it
    due (record and version), the local authority and its mailbox."""
    return {"notification_id": n.notification_id, "record_id": str(n.record_id),
            "record_version": n.version, "ods_code": n.ods_code, "mailbox": recipient,
            "attempt": attempts}
