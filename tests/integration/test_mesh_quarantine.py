"""No MESH message holds up the inbox: one failing at any stage is answered CPF01 with the
reason, quarantined with its bytes, acknowledged, and the next file is taken. Only the
store being away leaves a message in the inbox for the next poll."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from adapters.mesh.mailbox import InboundMessage, Mailbox
from adapters.mesh.quarantine import Quarantine
from adapters.mesh.upload_receiver import UploadReceiver
from domain.application.app import CpisApplication
from streams.bootstrap import build_upload_receiver
from streams.settings import Settings
from tests.hl7 import xp
from tests.mesh_helpers import CPIS_MAILBOX, MESH_FIXTURES, la_sends, mailbox, take_all, xml

VALID = (MESH_FIXTURES / "upload_valid.xml").read_bytes()


@pytest.fixture
def settings(stream_settings: Settings, mesh: tuple[str, str], tmp_path: Path) -> Settings:
    return replace(stream_settings, quarantine_dir=tmp_path / "quarantine")


@pytest.fixture
def box(mesh: tuple[str, str]) -> Iterator[Mailbox]:
    opened = mailbox(mesh, CPIS_MAILBOX)
    yield opened
    opened.close()


class FirstDownloadFails(Mailbox):
    failed = False

    def retrieve(self, message_id: str) -> InboundMessage:
        if not self.failed:
            self.failed = True
            raise ValueError("chunk 2 of 2 missing")
        return super().retrieve(message_id)


def once(real: Callable[..., Any], error: Exception) -> Callable[..., Any]:
    """`real`, except that its first call raises `error`."""
    calls = [0]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise error
        return real(*args, **kwargs)

    return wrapped


def codes(reply: InboundMessage) -> tuple[list[str], list[str]]:
    response = xml(reply)
    return (xp(response, "//hl7:acknowledgementFileDetail/hl7:code/@code"),
            xp(response, "//hl7:acknowledgementRecordDetail//hl7:originalText/text()"))


def poll(receiver: UploadReceiver, mesh: tuple[str, str]) -> list[InboundMessage]:
    report = receiver.poll_once()
    assert report.quarantined == 1
    assert receiver.poll_once().uploads == 0  # every message acknowledged
    return take_all(mesh, "X26LA001")


def sent_bad_then_good(mesh: tuple[str, str], bad: bytes) -> None:
    la_sends(mesh, "X26LA001", "bad.xml", bad)
    la_sends(mesh, "X26LA001", "upload_valid.xml", VALID)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [(b"this is not XML", "not acceptable XML"),
     (VALID.replace(b'<id extension="2"/>', b'<id extension="99999999999999999999999"/>'),
      "File/id/@extension must be a whole number"),
     (VALID.replace(b'<id extension="2"/>', b'<id extension="-4"/>'),
      "File/id/@extension -4 is outside 1 to 2,147,483,647")],
    ids=["read", "sequence-too-large", "sequence-negative"])
def test_a_file_that_cannot_be_read_is_answered_quarantined_and_the_next_is_taken(
    settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str], box: Mailbox,
    bad: bytes, reason: str,
) -> None:
    sent_bad_then_good(mesh, bad)
    first, second = poll(build_upload_receiver(settings, stream_app, box), mesh)
    file_codes, why = codes(first)
    assert file_codes == ["CPF01"]
    assert reason in why[0]
    assert codes(second)[0] == ["CPF02"]
    [kept] = Quarantine(settings.quarantine).entries()
    assert (kept.stage, kept.size) == ("read", len(bad))
    assert Quarantine(settings.quarantine).data(kept.mesh_message_id) == bad


def test_a_file_from_another_las_mailbox_fails_the_file_checks(
    settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str], box: Mailbox,
) -> None:
    sent_bad_then_good(mesh, VALID.replace(b'extension="X26"/>', b'extension="X27"/>', 1))
    first, second = poll(build_upload_receiver(settings, stream_app, box), mesh)
    assert codes(first)[0] == ["CPF01"]
    assert "does not belong to local authority X27" in codes(first)[1][0]
    assert codes(second)[0] == ["CPF02"]
    [kept] = Quarantine(settings.quarantine).entries()
    assert kept.stage == "file checks"


def test_a_download_that_fails_is_quarantined_and_acknowledged(
    settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str], box: Mailbox,
) -> None:
    sent_bad_then_good(mesh, b"whatever it was")
    failing = FirstDownloadFails(box.settings)
    try:
        [only] = poll(build_upload_receiver(settings, stream_app, failing), mesh)
    finally:
        failing.close()
    assert codes(only)[0] == ["CPF02"]  # nothing to answer for what could not be fetched
    [kept] = Quarantine(settings.quarantine).entries()
    assert (kept.stage, kept.size) == ("download", None)
    assert "chunk 2 of 2 missing" in kept.reason


@pytest.mark.parametrize("stage", ["records", "storage"])
def test_a_failure_applying_or_storing_records_is_answered_and_quarantined(
    settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str], box: Mailbox,
    monkeypatch: pytest.MonkeyPatch, stage: str,
) -> None:
    step = "_apply_records" if stage == "records" else "_save_upload"
    monkeypatch.setattr(stream_app, step, once(getattr(stream_app, step),
                                                RuntimeError(f"{stage} broke")))
    second_file = VALID.replace(b'<id extension="2"/>', b'<id extension="3"/>')
    sent_bad_then_good(mesh, VALID)
    la_sends(mesh, "X26LA001", "upload_valid.xml", second_file)
    receiver = build_upload_receiver(settings, stream_app, box)
    assert receiver.poll_once().quarantined == 1
    first, second, third = take_all(mesh, "X26LA001")
    assert codes(first)[0] == ["CPF01"]
    assert f"{stage} broke" in codes(first)[1][0]
    assert [codes(r)[0] for r in (second, third)] == [["CPF02"], ["CPF02"]]
    [kept] = Quarantine(settings.quarantine).entries()
    assert kept.stage == stage


def test_the_store_away_leaves_the_message_for_the_next_poll(
    settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str], box: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    la_sends(mesh, "X26LA001", "upload_valid.xml", VALID)
    monkeypatch.setattr(stream_app, "process_upload", once(
        stream_app.process_upload, OperationalError("connection refused")))
    receiver = build_upload_receiver(settings, stream_app, box)
    stopped = receiver.poll_once()
    assert (stopped.uploads, stopped.quarantined) == (0, 0)
    assert take_all(mesh, "X26LA001") == []
    assert receiver.poll_once().uploads == 1
    [reply] = take_all(mesh, "X26LA001")
    assert codes(reply)[0] == ["CPF02"]
    assert Quarantine(settings.quarantine).entries() == []


def test_an_operator_lists_the_quarantine_and_reads_a_message_back(
    settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str], box: Mailbox,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streams.cli.main import main

    la_sends(mesh, "X26LA001", "bad.xml", b"this is not XML")
    build_upload_receiver(settings, stream_app, box).poll_once()
    monkeypatch.setenv("CPIS_QUARANTINE_DIR", str(settings.quarantine))
    assert main(["quarantine", "list", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert '"stage": "read"' in line
    message_id = Quarantine(settings.quarantine).entries()[0].mesh_message_id
    assert main(["quarantine", "show", message_id]) == 0
    assert capsys.readouterr().out == "this is not XML"
    assert main(["quarantine", "show", "NO-SUCH-ID"]) == 1
