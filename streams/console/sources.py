"""What the console reads besides the event store: the outbox's delivery state (views'
PostgreSQL), the dead-letter topic (Kafka) and the MESH quarantine (a folder)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from adapters.mesh.quarantine import Quarantine
from streams.bootstrap import build_outbox, topics_of
from streams.logs import mask_nhs_numbers
from streams.settings import Settings


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: str  # masked: a dead letter's key is usually an NHS number
    reason: str
    origin: str  # topic[partition]@offset it came from


def outbox(settings: Settings) -> dict[str, Any]:
    box = build_outbox(settings)
    return {"summary": box.summary(), "troubled": box.troubled()}


def dead_letters(settings: Settings, newest: int = 50) -> list[DeadLetter]:
    """The newest messages of each dead-letter partition, newest first."""
    topic = topics_of(settings).dead_letter
    consumer = Consumer({"bootstrap.servers": settings.require_kafka(),
                         "group.id": "cpis-console", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        wanted, ends = [], {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
            if high > low:
                wanted.append(TopicPartition(topic, p, max(low, high - newest)))
                ends[p] = high
        consumer.assign(wanted)
        found = _read_until(consumer, ends)
    finally:
        consumer.close()
    return sorted(found, key=lambda d: d.offset, reverse=True)


def _read_until(consumer: Consumer, ends: dict[int, int]) -> list[DeadLetter]:
    found: list[DeadLetter] = []
    left = len(ends)
    while left:
        batch = consumer.consume(500, 5)
        if not batch:
            break
        for message in batch:
            if message.error() is not None:
                continue
            found.append(_dead_letter(message))
            if int(message.offset() or 0) + 1 == ends.get(int(message.partition() or 0)):
                left -= 1
    return found


def _dead_letter(message: Any) -> DeadLetter:
    headers = {k: v.decode(errors="replace") for k, v in (message.headers() or [])}
    key = mask_nhs_numbers((message.key() or b"").decode(errors="replace"))
    origin = (f"{headers.get('cpis-dlq-topic', '?')}[{headers.get('cpis-dlq-partition', '?')}]"
              f"@{headers.get('cpis-dlq-offset', '?')}")
    return DeadLetter(message.partition(), message.offset(), key,
                      headers.get("cpis-dlq-reason", "unknown"), origin)


def quarantined(settings: Settings) -> list[Any]:
    return list(Quarantine(settings.quarantine).entries())
