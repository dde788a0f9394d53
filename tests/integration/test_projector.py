"""Projector and replay against a real Kafka broker and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import psycopg
import pytest
from confluent_kafka import Consumer, Producer
from psycopg import sql

from adapters.views.postgres import PostgresViewStore
from domain.application.app import CpisApplication
from domain.model.plans import PlanType
from streams.bootstrap import (
    build_projector,
    build_relay,
    build_topic_schemas,
    build_view_store,
    topics_of,
)
from streams.projection.replay import ReplayJob, ReplayStoppedError, replay, run_workers
from streams.settings import Settings
from tests.builders import CHILD, LA_B, UPLOAD, plan, populate, synthetic_nhs_numbers
from tests.e2e.test_command_to_views import eventually
from tests.kafka_reading import read_all


def relay_and_project(settings: Settings, app: CpisApplication) -> None:
    build_relay(settings, app).run(until_caught_up=True)
    build_projector(settings, batch_size=50).run(idle_timeout=3.0)


def projected(settings: Settings, app: CpisApplication, children: int, accesses_each: int
              ) -> PostgresViewStore:
    """The view store, once `populate`'s records are relayed and projected."""
    populate(app, children=children, accesses_each=accesses_each)
    relay_and_project(settings, app)
    return build_view_store(settings)


def test_projector_builds_the_three_views(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    numbers = populate(stream_app, children=4, accesses_each=3)
    stream_app.upload_plan(numbers[0], plan(PlanType.LOOKED_AFTER_CHILD, la=LA_B), UPLOAD)
    stream_app.end_plan(numbers[1], "X26", PlanType.CHILD_PROTECTION_PLAN,
                        datetime(2026, 3, 1, 9, 0), UPLOAD)
    relay_and_project(stream_settings, stream_app)
    with build_view_store(stream_settings).views() as views:
        plans = views.plans()
        assert len(plans) == 5
        ended = [r for r in plans if r.nhs_number == numbers[1].value]
        assert ended[0].plan.dates.end == datetime(2026, 3, 1, 9, 0)
        assert len(views.accesses()) == 12
        notifications = views.notifications()
    # numbers[0] had 3 accesses before its second LA registered: one LA notified each time
    assert len(notifications) == 12
    assert {n.status for n in notifications} == {"pending"}


def test_access_history_view_keeps_the_25_newest(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=1, accesses_each=30)
    relay_and_project(stream_settings, stream_app)
    with build_view_store(stream_settings).views() as views:
        kept = views.accesses()
    assert len(kept) == 25
    assert kept[0].access.access_id.endswith("-29")
    assert kept[-1].access.access_id.endswith("-5")


def test_offsets_are_stored_with_the_views_so_a_restart_applies_nothing_twice(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=3, accesses_each=2)
    relay_and_project(stream_settings, stream_app)
    assert build_projector(stream_settings).run(idle_timeout=3.0) == 0
    store = build_view_store(stream_settings)
    with store.connect() as conn:
        offsets = store.offsets(conn, store.active_generation(conn))
    assert sum(offsets.values()) >= 12
    with store.views() as views:
        assert len(views.notifications()) == 6


def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    topics = topics_of(stream_settings)
    producer = Producer({"bootstrap.servers": stream_settings.kafka_bootstrap})
    producer.produce(topics.accesses, key=CHILD.value.encode(), value=b"\xc3\x01not-avro!!")
    producer.produce(topics.accesses, key=CHILD.value.encode(), value=b"plain text")
    producer.produce(topics.accesses, key=CHILD.value.encode(),  # an id nobody registered
                     value=b"\x00\x7f\xff\xff\xff\x02")
    producer.flush(10)
    populate(stream_app, children=2, accesses_each=1)
    relay_and_project(stream_settings, stream_app)

    dead = read_all(stream_settings.kafka_bootstrap, topics.dead_letter)
    reasons = sorted(dict(m.headers() or [])["cpis-dlq-reason"].decode() for m in dead)
    assert reasons == [
        "AvroError: neither Confluent's wire format (byte 0, a schema id) nor Avro "
        "single-object encoding (C3 01, a fingerprint)",
        "AvroError: unknown Avro schema fingerprint 6f7276612d746f6e",  # "not-avro"
        "AvroError: unknown schema id 2147483647: the schema registry has none",
    ]
    assert {dict(m.headers() or [])["cpis-dlq-topic"].decode() for m in dead} == {
        topics.accesses}
    with build_view_store(stream_settings).views() as views:
        assert len(views.accesses()) == 2


@pytest.mark.parametrize("workers", [1, 3])
def test_replay_rebuilds_views_equal_to_the_live_ones_and_switches(
    stream_settings: Settings, stream_app: CpisApplication, workers: int
) -> None:
    numbers = populate(stream_app, children=6, accesses_each=4)
    stream_app.end_plan(numbers[1], "X26", PlanType.CHILD_PROTECTION_PLAN,
                        datetime(2026, 3, 1, 9, 0), UPLOAD)
    stream_app.mark_inactive(numbers[3], UPLOAD)
    relay_and_project(stream_settings, stream_app)
    store = build_view_store(stream_settings)
    with store.views() as live:
        before = (live.plans(), live.accesses(), live.notifications(), live.generation)

    report = replay(store, build_topic_schemas(stream_settings), stream_settings.kafka_bootstrap,
                    topics_of(stream_settings), batch_size=16, workers=workers)
    assert report.workers == workers
    assert report.messages == 6 * (2 + 4) + 2  # opened, registered, 4 accesses; end; inactive
    assert report.previous_generation == before[3]
    with store.views() as rebuilt:
        assert rebuilt.generation == report.generation != before[3]
        assert (rebuilt.plans(), rebuilt.accesses(), rebuilt.notifications()) == before[:3]
    with psycopg.connect(stream_settings.postgres.conninfo()) as conn:
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(stream_settings.views_schema, "current_plans"))).fetchone()
    assert count == (5,)  # six children, one retired: its plan leaves the view


