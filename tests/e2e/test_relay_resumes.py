"""After a PostgreSQL restart the relay publishes again within seconds of the database
answering: pooled connections are checked before use (the dead ones replaced at once), and
its retries wait a growing, jittered while of at most 2 s."""

from __future__ import annotations

import threading
import time

from domain.application.app import CpisApplication
from streams.bootstrap import build_relay
from streams.settings import Settings
from tests.builders import UPLOAD, plan, synthetic_nhs_numbers
from tests.e2e.test_command_to_views import eventually
from tests.e2e.test_service_restarts import resend_until_stored
from tests.services import restart_local_service

BOUND = 6.0  # seconds: the retry cap (2 s), a new producer and a read; it took 10-11 s when
# every pooled connection had to fail a retry of its own


def test_the_relay_publishes_again_soon_after_postgres_returns(
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
        back = time.monotonic()
        resend_until_stored(stream_app.upload_plan, second, plan(), UPLOAD)
        stored = stream_app.recorder.max_notification_id() or 0
        eventually(lambda: relay.position >= stored, "the relay to publish after the restart")
        took = time.monotonic() - back
    finally:
        stop.set()
        running.join(30)
    assert took < BOUND, f"the relay took {took:.1f} s to publish again"
