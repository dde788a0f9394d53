"""The topics `ensure_topics` makes on a real broker, and the uploads topic's size limit."""

from __future__ import annotations

import os
import time

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]

from streams.kafka.admin import MAX_MESSAGE_BYTES, ensure_topics
from streams.kafka.topics import PARTITIONS, Topics
from tests.e2e.test_command_to_views import eventually


def max_message_bytes(admin: AdminClient, topic: str) -> int:
    """The topic's limit, once the broker knows the topic (a moment after it is made)."""
    deadline = time.monotonic() + 10
    while True:
        (future,) = admin.describe_configs([ConfigResource("topic", topic)]).values()
        try:
            return int(future.result()["max.message.bytes"].value)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
            assert time.monotonic() < deadline, f"{topic} stayed unknown"
        time.sleep(0.1)


def test_new_topics_are_made_the_uploads_topic_taking_32_mib(kafka: str) -> None:
    topics = Topics(f"t{os.urandom(4).hex()}.")
    ensure_topics(kafka, topics)
    admin = AdminClient({"bootstrap.servers": kafka})
    listed = admin.list_topics(timeout=30).topics
    assert all(name in listed for name in topics.all())
    assert len(listed[topics.plans].partitions) == PARTITIONS
    assert max_message_bytes(admin, topics.uploads) == MAX_MESSAGE_BYTES
    assert max_message_bytes(admin, topics.plans) < MAX_MESSAGE_BYTES  # the broker's default


def test_an_uploads_topic_made_before_the_limit_is_given_it(kafka: str) -> None:
    topics = Topics(f"t{os.urandom(4).hex()}.")
    admin = AdminClient({"bootstrap.servers": kafka})
    admin.create_topics([NewTopic(topics.uploads, PARTITIONS, 1)])[topics.uploads].result()
    assert max_message_bytes(admin, topics.uploads) < MAX_MESSAGE_BYTES
    ensure_topics(kafka, topics)
    # the broker applies a config change a moment after
    eventually(lambda: max_message_bytes(admin, topics.uploads) == MAX_MESSAGE_BYTES,
               "the uploads topic to take the larger limit", seconds=10)
