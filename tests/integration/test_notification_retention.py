"""Sent LA notifications leave the la_notifications view after the retention period; failed
ones stay; nothing is sent again; a replay ends with the same rows as the live views."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg import sql

from adapters.views.outbox import NotificationOutbox
from domain.application.app import CpisApplication
from domain.application.store import utc_now
from streams.bootstrap import (
    build_projector,
    build_relay,
    build_topic_schemas,
    build_view_store,
    topics_of,
)
from streams.projection.replay import replay
from streams.settings import Settings
from tests.builders import populate

RETENTION = timedelta(days=30)


def backdate_sending(settings: Settings, ids: list[str], days: int) -> None:
    """As if these notifications were sent `days` ago."""
    with psycopg.connect(settings.postgres.conninfo()) as conn:
        conn.execute(sql.SQL("UPDATE {} SET updated_at = now() - %s * interval '1 day' "
                             "WHERE notification_id = ANY(%s)").format(
            sql.Identifier(settings.views_schema, "la_notification_delivery")), (days, ids))


def test_sent_notifications_leave_the_view_after_the_retention_and_a_replay_agrees(
        stream_settings: Settings, stream_app: CpisApplication) -> None:
    populate(stream_app, children=4, accesses_each=2)
    build_relay(stream_settings, stream_app).run(until_caught_up=True)
    build_projector(stream_settings, batch_size=50).run(idle_timeout=3.0)
    store = build_view_store(stream_settings)
    outbox = NotificationOutbox(store)
    outbox.setup()
    ids = sorted(n.notification.notification_id for n in outbox.due(utc_now()).notifications)
    assert len(ids) == 8
    old_sent, new_sent, old_failed = ids[:3], ids[3:5], ids[5:6]
    for n in old_sent + new_sent:
        outbox.mark_sent(n, f"MESH-{n}", 1)
    outbox.mark_failed(old_failed[0], "MESH away", 1, utc_now())
    backdate_sending(stream_settings, old_sent + old_failed, days=31)
    backdate_sending(stream_settings, new_sent, days=29)

    cutoff = utc_now() - RETENTION
    assert outbox.forget_delivered(cutoff) == 3
    assert outbox.forget_delivered(cutoff) == 0  # from where the last ended
    with store.views() as live:
        kept = live.notifications()
    assert sorted(r.notification.notification_id for r in kept) == sorted(
        set(ids) - set(old_sent))
    assert outbox.due(utc_now() + timedelta(days=1)).notifications != []
    assert old_sent[0] not in {d.notification.notification_id
                               for d in outbox.due(utc_now()).notifications}
    assert outbox.statuses()[old_sent[0]] == "sent"  # the delivery row stays: never resent

    replay(store, build_topic_schemas(stream_settings), stream_settings.kafka_bootstrap,
           topics_of(stream_settings), forget_sent_before=cutoff)
    with store.views() as rebuilt:
        assert rebuilt.notifications() == kept
