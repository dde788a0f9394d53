"""Assigning partitions to a consumer that has not read the cluster's metadata yet.

librdkafka fetches an assigned partition only once it knows the partition's leader; assigned
before its first metadata has come, the partition waits for a 500 ms timer before its offset
is asked for (its debug log: "no current leader for partition: (re)starting offset query
timer"). Reading the topics' metadata first lets the first fetch go at once, which a
replay worker started for a short job notices.
"""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition


def assign_at_once(consumer: Consumer, partitions: list[TopicPartition],
                   timeout: float = 10.0) -> None:
    """Assign the partitions, their topics' metadata read first."""
    for topic in sorted({tp.topic for tp in partitions}):
        consumer.list_topics(topic, timeout=timeout)
    consumer.assign(partitions)
