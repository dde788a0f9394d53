"""MESH against NHS's mesh-sandbox and a PostgreSQL event store and views."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from adapters.mesh.mailbox import Mailbox
from adapters.mesh.workflows import LaMailboxes
from adapters.views.postgres_views import PostgresViews
from bench.ingest import synthetic_file
from domain.application.app import CpisApplication
from domain.model.notifications import NotificationKind
from streams.bootstrap import build_notification_sender, build_upload_receiver, build_view_store
from streams.settings import Settings
from tests.avro_samples import sample_notification
from tests.builders import plan
from tests.hl7 import xp
from tests.mesh_helpers import CPIS_MAILBOX, la_sends, mailbox, take_all, xml


@pytest.fixture
def mesh_settings(stream_settings: Settings, mesh: tuple[str, str]) -> Settings:
    return stream_settings


@pytest.fixture
def cpis_box(mesh: tuple[str, str]) -> Iterator[Mailbox]:
    box = mailbox(mesh, CPIS_MAILBOX)
    yield box
    box.close()


class CrashBeforeAck(Mailbox):
    """The first acknowledge dies, as if the process were killed just before it."""

    crashed = False

    def acknowledge(self, message_id: str) -> None:
        if not self.crashed:
            self.crashed = True
            raise SystemExit("killed before acknowledging")
        super().acknowledge(message_id)


def test_an_upload_is_applied_and_answered_with_a_file_response(
    mesh_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    la_sends(mesh, "X26LA001", "upload_mixed.xml")
    receiver = build_upload_receiver(mesh_settings, stream_app, cpis_box)
    report = receiver.poll_once()
    assert (report.uploads, report.records) == (1, 9)
    assert report.by_code["CPR06"] == 3
    [reply] = take_all(mesh, "X26LA001")
    assert reply.workflow_id == "CPIS_LA_UPLOAD_ACK"
    response = xml(reply)
    assert xp(response, "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF03"]
    assert xp(response, "//hl7:acknowledgementRecordDetail/hl7:code/@code") == [
        "CPR06", "CPR06", "CPR06", "CPR04", "CPR01", "CPR02", "CPR03", "CPR05", "CPR07"]
    assert receiver.poll_once().uploads == 0  # acknowledged: the inbox is empty


def test_a_crash_between_storing_and_acknowledging_loses_nothing_and_repeats_nothing(
    mesh_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    la_sends(mesh, "X26LA001", "upload_valid.xml")
    box = CrashBeforeAck(cpis_box.settings)
    receiver = build_upload_receiver(mesh_settings, stream_app, box)
    with pytest.raises(SystemExit):
        receiver.poll_once()
    stored = stream_app.recorder.max_notification_id()
    again = receiver.poll_once()  # MESH delivers the unacknowledged message again
    box.close()
    assert again.uploads == 1
    assert stream_app.recorder.max_notification_id() == stored
    replies = take_all(mesh, "X26LA001")
    assert len(replies) == 1
    assert xp(xml(replies[0]), "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF02"]


def test_an_upload_from_another_las_mailbox_is_refused(
    mesh_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    la_sends(mesh, "X27LA001", "upload_valid.xml")  # the file says X26
    build_upload_receiver(mesh_settings, stream_app, cpis_box).poll_once()
    [reply] = take_all(mesh, "X27LA001")
    assert xp(xml(reply), "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF01"]
    assert stream_app.recorder.max_notification_id() in (None, 0)


def test_a_malformed_file_is_answered_cpf01_with_id_minus_one(
    mesh_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    la_sends(mesh, "X28LA001", "bad.xml", data=b"<File><unclosed>")
    build_upload_receiver(mesh_settings, stream_app, cpis_box).poll_once()
    [reply] = take_all(mesh, "X28LA001")
    assert xp(xml(reply), "/hl7:FileResponse/hl7:id/@extension") == ["-1"]
    assert xp(xml(reply), "//hl7:acknowledgementFileDetail/hl7:code/@code") == ["CPF01"]


def seed_outbox(settings: Settings, extra: int = 0) -> None:
    """The sample notification pending (its plan in the views), and `extra` more like it."""
    store = build_view_store(settings)
    generation = store.setup()
    with store.connect() as conn:
        views = PostgresViews(conn, store.schema, generation)
        n = sample_notification()
        views.put_plan(n.nhs_number, plan(), 2, 5)
        views.add_notification(n)
        for i in range(extra):
            views.add_notification(replace(n, notification_id=f"{n.notification_id}-{i}"))


def test_a_pending_notification_reaches_the_las_mailbox_once(
    mesh_settings: Settings, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    seed_outbox(mesh_settings)
    sender = build_notification_sender(mesh_settings, cpis_box)
    sender.outbox.setup()
    assert sender.send_due().sent == 1
    assert sender.send_due().sent == 0
    [note] = take_all(mesh, "X26LA001")
    assert note.workflow_id == "CPIS_ACCESS_NOTIFICATION"
    assert xp(xml(note), "//hl7:referredToLAUploadFile/hl7:value/@extension") == ["5"]
    assert sender.outbox.statuses() == {sample_notification().notification_id: "sent"}


def test_a_poll_sends_every_due_notification_in_batches_up_to_its_most(
    mesh_settings: Settings, mesh: tuple[str, str], cpis_box: Mailbox
) -> None:
    seed_outbox(mesh_settings, extra=6)
    sender = build_notification_sender(mesh_settings, cpis_box)
    sender.outbox.setup()
    first = sender.send_due(limit=2, most=5)
    assert (first.sent, first.failed) == (5, 0)  # batches of 2, 2 and 1
    assert sender.send_due(limit=2).sent == 2  # the rest: a batch of 2, then an empty one
    assert sender.send_due(limit=2).sent == 0
    assert len(take_all(mesh, "X26LA001")) == 7
    assert set(sender.outbox.statuses().values()) == {"sent"}


def test_a_failed_send_is_retried_later_with_back_off(
    mesh_settings: Settings, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    seed_outbox(mesh_settings)
    sender = build_notification_sender(mesh_settings, cpis_box)
    sender.outbox.setup()
    sender.la_mailboxes = LaMailboxes({"X26": "NOSUCHMB"})  # MESH refuses the recipient
    assert sender.send_due().failed == 1
    assert sender.send_due().failed == 0  # not due again before its back-off
    sender.la_mailboxes = LaMailboxes({"X26": "X26LA001"})
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    sender.clock = lambda: later
    assert sender.send_due().sent == 1
    assert len(take_all(mesh, "X26LA001")) == 1


def test_a_mesh_error_report_marks_the_notification_undelivered(
    mesh_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str]
, cpis_box: Mailbox
) -> None:
    seed_outbox(mesh_settings)
    sender = build_notification_sender(mesh_settings, cpis_box)
    sender.outbox.setup()
    sender.send_due()
    [sent] = take_all(mesh, "X26LA001")
    httpx.post(f"{mesh[0]}/messageexchange/admin/report", json={
        "mailbox_id": CPIS_MAILBOX, "code": "14", "description": "Undelivered message",
        "workflow_id": "CPIS_ACCESS_NOTIFICATION", "linked_message_id": sent.message_id,
    }, timeout=10).raise_for_status()
    report = build_upload_receiver(mesh_settings, stream_app, cpis_box).poll_once()
    assert report.reports == 1
    assert sender.outbox.statuses() == {sample_notification().notification_id: "undelivered"}
    assert sample_notification().kind is NotificationKind.ACCESS


def test_duplicate_and_out_of_order_files_are_refused_and_change_no_plan(
    mesh_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str],
    cpis_box: Mailbox,
) -> None:
    receiver = build_upload_receiver(mesh_settings, stream_app, cpis_box)
    la_sends(mesh, "X26LA001", "file-5.xml", synthetic_file(3, sequence=5))
    receiver.poll_once()
    plans_before = plan_events(stream_app)
    la_sends(mesh, "X26LA001", "file-5-again.xml", synthetic_file(3, sequence=5))
    la_sends(mesh, "X26LA001", "file-4.xml", synthetic_file(3, sequence=4, first=500))
    assert receiver.poll_once().rejected_files == 0  # read fine, refused by the ledger
    replies = sorted(take_all(mesh, "X26LA001"), key=lambda m: m.message_id)
    codes = Counter(xp(xml(m), "//hl7:acknowledgementFileDetail/hl7:code/@code")[0]
                    for m in replies)
    assert codes == {"CPF02": 1, "CPF01": 2}
    assert plan_events(stream_app) == plans_before == 3
    ledger = stream_app.upload_ledger("X26")
    assert ledger.last_accepted_sequence == 5
    outcomes = [stream_app.upload_outcome("X26", m) for m in ledger.processed]
    assert sorted(o.detail for o in outcomes if o is not None and o.detail) == [
        "file sequence number 4 is not greater than the last accepted 5",
        "file sequence number 5 is not greater than the last accepted 5"]


def plan_events(app: CpisApplication) -> int:
    return sum(1 for n in app.recorder.select_notifications(1, 10_000)
               if n.topic == "cpis:PlanRegistered.v1")
