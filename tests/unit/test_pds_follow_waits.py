"""The PDS follower waits for an event store that went away and applies the change once it
is back, committing its offsets only then; a stop while waiting ends the run uncommitted."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from domain.model.identity import ChangeKind, IdentityChange
from domain.model.nhs_number import NhsNumber
from streams import pds_feed
from streams.avro.schemas import AvroSchemas
from streams.kafka.topics import Topics
from streams.ops.retrying import StoppedWaitingError
from streams.pds_feed import PdsFeedFollower, encode_change
from streams.projection.writer import Consumed

CHANGE = IdentityChange("feed-1", ChangeKind.SUPERSEDED, NhsNumber("9990000018"),
                        NhsNumber("9990000026"))


class Commits:
    def __init__(self) -> None:
        self.commits = 0

    def commit(self, asynchronous: bool) -> None:
        self.commits += 1


class NoDeadLetters:
    def send(self, message: Consumed, reason: str) -> None:
        raise AssertionError(f"dead-lettered: {reason}")

    def flush(self) -> None:
        pass


def follower(monkeypatch: pytest.MonkeyPatch, outcomes: list[Any]) -> PdsFeedFollower:
    def apply(app: object, change: IdentityChange) -> bool:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return bool(outcome)

    monkeypatch.setattr(pds_feed, "apply_identity_change", apply)
    feed = PdsFeedFollower.__new__(PdsFeedFollower)
    feed.app, feed.registry = None, AvroSchemas()  # type: ignore[assignment]
    feed.topic = Topics().pds_changes
    feed.dead_letters, feed.consumer = NoDeadLetters(), Commits()  # type: ignore[assignment]
    feed.applied = feed.ignored = 0
    return feed


def batch() -> list[Consumed]:
    value = encode_change(AvroSchemas(), CHANGE)
    return [Consumed("cpis.pds.v1", 0, 7, b"9990000018", value)]


def test_a_change_waits_for_the_event_store_then_is_applied_and_committed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    feed = follower(monkeypatch, [psycopg.OperationalError("server closed the connection"),
                                  True])
    feed._apply(batch(), stop=lambda: False)
    assert feed.applied == 1
    assert feed.consumer.commits == 1  # type: ignore[attr-defined]


def test_a_stop_while_waiting_leaves_the_batch_uncommitted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    feed = follower(monkeypatch, [psycopg.OperationalError("down")] * 3)
    with pytest.raises(StoppedWaitingError):
        feed._apply(batch(), stop=lambda: True)
    assert feed.consumer.commits == 0  # type: ignore[attr-defined]
