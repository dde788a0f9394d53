"""The relay's reading side: stored events after a position -> Kafka messages (a Batch).

Events stored as Avro messages (streams/avro_mapper.py) are published as stored, their
position written in (streams/stored_avro.py); the others are rebuilt and encoded. The next
batch is read in a thread while the current Kafka transaction commits (a wait on the brokers
that releases the GIL).

Tried and dropped: reading in a second process. On two cores shared with the broker and
PostgreSQL it was no faster (the batches' pickling ate the gain), and it made the relay two
processes to run and kill.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from domain.application import CpisApplication
from domain.notifications import notifications_due
from streams.avro_mapper import AvroEventMapper
from streams.avro_registry import SchemaRegistry
from streams.event_codec import AvroRecord, encode_event, encode_notification, message_key
from streams.stored_avro import StoredMessage
from streams.topics import Topics

Headers = list[tuple[str, str | bytes | None]]
Message = tuple[str, bytes, bytes, Headers]  # topic, key, value, headers


@dataclass(frozen=True)
class Batch:
    """Kafka messages of the stored events after a position, up to `last_position`."""

    messages: list[Message]
    last_position: int
    events: int


class BatchEncoder:
    """Reads up to `batch_size` stored events after a position and encodes their messages:
    each event on its topic keyed by NHS number (ODS code for upload ledgers), plus the LA
    notifications it causes."""

    def __init__(self, app: CpisApplication, registry: SchemaRegistry, topics: Topics,
                 batch_size: int) -> None:
        self.app = app
        self.registry = registry
        self.topics = topics
        self.batch_size = batch_size
        mapper = app.mapper
        plain = isinstance(mapper, AvroEventMapper) and mapper.stores_plain_avro
        self.stored_message = StoredMessage(registry) if plain else None

    def read(self, after: int) -> Batch:
        notifications = self.app.recorder.select_notifications(
            start=after + 1, limit=self.batch_size)
        messages: list[Message] = []
        for notification in notifications:
            messages.extend(self._messages(notification))
        return Batch(messages, notifications[-1].id if notifications else after,
                     len(notifications))

    def _messages(self, notification: Notification) -> list[Message]:
        stored = (None if self.stored_message is None
                  else self.stored_message(notification, notification.id))
        if stored is None:
            return self._event_messages(self.app.mapper.to_domain_event(notification),
                                        notification.id)
        key, name, value = stored
        return [(self.topics.for_stored(name), key, value, _headers(name, notification.id))]

    def _event_messages(self, event: Any, position: int) -> list[Message]:
        key = message_key(event).encode()
        messages = [self._event_message(self.topics.for_event(event), key,
                                        *encode_event(event, position), position)]
        for due in notifications_due(event):
            n_name, n_record = encode_notification(due, position)
            messages.append((self.topics.la_notifications, key,
                             self.registry.encode(n_name, n_record),
                             [("cpis-event", n_name.encode())]))
        return messages

    def _event_message(self, topic: str, key: bytes, name: str, record: AvroRecord,
                       position: int) -> Message:
        return (topic, key, self.registry.encode(name, record), _headers(name, position))


def _headers(full_name: str, position: int) -> Headers:
    """An event message's headers: the event's Avro full name and its position."""
    return [("cpis-event", full_name.encode()), ("cpis-position", str(position).encode())]


class BatchReader:
    """Reads the next batch in a thread while the relay commits the current one."""

    def __init__(self, encoder: BatchEncoder) -> None:
        self.encoder = encoder
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="relay-read")

    def submit(self, after: int) -> Future[Batch]:
        return self.executor.submit(self.encoder.read, after)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
