"""The relay's reading side: stored events after a position -> Kafka messages (a Batch).

Events stored as Avro messages (streams/avro/mapper.py) are published as stored, their
position written in unless they hold it already (streams/avro/stored.py); the others are
rebuilt and encoded, their originators read for them alone. The next
batch is read in a thread while the current Kafka transaction commits (a wait on the brokers
that releases the GIL).

Tried and dropped: reading in a second process. On two cores shared with the broker and
PostgreSQL it was no faster (the batches' pickling ate the gain), and it made the relay two
processes to run and kill.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from eventsourcing.persistence import MapperDeserialisationError, Notification

from adapters.event_store.event_log import LogRow, event_log
from domain.application.app import CpisApplication
from domain.model.notifications import notifications_due
from streams.avro.codec import UnknownEventError, encode_event, message_key
from streams.avro.mapper import AvroEventMapper
from streams.avro.schemas import AvroError
from streams.avro.stored import Outgoing, StoredMessages
from streams.avro.values import encode_notification
from streams.avro.wire import WireFormat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    """Kafka messages of the stored events after a position, up to `last_position`."""

    messages: list[Outgoing]
    last_position: int
    events: int


class BatchEncoder:
    """Reads up to `batch_size` stored events after a position and encodes their messages:
    each event on its topic keyed by NHS number (ODS code for upload ledgers), plus the LA
    notifications it causes. Messages carry no headers: the value names its schema (its
    registry id) and holds the event's position (a header made producing twice as slow)."""

    def __init__(self, app: CpisApplication, wire: WireFormat, batch_size: int) -> None:
        self.app = app
        self.log = event_log(app.recorder)
        self.registry = wire.schemas
        self.topics = wire.topics
        self.wire = wire
        self.batch_size = batch_size
        mapper = app.mapper
        plain = isinstance(mapper, AvroEventMapper) and mapper.stores_plain_avro
        self.stored = StoredMessages(self.registry, self.topics.stored_topics if plain else {},
                                     wire)

    def read(self, after: int, limit: int | None = None) -> Batch:
        """The batch after `after`: up to `limit` events (`batch_size` when None)."""
        rows = self.log.select_log(after, self.batch_size if limit is None else limit)
        messages = self.stored.messages(rows, self._domain_messages)
        return Batch(messages, rows[-1][0] if rows else after, len(rows))

    def _domain_messages(self, rows: list[LogRow]) -> list[list[Outgoing]]:
        """The messages of each event rebuilt: its own, then the LA notifications it
        causes."""
        return [self._rebuilt(n) for n in self.log.notifications_of(rows)]

    def _rebuilt(self, notification: Notification) -> list[Outgoing]:
        try:
            event = self.app.mapper.to_domain_event(notification)
        except (MapperDeserialisationError, AvroError, UnknownEventError, ValueError,
                TypeError, KeyError) as error:
            # written by another build and unreadable here: it goes, as stored, to the
            # dead-letter topic keyed by its position, and the stream carries on
            log.error("stored event at position %d (%s) cannot be read: %s: %s; sent to the "
                      "dead-letter topic", notification.id, notification.topic,
                      type(error).__name__, error)
            return [(self.topics.dead_letter, notification.state,
                     f"position:{notification.id}".encode())]
        key = message_key(event).encode()
        framed, encode = self.wire.framed, self.registry.encode
        messages = [(self.topics.for_event(event),
                     framed(encode(*encode_event(event, notification.id))), key)]
        for due in notifications_due(event):
            messages.append((self.topics.la_notifications,
                             framed(encode(*encode_notification(due, notification.id))), key))
        return messages


class BatchReader:
    """Reads the next batch in a thread while the relay commits the current one."""

    def __init__(self, encoder: BatchEncoder) -> None:
        self.encoder = encoder
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="relay-read")

    def submit(self, after: int, limit: int | None = None) -> Future[Batch]:
        return self.executor.submit(self.encoder.read, after, limit)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
