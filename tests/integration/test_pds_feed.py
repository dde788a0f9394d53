"""The PDS identity-change feed on a real Kafka broker; merges reaching the views."""

from __future__ import annotations

from confluent_kafka import Producer

from domain.application.app import CpisApplication
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.notifications import NotificationKind
from streams.bootstrap import (
    build_projector,
    build_relay,
    build_topic_schemas,
    build_view_store,
    build_wire_format,
    topics_of,
)
from streams.pds_feed import PdsFeedFollower, publish_changes
from streams.settings import Settings
from tests.builders import LA_B, UPLOAD, plan, synthetic_nhs_numbers
from tests.kafka_reading import read_all

A, B, C = synthetic_nhs_numbers(3, start=900)


def follow(settings: Settings, app: CpisApplication) -> PdsFeedFollower:
    topics = topics_of(settings)
    follower = PdsFeedFollower(app, settings.kafka_bootstrap, build_topic_schemas(settings),
                               topics, f"{settings.topic_prefix}pds")
    follower.run(idle_timeout=3.0)
    return follower


def test_changes_on_the_feed_are_applied_once_and_bad_ones_dead_lettered(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    stream_app.upload_plan(A, plan(), UPLOAD)
    stream_app.upload_plan(C, plan(la=LA_B), UPLOAD)
    topics = topics_of(stream_settings)
    changes = [IdentityChange("F1", ChangeKind.SUPERSEDED, A, B),
               IdentityChange("F1", ChangeKind.SUPERSEDED, A, B),  # delivered twice
               IdentityChange("F2", ChangeKind.RETIRED, C),
               IdentityChange("F3", ChangeKind.RETIRED, synthetic_nhs_numbers(1, 950)[0])]
    publish_changes(stream_settings.kafka_bootstrap, build_wire_format(stream_settings), changes)
    producer = Producer({"bootstrap.servers": stream_settings.kafka_bootstrap})
    producer.produce(topics.pds_changes, key=b"x", value=b"garbage")
    producer.flush(10)

    follower = follow(stream_settings, stream_app)
    assert (follower.applied, follower.ignored) == (3, 1)
    assert [p.local_authority.ods_code for p in stream_app.current_plans(B)] == ["X26"]
    record = stream_app.find_record(C)
    assert record is not None
    assert record.inactive
    [dead] = read_all(stream_settings.kafka_bootstrap, topics.dead_letter)
    assert dict(dead.headers() or [])["cpis-dlq-reason"].startswith(b"AvroError")
    assert follow(stream_settings, stream_app).applied == 0  # offsets were committed


def test_a_merge_moves_the_views_and_queues_the_inactive_notification(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    stream_app.upload_plan(A, plan(), UPLOAD)
    stream_app.upload_plan(A, plan(la=LA_B), UPLOAD)
    publish_changes(stream_settings.kafka_bootstrap, build_wire_format(stream_settings),
                    [IdentityChange("F9", ChangeKind.SUPERSEDED, A, B)])
    follow(stream_settings, stream_app)
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    build_projector(stream_settings).run(idle_timeout=3.0)
    with build_view_store(stream_settings).views() as views:
        assert {(r.nhs_number, r.plan.local_authority.ods_code) for r in views.plans()} == {
            (B.value, "X26"), (B.value, "X27")}
        notes = [r.notification for r in views.notifications()]
    assert sorted((n.ods_code, n.kind, n.replacement) for n in notes) == [
        ("X26", NotificationKind.INACTIVE_NHS_NUMBER, B),
        ("X27", NotificationKind.INACTIVE_NHS_NUMBER, B)]
