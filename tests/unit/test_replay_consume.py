"""How a replay worker takes its batches from the consumer: full batches while messages flow,
and back at once, not after a timeout, when every partition has reached its end."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError

from streams.projection.replay import END_POLL, _consume


class FakeMessage:
    def __init__(self, topic: str, partition: int, offset: int, eof: bool = False) -> None:
        self._where = (topic, partition, offset)
        self._error = KafkaError(KafkaError._PARTITION_EOF) if eof else None

    def error(self) -> KafkaError | None:
        return self._error

    def topic(self) -> str:
        return self._where[0]

    def partition(self) -> int:
        return self._where[1]

    def offset(self) -> int:
        return self._where[2]

    def key(self) -> bytes:
        return b"9434765919"

    def value(self) -> bytes:
        return b"avro"


class FakeConsumer:
    """Hands out its queued messages, at most `per_call` a call, noting each call's timeout."""

    def __init__(self, messages: list[FakeMessage], per_call: int) -> None:
        self.queue = list(messages)
        self.per_call = per_call
        self.timeouts: list[float] = []

    def consume(self, count: int, timeout: float) -> list[FakeMessage]:
        self.timeouts.append(timeout)
        taken = self.queue[:min(count, self.per_call)]
        del self.queue[:len(taken)]
        return taken


def messages(topic: str, partition: int, count: int, eof: bool) -> list[FakeMessage]:
    out = [FakeMessage(topic, partition, offset) for offset in range(count)]
    return [*out, FakeMessage(topic, partition, count, eof=True)] if eof else out


def test_a_batch_gathers_messages_across_calls_until_it_is_full() -> None:
    consumer = FakeConsumer(messages("plans", 0, 25, eof=False), per_call=4)
    pending = {("plans", 0)}
    batch = _consume(consumer, 10, pending)  # type: ignore[arg-type]
    assert [m.offset for m in batch] == list(range(10))
    assert len(consumer.queue) == 15
    assert pending == {("plans", 0)}


def test_the_last_short_batch_comes_back_as_soon_as_every_partition_has_ended() -> None:
    queued = messages("plans", 0, 3, eof=True) + messages("accesses", 0, 2, eof=True)
    consumer = FakeConsumer(queued, per_call=100)
    pending = {("plans", 0), ("accesses", 0)}
    batch = _consume(consumer, 5000, pending)  # type: ignore[arg-type]
    assert [(m.topic, m.offset) for m in batch] == [("plans", 0), ("plans", 1), ("plans", 2),
                                                    ("accesses", 0), ("accesses", 1)]
    assert pending == set()
    assert len(consumer.timeouts) == 1  # no call waiting for messages that will not come


def test_no_call_waits_longer_than_the_end_poll_and_an_idle_batch_gives_up() -> None:
    consumer = FakeConsumer([], per_call=100)
    pending: set[Any] = {("plans", 0)}
    assert _consume(consumer, 5000, pending, wait=0.2) == []  # type: ignore[arg-type]
    assert consumer.timeouts
    assert max(consumer.timeouts) <= END_POLL
    assert pending == {("plans", 0)}
