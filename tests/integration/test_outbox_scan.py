"""The notification outbox reads only what is new: each notification row keeps the Kafka
message it came from, and a complete read records the generation's committed offsets as
scanned. Nothing is skipped: not a notification committed late, not a failed one due again,
not one in a new generation (nor is a sent one sent again there)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import sql

from adapters.views.outbox import DueBatch, NotificationOutbox
from adapters.views.postgres import PostgresViewStore
from adapters.views.postgres_views import PostgresViews
from domain.model.notifications import NotificationDue
from streams.avro.codec import encode_event
from streams.avro.schemas import AvroSchemas
from streams.projection.writer import (
    Consumed,
    CountingDeadLetters,
    apply_messages,
    apply_one_by_one,
)
from streams.settings import PostgresSettings
from tests.avro_samples import sample_notification, sample_record_events
from tests.builders import plan
from tests.services import fresh_schema

TOPIC = "cpis.record.accesses"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(postgres: PostgresSettings) -> Iterator[PostgresViewStore]:
    with fresh_schema(postgres, "outbox") as schema:
        store = PostgresViewStore(postgres.conninfo(), schema)
        NotificationOutbox(store).setup()
        with store.connect() as conn:  # the plan that notifications name their LA by
            PostgresViews(conn, schema, 1).put_plan(sample_notification().nhs_number, plan(),
                                                    2, 5)
        yield store


def note(i: int) -> NotificationDue:
    return replace(sample_notification(), notification_id=f"n{i}")


def project(store: PostgresViewStore, partition: int, offsets: range,
            generation: int | None = None) -> None:
    """One notification per offset, written with the partition's next offset in one
    transaction, as the projector and the replay write them."""
    with store.connect() as conn:
        gen = generation or store.active_generation(conn)
        write(store, PostgresViews(conn, store.schema, gen), partition, offsets)


def write(store: PostgresViewStore, views: PostgresViews, partition: int,
          offsets: range) -> None:
    for offset in offsets:
        views.source = (TOPIC, partition, offset)
        views.add_notification(note(partition * 1000 + offset))
    store.save_offsets(views.conn, views.generation, {(TOPIC, partition): offsets.stop})


def ids(batch: DueBatch) -> list[str]:
    return [d.notification.notification_id for d in batch.notifications]


def send_all(outbox: NotificationOutbox, limit: int = 100) -> list[str]:
    """What a sender's read does: read, mark each sent, record the scan."""
    batch = outbox.due(NOW, limit)
    for due in batch.notifications:
        outbox.mark_sent(due.notification.notification_id, "MESH-1", 1)
    outbox.scanned(batch.scanned)
    return ids(batch)


def marks(store: PostgresViewStore) -> list[dict[str, object]]:
    with store.connect() as conn:
        return conn.execute(sql.SQL("SELECT generation, partition, scanned_to FROM {} "
                                    "ORDER BY partition").format(
            sql.Identifier(store.schema, "la_notification_scanned"))).fetchall()


def forget_deliveries(store: PostgresViewStore) -> None:
    """Remove every delivery row: whatever is read again after this, the read went there."""
    with store.connect() as conn:
        conn.execute(sql.SQL("DELETE FROM {}").format(
            sql.Identifier(store.schema, "la_notification_delivery")))


def test_a_poll_reads_only_what_came_after_the_last_scan(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 3))
    assert send_all(outbox) == ["n0", "n1", "n2"]
    forget_deliveries(store)
    project(store, 0, range(3, 5))
    assert send_all(outbox) == ["n3", "n4"]  # not n0-n2 again: they were not read
    assert send_all(outbox) == []


def test_until_the_scan_is_recorded_the_same_notifications_are_due_again(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 3))
    outbox.due(NOW, 100)  # then the sender dies before marking any
    assert ids(outbox.due(NOW, 100)) == ["n0", "n1", "n2"]


def test_the_scan_stops_at_the_first_notification_still_pending(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 3))
    batch = outbox.due(NOW, 100)
    for sent in ("n0", "n2"):  # n1 not marked (as if its send never ended)
        outbox.mark_sent(sent, "MESH-1", 1)
    outbox.scanned(batch.scanned)
    assert marks(store) == [{"generation": 1, "partition": 0, "scanned_to": 1}]
    forget_deliveries(store)
    assert send_all(outbox) == ["n1", "n2"]  # from n1 on; n0 not read again


def test_a_read_cut_short_by_its_limit_is_recorded_as_far_as_it_went(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 5))
    assert send_all(outbox, limit=2) == ["n0", "n1"]
    assert marks(store) == [{"generation": 1, "partition": 0, "scanned_to": 2}]
    forget_deliveries(store)
    assert send_all(outbox) == ["n2", "n3", "n4"]