@pytest.mark.parametrize("workers", [1, 3])
def test_a_replay_keeps_the_25_newest_accesses_over_many_batches(
    stream_settings: Settings, stream_app: CpisApplication, workers: int
) -> None:
    store = projected(stream_settings, stream_app, children=2, accesses_each=30)
    with store.views() as live:
        before = live.accesses()
    assert len(before) == 50
    replay(store, build_topic_schemas(stream_settings), stream_settings.kafka_bootstrap,
           topics_of(stream_settings), batch_size=7, workers=workers)
    with store.views() as rebuilt:
        assert rebuilt.accesses() == before


def test_a_failed_replay_worker_fails_the_replay_loudly(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=3, accesses_each=0)
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    store = build_view_store(stream_settings)
    store.setup()
    plans = topics_of(stream_settings).plans  # a generation with no tables: the worker fails
    missing = ReplayJob(store.conninfo, store.schema, 999_999, stream_settings.kafka_bootstrap,
                        tuple((plans, p) for p in range(3)), 10)
    with pytest.raises(RuntimeError, match="replay worker cpis-replay-0 failed"):
        run_workers([missing], None)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_stopped_replay_drops_its_generation_and_leaves_the_views_as_they_were(
    stream_settings: Settings, stream_app: CpisApplication, workers: int
) -> None:
    store = projected(stream_settings, stream_app, children=3, accesses_each=1)
    with store.views() as live:
        before = (live.generation, live.plans(), live.accesses())
    with pytest.raises(ReplayStoppedError):
        replay(store, build_topic_schemas(stream_settings), stream_settings.kafka_bootstrap,
               topics_of(stream_settings), workers=workers, stop=lambda: True)
    with store.views() as after:
        assert (after.generation, after.plans(), after.accesses()) == before
    with psycopg.connect(stream_settings.postgres.conninfo()) as conn:
        left = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s AND "
                            "tablename LIKE %s", (stream_settings.views_schema,
                                                  f"g{before[0] + 1}_%")).fetchone()
    assert left == (0,)


