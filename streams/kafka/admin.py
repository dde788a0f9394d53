"""Create the CP-IS topics (idempotent), the uploads topic able to hold a large file's
UploadProcessed event."""

from __future__ import annotations

import time

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # public, not in __all__
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)
from confluent_kafka.cimpl import NewTopic

from streams.kafka.topics import PARTITIONS, Topics

# the largest message the relay produces: an UploadProcessed event holds every record's
# outcome (domain/uploads.py MAX_RECORDS bounds it under this); Kafka's default is 1 MB
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
LARGE = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}


def ensure_topics(bootstrap: str, topics: Topics, timeout: float = 30.0) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [_new_topic(name, topics) for name in topics.all() if name not in existing]
    created = set()
    if wanted:
        for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
            try:
                future.result()
                created.add(name)
            except KafkaException as error:
                if "TOPIC_ALREADY_EXISTS" not in str(error):
                    raise
    if topics.uploads not in created:  # made before (maybe by an older version): give it
        _allow_large_messages(admin, topics.uploads, timeout)  # the larger limit


def _new_topic(name: str, topics: Topics) -> NewTopic:
    if name == topics.relay_position:
        return NewTopic(name, 1, 1, config={"cleanup.policy": "compact"})
    return NewTopic(name, PARTITIONS, 1, config=LARGE if name == topics.uploads else {})


def _allow_large_messages(admin: AdminClient, topic: str, timeout: float) -> None:
    """Set the uploads topic's limit; a topic another process has only just made may be
    unknown to the broker for a moment (two services starting together), so that is retried."""
    entries = [ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
               for key, value in LARGE.items()]
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    deadline = time.monotonic() + timeout
    while True:
        (future,) = admin.incremental_alter_configs([resource],
                                                    request_timeout=timeout).values()
        try:
            future.result()
            return
        except KafkaException as error:
            unknown = error.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
            if not unknown or time.monotonic() > deadline:
                raise
        time.sleep(0.2)