def test_a_notification_committed_after_a_later_partition_is_still_found(
    store: PostgresViewStore,
) -> None:
    """A projector transaction for partition 0 still open while partition 1's commits and
    a poll records its scan: partition 0's offsets were not committed, so its row is read
    when it is."""
    outbox = NotificationOutbox(store)
    with store.connect() as late:
        write(store, PostgresViews(late, store.schema, 1), 0, range(0, 1))
        project(store, 1, range(0, 2))
        assert send_all(outbox) == ["n1000", "n1001"]
    assert send_all(outbox) == ["n0"]


def test_a_failed_notification_is_read_again_when_due_though_scanned(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 2))
    batch = outbox.due(NOW, 100)
    outbox.mark_failed("n0", "MESH down", 1, NOW)
    outbox.mark_sent("n1", "MESH-1", 1)
    outbox.scanned(batch.scanned)
    assert marks(store)[0]["scanned_to"] == 2  # past the failed one: it has a delivery row
    assert ids(outbox.due(NOW, 100)) == []  # within its back-off
    [again] = outbox.due(NOW + timedelta(minutes=1), 100).notifications
    assert (again.notification.notification_id, again.attempts) == ("n0", 1)


def test_a_read_lists_retries_up_to_its_limit_the_longest_waiting_first(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 3))
    send_all(outbox)
    for offset, failed_at in ((0, 2), (1, 0), (2, 1)):  # n1 waits longest, then n2, n0
        outbox.mark_failed(f"n{offset}", "MESH down", 1, NOW + timedelta(minutes=failed_at))
    assert ids(outbox.due(NOW + timedelta(hours=1), 2)) == ["n1", "n2"]


def test_a_new_generation_is_read_from_its_start_and_sends_nothing_twice(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    project(store, 0, range(0, 3))
    assert send_all(outbox) == ["n0", "n1", "n2"]
    rebuilt = store.new_generation()  # a replay: the same rows, and three more
    project(store, 0, range(0, 6), generation=rebuilt)
    store.index_generation(rebuilt)
    store.drop_generation(store.switch_to(rebuilt))
    assert send_all(outbox, limit=2) == ["n3", "n4"]  # a backlog over one read
    assert marks(store) == [{"generation": rebuilt, "partition": 0, "scanned_to": 5}]
    forget_deliveries(store)
    assert send_all(outbox) == ["n5"]  # n0-n4 walked past once, not read again


def test_a_notification_written_outside_a_stream_is_read_until_sent(
    store: PostgresViewStore,
) -> None:
    outbox = NotificationOutbox(store)
    with store.connect() as conn:
        PostgresViews(conn, store.schema, 1).add_notification(note(1))  # no source
    assert send_all(outbox) == ["n1"]
    assert send_all(outbox) == []


def test_views_made_before_notifications_had_a_source_get_it_on_setup(
    store: PostgresViewStore,
) -> None:
    table, view = (sql.Identifier(store.schema, name)
                   for name in ("g1_la_notifications", "la_notifications"))
    with store.connect() as conn:  # as such views were: no source, nor in the public view
        conn.execute(sql.SQL("DROP VIEW {}").format(view))
        conn.execute(sql.SQL("ALTER TABLE {} DROP COLUMN kafka_topic, DROP COLUMN "
                             "kafka_topic_key, DROP COLUMN kafka_partition, DROP COLUMN "
                             "kafka_offset").format(table))
        conn.execute(sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(view, table))
    store.setup()
    project(store, 0, range(0, 2))
    assert send_all(NotificationOutbox(store)) == ["n0", "n1"]
    with store.connect() as conn:
        assert conn.execute(sql.SQL("SELECT count(kafka_offset) AS n FROM {}").format(
            view)).fetchone() == {"n": 2}


def sources(views: PostgresViews) -> list[tuple[object, ...]]:
    rows = views.conn.execute(sql.SQL(
        "SELECT notification_id, kafka_topic, kafka_partition, kafka_offset FROM {} "
        "ORDER BY notification_id").format(views.table("la_notifications"))).fetchall()
    return [tuple(r.values()) for r in rows]


@pytest.mark.parametrize("path", ["batch", "one by one"])
def test_the_view_writer_keeps_each_notification_with_its_message(
    store: PostgresViewStore, path: str,
) -> None:
    event = sample_record_events()["uk.nhs.cpis.events.InformationAccessed"]
    registry = AvroSchemas()
    message = Consumed(TOPIC, 2, 41, b"key", registry.encode(*encode_event(event, 7)))
    apply = apply_messages if path == "batch" else apply_one_by_one
    with store.connect() as conn:
        views = PostgresViews(conn, store.schema, 1)
        apply(views, [message], registry, CountingDeadLetters())
        found = sources(views)
    assert [(topic, partition, offset) for _, topic, partition, offset in found] == \
        [(TOPIC, 2, 41)] * 2  # the access notifies two local authorities
