"""Create the CP-IS topics (idempotent)."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from streams.topics import PARTITIONS, Topics


def ensure_topics(bootstrap: str, topics: Topics, timeout: float = 30.0) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = []
    for name in topics.all():
        if name in existing:
            continue
        single = name in (topics.relay_position,)
        config = {"cleanup.policy": "compact"} if single else {}
        wanted.append(NewTopic(name, 1 if single else PARTITIONS, 1, config=config))
    if not wanted:
        return
    for future in admin.create_topics(wanted, request_timeout=timeout).values():
        try:
            future.result()
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
