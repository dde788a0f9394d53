"""The Kafka broker, then PostgreSQL, restart while commands stream in and `cpis relay` and
`cpis project` run: both carry on by themselves, nothing is lost and nothing is counted
twice. Commands a client saw fail while PostgreSQL was down are resent, as a client would
(the same access id, so a resend that had in fact been stored is recorded once)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from streams.bootstrap import build_view_store, topics_of
from streams.settings import Settings
from tests.builders import T0, UPLOAD, person, plan, synthetic_nhs_numbers
from tests.e2e.test_command_to_views import eventually
from tests.kafka_reading import read_events
from tests.services import cli_env, restart_local_service

pytestmark = pytest.mark.e2e
CHILDREN = 300  # an upload and a query each: 600 commands
RESTARTS = {100: "kafka", 200: "postgres"}  # after this many children, restart that service


def resend_until_stored(command: object, *args: object) -> None:
    """What a client does with a command that failed because the store was away."""
    deadline = time.monotonic() + 120
    while True:
        try:
            command(*args)  # type: ignore[operator]
            return
        except (PersistenceError, psycopg.OperationalError):
            assert time.monotonic() < deadline, "the event store did not come back"
            time.sleep(0.5)


def one_child(app: CpisApplication, nhs: NhsNumber, n: int) -> None:
    resend_until_stored(app.upload_plan, nhs, plan(), UPLOAD)
    resend_until_stored(app.query, QueryRequest(nhs, person(), T0, f"restart-{n}",
                                                Provenance(Channel.HL7V3, f"M-{n}", asid="1")))


def start(settings: Settings, command: str, logs: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "streams.cli.main", command],
                            env=cli_env(settings), stderr=(logs / f"{command}.log").open("wb"))


def test_relay_and_projector_ride_out_kafka_and_postgres_restarts(
    stream_settings: Settings, stream_app: CpisApplication, tmp_path: Path,
) -> None:
    store = build_view_store(stream_settings)
    store.setup()
    processes = [start(stream_settings, c, tmp_path) for c in ("relay", "project")]
    try:
        for n, nhs in enumerate(synthetic_nhs_numbers(CHILDREN, start=500_000)):
            if n in RESTARTS:
                restart_local_service(RESTARTS[n], down_seconds=3)
            one_child(stream_app, nhs, n)

        def caught_up() -> bool:
            try:
                with store.views() as views:
                    return len(views.plans()) == len(views.notifications()) == CHILDREN
            except psycopg.OperationalError:
                return False
        eventually(caught_up, "the views to hold every child's plan and notification", 180)
        for process, name in zip(processes, ("relay", "project"), strict=True):
            assert process.poll() is None, f"cpis {name} exited; see {tmp_path / name}.log"
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, f"cpis {name} did not stop cleanly; see {tmp_path}"
    finally:  # a failure above must not leave them running into the next tests
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    stored = Counter(n.topic for n in stream_app.recorder.select_notifications(1, 10_000))
    assert stored["cpis:PlanRegistered.v1"] == stored["cpis:InformationAccessed.v1"] == CHILDREN
    topics, kafka = topics_of(stream_settings), stream_settings.kafka_bootstrap
    seen = Counter((e.originator_id, e.originator_version)
                   for topic in (*topics.record_events, topics.query_audit)
                   for _, e, _ in read_events(kafka, topic))
    assert max(seen.values()) == 1
    assert len(seen) == sum(stored.values())
    with store.views() as views:
        assert len(views.accesses()) == CHILDREN
