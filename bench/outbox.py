"""Outbox read: how long the notification sender's read of what is due takes once many
notifications were sent, 100 new ones queued (`NotificationOutbox.due`, one read as a poll
makes it). Baseline, same run: plain psycopg reading the same 100 rows by their primary keys
(the least any read of them costs). The JSON also gives the naive anti-join (every
notification ever queued joined with its delivery row), to show what the scan position saves."""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import median

from psycopg import sql

from adapters.views.outbox import NotificationOutbox
from adapters.views.pg_rows import topic_key
from bench.common import Result, fresh_schemas, timed
from streams.bootstrap import build_view_store
from streams.settings import Settings

NEW, PARTITIONS, READS = 100, 3, 9
TOPIC = "bench.record.accesses"
ROWS = """
INSERT INTO {notifications} (notification_id, kind, ods_code, nhs_number, record_id,
  version, occurred_at, kafka_topic, kafka_topic_key, kafka_partition, kafka_offset)
SELECT %(prefix)s || i, 'ACCESS', 'X26', '9990000018', gen_random_uuid(), 1, now(),
  %(topic)s, %(key)s, i %% %(partitions)s, %(first)s + i / %(partitions)s
FROM generate_series(0, %(count)s - 1) i
"""
ANTI_JOIN = """
SELECT n.*, coalesce(d.attempts, 0) AS attempts FROM {notifications} n
LEFT JOIN {delivery} d USING (notification_id)
WHERE d.notification_id IS NULL OR (d.status = 'failed' AND d.next_attempt_at <= %s)
ORDER BY n.created_at, n.notification_id LIMIT 500
"""


def run(settings: Settings, sent: int = 1_000_000) -> Result:
    with fresh_schemas(settings) as bench:
        outbox = NotificationOutbox(build_view_store(bench))
        outbox.setup()
        names = fill(outbox, sent)
        now = datetime.now(UTC)
        due = [timed(lambda: check(len(outbox.due(now, 500).notifications)))
               for _ in range(READS)]
        by_key = [timed(lambda: read_by_key(outbox, names)) for _ in range(READS)]
        anti_join = [timed(lambda: check(read_anti_join(outbox, names, now)))
                     for _ in range(READS)]
    value, baseline = median(due) * 1000, median(by_key) * 1000
    return Result(f"outbox read, {sent:,} sent and {NEW} new", "ms a read", value, baseline,
                  f"plain psycopg read of the {NEW} rows by primary key", "-", None,
                  {"sent": sent, "new": NEW, "reads": READS,
                   "due_ms": [round(t * 1000, 2) for t in due],
                   "by_key_ms": [round(t * 1000, 2) for t in by_key],
                   "anti_join_ms": [round(t * 1000, 2) for t in anti_join],
                   "anti_join_median_ms": round(median(anti_join) * 1000, 2)})


def check(found: int) -> None:
    if found != NEW:
        raise RuntimeError(f"outbox bench: {found} due, {NEW} expected")


def fill(outbox: NotificationOutbox, sent: int) -> dict[str, sql.Composable]:
    """`sent` notifications sent and scanned, then NEW more on the same partitions."""
    store, names = outbox.store, outbox._ids(1)
    scanned_to = -(-sent // PARTITIONS)
    with store.connect() as conn:
        insert = sql.SQL(ROWS).format(**names)
        rows = {"topic": TOPIC, "key": topic_key(TOPIC), "partitions": PARTITIONS}
        conn.execute(insert, rows | {"prefix": "sent-", "first": 0, "count": sent})
        conn.execute(sql.SQL("INSERT INTO {delivery} (notification_id, status, attempts) "
                             "SELECT notification_id, 'sent', 1 FROM {notifications}")
                     .format(**names))
        conn.execute(insert, rows | {"prefix": "new-", "first": scanned_to, "count": NEW})
        for partition in range(PARTITIONS):
            conn.execute(sql.SQL("INSERT INTO {offsets} VALUES (%s, %s, %s)").format(**names),
                         (TOPIC, partition, scanned_to + NEW))
            conn.execute(sql.SQL("INSERT INTO {scanned} VALUES (1, %s, %s, %s)").format(**names),
                         (TOPIC, partition, scanned_to))
    with store.connect() as conn:
        conn.autocommit = True
        for table in ("notifications", "delivery"):
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(names[table]))
    return names


def read_by_key(outbox: NotificationOutbox, names: dict[str, sql.Composable]) -> None:
    keys = [f"new-{i}" for i in range(NEW)]
    with outbox.store.connect() as conn:
        found = conn.execute(sql.SQL(
            "SELECT * FROM {notifications} WHERE notification_id = ANY(%s)").format(**names),
            (keys,)).fetchall()
    check(len(found))


def read_anti_join(outbox: NotificationOutbox, names: dict[str, sql.Composable],
                   now: datetime) -> int:
    with outbox.store.connect() as conn:
        return len(conn.execute(sql.SQL(ANTI_JOIN).format(**names), (now,)).fetchall())
