"""The LA notification outbox as the MESH sender sees it: pending notifications from the
active view generation, and their delivery state in a table of its own.

Delivery state is not a projection: it lives outside the generation tables, so a replay
rebuilds the outbox without sending anything twice.

A poll reads only what is new. Each notification row keeps the Kafka message it came from,
and the generation's offsets, committed in the same transaction as its rows, say how far
every row is in: below a partition's `next_offset` nothing can still arrive. Once the
sender has marked a read's notifications sent or failed, it records how far each partition
is done (`scanned`): up to the first row still without a delivery row, or, with none, the
offsets as they stood before the read. Later reads start there. A failed one comes back by
its delivery row's retry time; a new generation (a replay) is scanned from its start once.
So a poll's cost does not grow with the notifications ever sent.

Retention: a notification row is deleted from the view once it has been sent for the
retention period (`forget_delivered`, CPIS_NOTIFICATION_RETENTION_DAYS); its delivery row
stays, so it is never sent again, and its event stays in the store and on Kafka. A replay
deletes the same rows from the generation it builds before switching to it, so it ends where
the live views are. Failed and undelivered notifications are kept whatever their age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql

from adapters.views.outbox_report import OutboxReport
from adapters.views.pg_rows import by_partition, notification_row, topic_key
from adapters.views.postgres import SETUP_LOCK
from adapters.views.postgres_views import Conn
from domain.model.notifications import NotificationDue

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DELIVERY_DDL = """
CREATE TABLE IF NOT EXISTS {delivery} (
  notification_id text PRIMARY KEY, status text NOT NULL, mesh_message_id text,
  attempts int NOT NULL DEFAULT 0, next_attempt_at timestamptz, last_error text,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS {by_mesh_id} ON {delivery} (mesh_message_id);
CREATE INDEX IF NOT EXISTS {retry_index} ON {delivery} (next_attempt_at)
  WHERE status = 'failed';
CREATE INDEX IF NOT EXISTS {sent_index} ON {delivery} (updated_at) WHERE status = 'sent';
CREATE TABLE IF NOT EXISTS {forgotten} (
  id int PRIMARY KEY CHECK (id = 1), sent_before timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS {scanned} (
  generation int NOT NULL, topic text NOT NULL, partition int NOT NULL,
  scanned_to bigint NOT NULL, PRIMARY KEY (generation, topic, partition));
"""

# {window}: the rows past the scanned offsets of each partition the generation has applied
# (an index range each, the offsets written into the statement so its plan sees them), rows
# with no source (written outside a stream), and failed ones due for a retry
DUE = """
SELECT n.*, p.la_name, p.local_id, p.source_file, coalesce(d.attempts, 0) AS attempts
FROM {notifications} n
LEFT JOIN {delivery} d USING (notification_id)
LEFT JOIN LATERAL (
  SELECT la_name, local_id, source_file FROM {plans} p
  WHERE p.nhs_number = n.nhs_number AND p.ods_code = n.ods_code
  ORDER BY p.version DESC LIMIT 1) p ON true
WHERE ({window} OR n.kafka_topic_key IS NULL OR n.notification_id = ANY(%(retries)s))
  AND (d.notification_id IS NULL OR (d.status = 'failed' AND d.next_attempt_at <= %(now)s))
ORDER BY n.created_at, n.notification_id
LIMIT %(limit)s
"""
# failed ones due again, the longest waiting first: at most a read's worth, so a long MESH
# outage's backlog is not all listed in every read
RETRIES = """
SELECT notification_id FROM {delivery} WHERE status = 'failed' AND next_attempt_at <= %s
ORDER BY next_attempt_at LIMIT %s
"""

# the first row of a partition's window still without a delivery row (in offset order,
# stopping at the first: after a replay, the sent rows before a backlog are walked once)
FIRST_PENDING = """
SELECT n.kafka_offset FROM {notifications} n
WHERE {from_start} AND n.kafka_offset < {end}
  AND NOT EXISTS (SELECT 1 FROM {delivery} d WHERE d.notification_id = n.notification_id)
ORDER BY n.kafka_offset LIMIT 1
"""

# the rows sent in [since, before): an index range of the delivery rows, so the live
# deletions, each from where the last ended, cost the same however many were sent before
FORGET = """
DELETE FROM {notifications} n USING {delivery} d
WHERE n.notification_id = d.notification_id AND d.status = 'sent'
  AND d.updated_at >= %(since)s AND d.updated_at < %(before)s
"""
FORGOTTEN = """
INSERT INTO {forgotten} VALUES (1, %s)
ON CONFLICT (id) DO UPDATE SET sent_before = greatest({forgotten}.sent_before, EXCLUDED.sent_before)
"""

SCANNED = """
INSERT INTO {scanned} (generation, topic, partition, scanned_to) VALUES (%s, %s, %s, %s)
ON CONFLICT (generation, topic, partition)
DO UPDATE SET scanned_to = greatest({scanned}.scanned_to, EXCLUDED.scanned_to)
"""


@dataclass(frozen=True)
class DueNotification:
    notification: NotificationDue
    la_name: str
    local_id: str | None
    source_file: int | None
    attempts: int


Partition = tuple[str, int]  # a Kafka topic and partition


@dataclass(frozen=True)
class Scanned:
    """The window a read looked at: for each partition the generation has applied, from
    the offset the read started at (0 if never scanned) to the generation's offset as it
    stood before the read (every row below it was committed by then)."""

    generation: int
    windows: dict[Partition, tuple[int, int]]


@dataclass(frozen=True)
class DueBatch:
    """Due notifications, oldest first, and the window they came from, to be recorded as
    scanned (`NotificationOutbox.scanned`) once each is marked sent or failed."""

    notifications: list[DueNotification]
    scanned: Scanned


def _from(partition: Partition, start: int) -> sql.Composable:
    """The partition's rows from offset `start` on: an index range (the topic's key leads
    the index, pg_rows.topic_key; the name is checked too), the values written into the
    statement so its plan sees them."""
    topic, number = partition
    return sql.SQL("(n.kafka_topic_key = {} AND n.kafka_partition = {} AND n.kafka_offset >= {}"
                   " AND n.kafka_topic = {})").format(
        sql.Literal(topic_key(topic)), sql.Literal(number), sql.Literal(start),
        sql.Literal(topic))


def _window(windows: dict[Partition, tuple[int, int]]) -> sql.Composable:
    """Rows of each applied partition from where the read starts on (none can be in a
    partition the generation has no offset for)."""
    ranges = [_from(partition, start) for partition, (start, _) in sorted(windows.items())]
    return sql.SQL(" OR ").join(ranges) if ranges else sql.SQL("false")


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _due(row: dict[str, Any]) -> DueNotification:
    return DueNotification(notification_row(row).notification,
                           row["la_name"] or f"Local authority {row['ods_code']}",
                           row["local_id"], row["source_file"], int(row["attempts"]))


class NotificationOutbox(OutboxReport):
    """The sender's side: what is due, and each notification's delivery state."""

    def setup(self) -> None:
        self.store.setup()
        with self.store.connect() as conn:
            # the projector and the MESH sender both set up, often at once: CREATE ... IF NOT
            # EXISTS alone races in PostgreSQL's catalogue (a unique violation)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            conn.execute(sql.SQL(DELIVERY_DDL).format(**self._ids()))

    def due(self, now: datetime, limit: int = 100) -> DueBatch:
        """Up to `limit` due notifications of the active generation, oldest first."""
        with self.store.connect() as conn:
            generation = self.store.active_generation(conn)  # no switch until the read is done
            offsets = self.store.offsets(conn, generation)  # before the rows: all below are in
            since = self._scanned_to(conn, generation)
            windows = {p: (since.get(p, 0), end) for p, end in offsets.items()}
            ids = self._ids(generation)
            retries = [r["notification_id"] for r in conn.execute(
                sql.SQL(RETRIES).format(**ids), (now, limit)).fetchall()]
            rows = conn.execute(sql.SQL(DUE).format(window=_window(windows), **ids),
                                {"retries": retries, "now": now, "limit": limit}).fetchall()
        return DueBatch([_due(r) for r in rows], Scanned(generation, windows))

    def _scanned_to(self, conn: Conn, generation: int) -> dict[Partition, int]:
        rows = conn.execute(sql.SQL(
            "SELECT topic, partition, scanned_to FROM {} WHERE generation = %s").format(
                self._ids()["scanned"]), (generation,)).fetchall()
        return by_partition(rows, "scanned_to")

    def scanned(self, scanned: Scanned) -> None:
        """Record, once a read's notifications are each marked sent or failed, how far each
        partition of its window is done: to its first row still without a delivery row, or
        to the end of the window. Later reads start there; every row before has a delivery
        row (a failed one comes back by its retry time). Other generations' marks go (a
        replay's switch)."""
        with self.store.connect() as conn, conn.cursor() as cur:
            marks = [(scanned.generation, *partition,
                      self._done_to(conn, scanned.generation, partition, start, end))
                     for partition, (start, end) in scanned.windows.items()]
            table = self._ids()["scanned"]
            cur.executemany(sql.SQL(SCANNED).format(scanned=table), marks)
            cur.execute(sql.SQL("DELETE FROM {} WHERE generation <> %s").format(table),
                        (scanned.generation,))

    def _done_to(self, conn: Conn, generation: int, partition: Partition, start: int,
                 end: int) -> int:
        """The first offset in [start, end) of the partition with a row still without a
        delivery row; `end` when there is none."""
        if start >= end:
            return start
        found = conn.execute(sql.SQL(FIRST_PENDING).format(
            from_start=_from(partition, start), end=sql.Literal(end),
            **self._ids(generation))).fetchone()
        return end if found is None else int(str(found["kafka_offset"]))

    def _upsert(self, notification_id: str, status: str, **fields: object) -> None:
        columns = ["notification_id", "status", *fields]
        values = [notification_id, status, *fields.values()]
        with self.store.connect() as conn:
            conn.execute(sql.SQL(
                "INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT (notification_id) DO UPDATE "
                "SET {u}, updated_at = now()").format(
                    t=self._ids()["delivery"], c=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                    u=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                         for c in columns[1:])),
                values)

    def forget_delivered(self, before: datetime, generation: int | None = None) -> int:
        """Delete the notification rows sent before `before` (module doc): in the active
        generation, from where the last call ended; in a `generation` a replay is building,
        all of them. Returns how many went."""
        with self.store.connect() as conn:
            live = generation is None
            if live:
                generation = self.store.active_generation(conn)
            since = self._forgotten_to(conn) if live else _EPOCH
            if since >= before:
                return 0
            ids = self._ids(generation)
            deleted = conn.execute(sql.SQL(FORGET).format(**ids),
                                   {"since": since, "before": before}).rowcount
            if live:
                conn.execute(sql.SQL(FORGOTTEN).format(**ids), (before,))
        return deleted

    def _forgotten_to(self, conn: Conn) -> datetime:
        row = conn.execute(sql.SQL("SELECT sent_before FROM {}").format(
            self._ids()["forgotten"])).fetchone()
        return _EPOCH if row is None else row["sent_before"]  # type: ignore[return-value]

    def mark_sent(self, notification_id: str, mesh_message_id: str, attempts: int) -> None:
        self._upsert(notification_id, "sent", mesh_message_id=mesh_message_id,
                     attempts=attempts, last_error=None)

    def mark_failed(self, notification_id: str, error: str, attempts: int,
                    now: datetime) -> None:
        self._upsert(notification_id, "failed", attempts=attempts, last_error=error,
                     next_attempt_at=now + backoff(attempts))

    def mark_undelivered(self, mesh_message_id: str, reason: str) -> bool:
        """An error report from MESH for a sent notification; False when none matches."""
        with self.store.connect() as conn:
            changed = conn.execute(sql.SQL(
                "UPDATE {t} SET status = 'undelivered', last_error = %s, updated_at = now() "
                "WHERE mesh_message_id = %s").format(t=self._ids()["delivery"]),
                (reason, mesh_message_id)).rowcount
        return changed > 0
