"""The relay benchmark's yardsticks produce as fast as confluent-kafka goes: positional
arguments, a poll every POLL_EVERY messages (as the relay does), a full queue waited on."""

from __future__ import annotations

from confluent_kafka import Producer

from streams.avro.stored import Outgoing
from streams.relay.relay import POLL_EVERY


def produce_each(producer: Producer, messages: list[Outgoing]) -> None:
    """Every message into librdkafka's queue (not waiting for its acknowledgement)."""
    produce, poll = producer.produce, producer.poll
    for start in range(0, len(messages), POLL_EVERY):
        for message in messages[start:start + POLL_EVERY]:
            while True:
                try:
                    produce(*message)
                    break
                except BufferError:
                    poll(0.05)
        poll(0)
