"""eventsourcing's PostgreSQL application recorder, with its insert function made to commit
in notification-id order.

The library's plain insert path takes an EXCLUSIVE lock on the events table, so transactions
commit in the order they were issued notification ids; its database-function path (which we
use: a 10,000-record upload stalled in pipeline mode) does not. Two writers (the MESH poller
and the query service) could then commit ids N+1 before N, and a reader tailing the log -
the relay - would pass N before it existed and never publish it. The chaos test lost 7 of
18,000 events that way. This function takes the same lock, held until commit.

It also reads the log (what the relay does all day) in PostgreSQL's binary format: the
library's text-format read spent two thirds of its time unescaping `bytea` state. The
relay's own read (`select_log`) gives plain rows of position and state: a `Notification` and
a `UUID` built for each event were three quarters of that read, and the originator's id and
version and the event's topic, which only the events the relay rebuilds need, are read for
those alone (`notifications_of`). And it
writes a large save (an LA upload) with COPY, under the same lock: the library's function
takes an array of composite values that psycopg builds in Python, which cost more than the
insert itself. The COPY takes its ids from the table's sequence first and writes each into
its event's state (`write_position`, given by the composition root): the relay then
publishes those events as stored, where writing the position in as it published was a third
of its reading time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from adapters.event_store.event_log import LogRow
from adapters.event_store.pool_waits import flat_pool_waits

TOPIC = "adapters.event_store.postgres_recorder:CommitOrderedRecorder"
COPY_FROM = 64  # events in one save; smaller saves take the library's one-round-trip function
# (state, notification id) -> the state holding that id, as the relay publishes it
PositionWriter = Callable[[bytes, int], bytes]


class CommitOrderedRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        flat_pool_waits()  # back within ~1 s of a PostgreSQL restart, not 30
        self.sql_create_statements[self.create_insert_function_statement_index] = \
            self._locking_insert_function()
        self._table = SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        # the last of %s consecutive ids taken from the table's sequence
        self._reserve = SQL(
            "SELECT setval(s, nextval(s) + %s - 1) FROM CAST(pg_get_serial_sequence("
            "quote_ident(%s) || '.' || quote_ident(%s), 'notification_id') AS regclass) AS s")
        # writes an event's id into its state as it is copied; None leaves states as they are
        self.write_position: PositionWriter | None = None
        self._select_log = SQL(
            "SELECT notification_id, state FROM {} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s").format(self._table)
        self._select_originators = SQL(
            "SELECT notification_id, originator_id, originator_version, topic FROM {} "
            "WHERE notification_id = ANY(%s)").format(self._table)
        self._held = threading.local()  # the connection of an exclusive block, by thread
        self._pooled = datastore.get_connection
        datastore.get_connection = self._connection  # type: ignore[method-assign]
        self._select_from = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        ).format(self._table)

    def _locking_insert_function(self) -> Composed:
        """The library's insert function, taking the EXCLUSIVE table lock its plain insert
        takes, so that concurrent writers commit ids in order and the relay, tailing the
        log, never passes a gap that fills later."""
        return SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "    NOTIFY {channel};"
            "    RETURN QUERY"
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(events)"
            "    RETURNING notification_id;"
            "END; $BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    @contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        """This thread's exclusive block's connection, else one from the pool."""
        held = getattr(self._held, "connection", None)
        if held is not None:
            yield held
            return
        with self._pooled() as conn:
            yield conn

    @contextmanager
    def holding(self, record_id: UUID) -> Iterator[None]:
        """Exclusive writes (domain/contention.py): until the block ends, this thread's reads
        and saves share one transaction holding the events table's EXCLUSIVE lock (which
        every save takes), so nothing is saved between its read and its save. Committed at
        the end of the block, rolled back by an error in it."""
        with self._pooled() as conn, conn.transaction():
            conn.execute(SQL("SET LOCAL lock_timeout = '{}s'").format(
                self.datastore.lock_timeout))
            conn.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self._table))
            self._held.connection = conn
            try:
                yield
            finally:
                self._held.connection = None

    def select_log(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` events after position `after`, as rows (position, state): what the
        relay reads."""
        with self.datastore.get_connection() as conn, \
                conn.cursor(binary=True, row_factory=tuple_row) as curs:
            curs.execute(self._select_log, (after, limit), prepare=True)
            return curs.fetchall()

    def notifications_of(self, rows: Sequence[LogRow]) -> list[Notification]:
        """The notifications `select_log` rows are: their originators and topics read in one
        query."""
        with self.datastore.get_connection() as conn, \
                conn.cursor(binary=True, row_factory=tuple_row) as curs:
            curs.execute(self._select_originators, ([row[0] for row in rows],))
            found = {row[0]: row[1:] for row in curs.fetchall()}
        return [Notification(id=position, originator_id=found[position][0],
                             originator_version=found[position][1], topic=found[position][2],
                             state=state) for position, state in rows]

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None,
        topics: Sequence[str] = (), *, inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's read, in binary format for the plain case (from `start` on)."""
        if start is None or stop is not None or topics:
            selected: Sequence[Notification] = super().select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start)
            return selected
        first = start if inclusive_of_start else start + 1
        with self.datastore.get_connection() as conn, \
                conn.cursor(binary=True, row_factory=tuple_row) as curs:
            curs.execute(self._select_from, (first, limit), prepare=True)
            return [Notification(id=row[0], originator_id=row[1], originator_version=row[2],
                                 topic=row[3], state=row[4]) for row in curs.fetchall()]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        if len(stored_events) < COPY_FROM:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        return self._copy_events(stored_events)

    def _copy_events(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        """COPY the events in one transaction holding the table's EXCLUSIVE lock, with ids
        taken from the table's sequence under that lock: consecutive, and above every id
        saved before. Each event's id is written into its state first (`write_position`),
        so the relay publishes it as stored."""
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(SQL("SET LOCAL lock_timeout = '{}s'").format(
                self.datastore.lock_timeout))
            curs.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self._table))
            curs.execute(SQL("NOTIFY {}").format(Identifier(self.channel_name)))
            ids = self._reserve_ids(curs, len(stored_events))
            self._copy(curs, ids, stored_events)
            return ids

    def _reserve_ids(self, curs: Cursor[tuple[Any, ...]], count: int) -> list[int]:
        """`count` consecutive ids from the table's sequence (a COPY rolled back leaves
        them unused: a gap, as a failed insert leaves one)."""
        row = curs.execute(self._reserve, (count, self.datastore.schema,
                                           self.events_table_name)).fetchone()
        if row is None:
            raise RuntimeError("no notification id sequence answered")
        last = int(row[0])
        return list(range(last - count + 1, last + 1))

    def _copy(self, curs: Cursor[tuple[Any, ...]], ids: list[int],
              stored_events: Sequence[StoredEvent]) -> None:
        write = self.write_position
        with curs.copy(SQL("COPY {} (notification_id, originator_id, originator_version, "
                           "topic, state) FROM STDIN (FORMAT BINARY)").format(self._table)
                       ) as copy:
            copy.set_types(["int8", self.datastore.originator_id_type, "int8", "text",
                            "bytea"])
            row = copy.write_row
            for notification_id, event in zip(ids, stored_events, strict=True):
                state = event.state if write is None else write(event.state, notification_id)
                row((notification_id, event.originator_id, event.originator_version,
                     event.topic, state))
