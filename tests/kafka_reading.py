"""Read topics back in tests: read_committed, from the beginning, until the end."""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from streams.avro.codec import decode_event
from streams.avro.schemas import AvroSchemas
from streams.avro.wire import RegistryIds
from tests.services import registry_url


def read_all(bootstrap: str, topic: str, timeout: float = 30.0) -> list[Any]:
    """Every committed message of `topic`, partition by partition, in offset order."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4()}",
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    try:
        # the topic's metadata, read first: what assign_at_once would read again, so the
        # partitions are fetched at once (streams/kafka_assign.py)
        partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        pending, messages = set(partitions), []
        while pending:
            m = consumer.poll(timeout)
            assert m is not None, f"no answer reading {topic}"
            error = m.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                pending.discard(m.partition())
                continue
            assert error is None, str(error)
            messages.append(m)
        return messages
    finally:
        consumer.close()


def topic_schemas() -> AvroSchemas:
    """The schemas topic messages are read with: avro/, and the registry's by id."""
    return AvroSchemas(registry=RegistryIds(registry_url()))


def read_events(bootstrap: str, topic: str) -> list[tuple[str, Any, int]]:
    """(key, domain event, position) for every committed message of the topic."""
    registry = topic_schemas()
    out = []
    for m in read_all(bootstrap, topic):
        event, position = decode_event(*registry.decode(m.value()))
        out.append((m.key().decode(), event, position))
    return out
