"""Create the CP-IS topics (idempotent), the uploads topic able to hold a large file's
UploadProcessed event."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

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
log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
LARGE = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}


@dataclass(frozen=True)
class TopicLayout:
    """How topics are made (CPIS_TOPIC_PARTITIONS, CPIS_TOPIC_REPLICATION,
    CPIS_MIN_INSYNC_REPLICAS): on a cluster, three copies of each partition and two in sync
    for a write to count, so one broker lost loses nothing and stops nothing."""

    partitions: int = PARTITIONS
    replication: int = 3
    min_insync: int = 2

    def on(self, brokers: int) -> TopicLayout:
        """The layout a cluster of `brokers` can hold: no more copies than brokers."""
        replication = min(self.replication, brokers)
        return TopicLayout(self.partitions, replication, min(self.min_insync, replication))


def ensure_topics(bootstrap: str, topics: Topics, layout: TopicLayout = TopicLayout(),
                  timeout: float = 30.0) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    metadata = admin.list_topics(timeout=timeout)
    existing = set(metadata.topics)
    held = layout.on(len(metadata.brokers))
    wanted = [_new_topic(name, topics, held) for name in topics.all() if name not in existing]
    if wanted and held != layout:
        log.warning("%d broker(s): topics made with %d copies, %d in sync, not %d and %d",
                    len(metadata.brokers), held.replication, held.min_insync,
                    layout.replication, layout.min_insync)
    created = create_missing(admin, wanted, timeout) if wanted else set()
    if topics.uploads not in created:  # made before (maybe by an older version): give it
        _allow_large_messages(admin, topics.uploads, timeout)  # the larger limit


def create_missing(admin: AdminClient, wanted: list[NewTopic], timeout: float = 30.0
                   ) -> set[str]:
    """Create these topics; one another process made first is not an error. Returns the
    names this call created."""
    created = set()
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result()
            created.add(name)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
    return created


def _new_topic(name: str, topics: Topics, layout: TopicLayout) -> NewTopic:
    insync = {"min.insync.replicas": str(layout.min_insync)}
    if name == topics.relay_position:
        return NewTopic(name, 1, layout.replication,
                        config={"cleanup.policy": "compact", **insync})
    return NewTopic(name, layout.partitions, layout.replication,
                    config={**insync, **(LARGE if name == topics.uploads else {})})


def _passing(error: KafkaError) -> bool:
    """An error that trying again can get past."""
    return bool(error.retriable()) or error.code() in (
        KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
        KafkaError.REQUEST_TIMED_OUT, KafkaError.NOT_CONTROLLER)


def _allow_large_messages(admin: AdminClient, topic: str, timeout: float) -> None:
    """Set the uploads topic's limit. Retried: a topic another process has only just made may
    be unknown to the broker for a moment (two services starting together), and a broker of
    a cluster may be away (its requests fail until the others take over)."""
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
            if not _passing(error.args[0]) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)
