"""After a PostgreSQL restart under a running relay, it publishes again by itself. How soon
is speed, measured by bench/resume.py: pooled connections are checked before use
(tests/unit/test_settings.py), the pool waits a flat ~0.2 s between tries
(tests/unit/test_pool_waits.py) and the relay's waits are capped at 2 s
(tests/unit/test_relay_retries.py)."""

from __future__ import annotations

import threading

from domain.application.app import CpisApplication
from streams.bootstrap import build_relay
from streams.settings import Settings
from tests.builders import UPLOAD, plan, synthetic_nhs_numbers
from tests.e2e.test_command_to_views import eventually
from tests.e2e.test_service_restarts import resend_until_stored
from tests.services import restart_local_service


def test_the_relay_publishes_again_after_postgres_restarts(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    first, second = synthetic_nhs_numbers(2, start=600)
    stream_app.upload_plan(first, plan(), UPLOAD)
    relay = build_relay(stream_settings, stream_app)
    stop = threading.Event()
    running = threading.Thread(target=relay.run, kwargs={"stop": stop.is_set}, daemon=True)
    running.start()
    try:
        stored = stream_app.recorder.max_notification_id() or 0
        eventually(lambda: relay.position >= stored, "the relay to publish the first plan")
        restart_local_service("postgres", down_seconds=3)  # back when this returns
        resend_until_stored(stream_app.upload_plan, second, plan(), UPLOAD)
        stored = stream_app.recorder.max_notification_id() or 0
        eventually(lambda: relay.position >= stored, "the relay to publish after the restart")
    finally:
        stop.set()
        running.join(30)
    assert not running.is_alive()
