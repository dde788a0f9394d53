"""A consumer assigned partitions fetches at once, without librdkafka's leader wait."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from streams.kafka.admin import ensure_topics
from streams.kafka.assign import assign_at_once
from streams.kafka.topics import Topics

LEADER_WAIT = "no current leader for partition"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def first_message_log(kafka: str, topic: str,
                      assign: Callable[[Consumer, list[TopicPartition]], None]) -> list[str]:
    """librdkafka's fetch log from a new consumer's assignment to its first message."""
    logger = logging.getLogger(f"rdkafka-{uuid.uuid4()}")
    lines = Lines()
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)  # librdkafka debug lines are logged at DEBUG
    consumer = Consumer({"bootstrap.servers": kafka, "group.id": f"t-{uuid.uuid4()}",
                         "enable.auto.commit": False, "debug": "topic,fetch", "logger": logger})
    try:
        assign(consumer, [TopicPartition(topic, 0, OFFSET_BEGINNING)])
        message = None
        for _ in range(6):  # 30 s at most
            if (message := consumer.poll(5.0)) is not None:
                break
        assert message is not None, "no message within 30 s"
        assert message.error() is None
        assert message.value() == b"first"
    finally:
        consumer.close()
    return lines.lines


def test_a_partition_assigned_at_once_does_not_wait_for_its_leader(kafka: str) -> None:
    topics = Topics(f"t{os.urandom(4).hex()}.")
    ensure_topics(kafka, topics)
    producer = Producer({"bootstrap.servers": kafka})
    producer.produce(topics.plans, b"first", b"key", partition=0)
    assert producer.flush(10) == 0
    plain = first_message_log(kafka, topics.plans, Consumer.assign)
    assert any(LEADER_WAIT in line for line in plain)  # what assign_at_once avoids
    at_once = first_message_log(kafka, topics.plans, assign_at_once)
    assert at_once  # the log was read
    assert not any(LEADER_WAIT in line for line in at_once)