def test_the_live_projector_carries_on_in_the_replayed_generation(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=2, accesses_each=1)
    relay_and_project(stream_settings, stream_app)
    store = build_view_store(stream_settings)
    replay(store, build_topic_schemas(stream_settings), stream_settings.kafka_bootstrap,
           topics_of(stream_settings))
    populate(stream_app, children=3, accesses_each=2)  # one more child, more accesses
    relay_and_project(stream_settings, stream_app)
    with store.views() as views:
        assert len(views.plans()) == 3
        assert len(views.accesses()) == 3 * 2


def test_a_projector_fenced_by_its_own_instance_id_joins_again_and_carries_on(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    """Static membership: a member with the projector's instance id fences it (as a broker
    restart can), a fatal consumer error; the projector joins again with a new consumer."""
    populate(stream_app, children=2, accesses_each=1)
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    build_view_store(stream_settings).setup()
    projector = build_projector(stream_settings, batch_size=50)
    stop = threading.Event()
    running = threading.Thread(target=projector.run, kwargs={"stop": stop.is_set})
    running.start()
    try:
        eventually(lambda: plans_in_views(stream_settings) == 2, "the first plans", 60)
        impostor = Consumer({"bootstrap.servers": stream_settings.kafka_bootstrap,
                             "group.id": projector.config.group_id,
                             "group.instance.id": projector.config.instance_id,
                             "session.timeout.ms": 10_000})
        impostor.subscribe(list(topics_of(stream_settings).record_events))
        eventually(lambda: bool(impostor.poll(0.5) or impostor.assignment()),
                   "the impostor to take the partitions", 60)
        time.sleep(6)  # two heartbeats: the projector's next one is answered "fenced"
        impostor.close()
        for nhs in synthetic_nhs_numbers(3, start=1_000):
            stream_app.upload_plan(nhs, plan(), UPLOAD)
        build_relay(stream_settings, stream_app).run(until_caught_up=True)
        eventually(lambda: plans_in_views(stream_settings) == 5, "the later plans", 90)
    finally:
        stop.set()
        running.join(30)
    assert not running.is_alive()


def plans_in_views(settings: Settings) -> int:
    with build_view_store(settings).views() as views:
        return len(views.plans())


def test_a_merge_over_a_deleted_plan_shows_the_live_plan_in_the_views_and_after_a_replay(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    """A holds a live CPP from X26, B a deleted CPP from X26: after the merge B's row is A's
    live plan, projected live and rebuilt from offset zero alike."""
    from domain.model.plans import Plan, PlanDates
    from domain.model.provenance import Channel, Provenance

    a, b = synthetic_nhs_numbers(2, start=950)
    live = plan()
    deleted = Plan(live.plan_type, live.local_authority,
                   PlanDates(datetime(2024, 1, 1, 9, 0), delete=datetime(2026, 1, 1, 0, 0)),
                   live.subject)
    stream_app.upload_plan(a, live, UPLOAD)
    stream_app.upload_plan(b, deleted, UPLOAD)
    stream_app.merge(a, b, Provenance(Channel.PDS, "PDS-9"))
    relay_and_project(stream_settings, stream_app)
    store = build_view_store(stream_settings)
    rebuilt = replay(store, build_topic_schemas(stream_settings), stream_settings.kafka_bootstrap,
                     topics_of(stream_settings)).generation
    for generation in (None, rebuilt):
        with store.views(generation) as views:
            [row] = [r for r in views.plans() if r.nhs_number == b.value]
            assert row.plan == live
    assert [p.start for p in stream_app.current_plans(b)] == [live.dates.start]
