"""A MESH poll round that meets MESH or a store away is tried again within seconds (the
retry's back-off), not after a whole poll interval; with --once it reports and ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
import pytest
import requests

from adapters.mesh.notification_sender import NotificationSender, SendReport
from adapters.mesh.upload_receiver import PollReport, UploadReceiver
from streams.mesh_poller import AWAY, PollInterruptedError, poll_round
from streams.ops.retrying import until_up


@dataclass
class Receiver:
    reports: list[PollReport]
    polls: int = 0

    def poll_once(self) -> PollReport:
        self.polls += 1
        return self.reports.pop(0)


@dataclass
class Sender:
    rounds: list[int] = field(default_factory=list)

    def send_due(self) -> SendReport:
        self.rounds.append(1)
        return SendReport()


def fakes(*reports: PollReport) -> tuple[Any, Any]:
    return cast(UploadReceiver, Receiver(list(reports))), cast(NotificationSender, Sender())


def test_a_round_cut_short_by_mesh_going_away_is_tried_again_until_it_completes() -> None:
    receiver, sender = fakes(PollReport(uploads=1, interrupted="ConnectionError: refused"),
                             PollReport(uploads=2))
    until_up("MESH", lambda: poll_round(receiver, sender), AWAY)
    assert receiver.polls == 2
    assert len(sender.rounds) == 2  # notifications due are still sent in a cut-short round


def test_a_cut_short_round_raises_so_the_poller_retries() -> None:
    receiver, sender = fakes(PollReport(interrupted="Timeout: read timed out"))
    with pytest.raises(PollInterruptedError, match="read timed out"):
        poll_round(receiver, sender)


def test_with_once_a_cut_short_round_ends_without_waiting() -> None:
    receiver, sender = fakes(PollReport(interrupted="ConnectionError: refused"))
    poll_round(receiver, sender, once=True)
    assert receiver.polls == 1


def test_mesh_transport_errors_count_as_away() -> None:
    assert issubclass(requests.ConnectionError, AWAY)


def test_the_outbox_database_going_away_counts_as_away() -> None:
    assert issubclass(psycopg.OperationalError, AWAY)
