"""`cpis mesh`: the MESH poller. Each round: take every message in CP-IS's inbox (an LA
upload, or an error report about something CP-IS sent; adapters/mesh/upload_receiver.py),
then send the local-authority notifications that are due (adapters/mesh/
notification_sender.py); then wait CPIS_MESH_POLL_SECONDS, until stopped."""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
from eventsourcing.persistence import PersistenceError
from requests import RequestException

from adapters.mesh.mailbox import Mailbox
from adapters.mesh.notification_sender import NotificationSender
from adapters.mesh.upload_receiver import PollReport, UploadReceiver
from domain.application.store import UNAVAILABLE
from streams.bootstrap import (
    build_application,
    build_notification_sender,
    build_upload_receiver,
)
from streams.gc_tuning import fewer_collections
from streams.ops import checks, metrics
from streams.ops.endpoint import serve_operations
from streams.ops.retrying import StoppedWaitingError, until_up
from streams.settings import Settings
from streams.waiting import sleep_unless_stopped

log = logging.getLogger("cpis.mesh")


def run_mesh_poller(settings: Settings, stop: Callable[[], bool], once: bool = False,
                    metrics_port: int | None = None) -> None:
    mailbox = Mailbox(settings.require_mesh())
    app = build_application(settings)
    try:
        receiver = build_upload_receiver(settings, app, mailbox)
        sender = build_notification_sender(settings, mailbox)
        sender.outbox.setup()
        if metrics_port is not None:
            serve_operations(settings.metrics_host, metrics_port, {
                "event store": checks.event_store(app),
                "views": checks.postgres(settings.postgres.conninfo()),
                "mesh": checks.http(f"{settings.require_mesh().url}/health")})
        while not stop():
            if once:
                poll_round(receiver, sender, once=True)
                break
            try:
                until_up("MESH or a store", lambda: poll_round(receiver, sender), AWAY, stop)
            except StoppedWaitingError:
                break
            sleep_unless_stopped(settings.mesh_poll_seconds, stop)
    finally:
        mailbox.close()
        app.close()


class PollInterruptedError(Exception):
    """MESH or the event store went away mid-round: the rest waits in the inbox."""


# a round that meets one of these is tried again soon (jittered, capped back-off), not after
# a whole poll interval, so the poller is back within seconds of its dependency
AWAY = (PollInterruptedError, *UNAVAILABLE, PersistenceError, psycopg.OperationalError,
        RequestException)


def poll_round(receiver: UploadReceiver, sender: NotificationSender, once: bool = False
               ) -> None:
    """Take every upload in the inbox, then send the notifications that are due."""
    with fewer_collections():  # a large upload makes objects by the hundred thousand
        polled = receiver.poll_once()
    sent = sender.send_due()
    count(polled, sent.sent, sent.failed)
    log.info("mesh: %d uploads (%d records, %d files refused, %d quarantined, %d "
             "error reports) %s; notifications %d sent, %d failed", polled.uploads,
             polled.records, polled.rejected_files, polled.quarantined, polled.reports,
             polled.by_code or "", sent.sent, sent.failed)
    if polled.interrupted and not once:
        raise PollInterruptedError(polled.interrupted)
    if polled.interrupted:
        log.warning("MESH poll stopped: %s; the rest waits for the next poll",
                    polled.interrupted)


def count(polled: PollReport, sent: int, failed: int) -> None:
    """A poll's uploads, records, quarantined messages and sends, in the metrics."""
    for code, n in polled.by_code.items():
        if code.startswith("CPF"):
            metrics.UPLOADS.labels(code).inc(n)
        else:
            metrics.UPLOAD_RECORDS.labels(code).inc(n)
    if polled.rejected_files:  # refused before reading: each answered CPF01
        metrics.UPLOADS.labels("CPF01").inc(polled.rejected_files)
    metrics.QUARANTINED.inc(polled.quarantined)
    metrics.NOTIFICATIONS.labels("sent").inc(sent)
    metrics.NOTIFICATIONS.labels("failed").inc(failed)
