"""End to end: commands -> event store -> `cpis relay` -> Kafka -> `cpis project` -> views,
with the relay and projector running as their own processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.provenance import Channel, Provenance
from streams.bootstrap import build_view_store
from streams.settings import Settings
from tests.builders import CHILD, LA_B, T0, UPLOAD, person, plan, system
from tests.services import cli_env


@contextmanager
def running(settings: Settings, *command: str, extra: dict[str, str] | None = None
            ) -> Iterator[subprocess.Popen[str]]:
    env = cli_env(settings) | (extra or {})
    process = subprocess.Popen([sys.executable, "-m", "streams.cli.main", *command], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        name = " ".join(command)
        assert process.returncode == 0, f"cpis {name} exited {process.returncode}:\n{err}"


def eventually(check: Callable[[], bool], what: str = "the views to catch up",
               seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_an_upload_and_queries_reach_all_three_views(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    store = build_view_store(stream_settings)
    store.setup()
    with running(stream_settings, "relay"), running(stream_settings, "project"):
        stream_app.upload_plan(CHILD, plan(), UPLOAD)
        stream_app.upload_plan(CHILD, plan(la=LA_B), UPLOAD)
        hl7 = Provenance(Channel.HL7V3, "MSG-9", asid="200000000001")
        stream_app.query(QueryRequest(CHILD, person(), T0, "Q-1", hl7))
        stream_app.query(QueryRequest(CHILD, system(), T0, "Q-2", hl7))

        def caught_up() -> bool:
            with store.views() as views:
                return len(views.notifications()) == 4
        eventually(caught_up)

    with store.views() as views:
        assert [(r.nhs_number, r.plan.local_authority.ods_code) for r in views.plans()] == [
            (CHILD.value, "X26"), (CHILD.value, "X27")]
        assert [r.access.access_id for r in views.accesses()] == ["Q-2", "Q-1"]
        assert sorted((r.notification.ods_code, r.notification.access.access_id)
                      for r in views.notifications() if r.notification.access) == [
            ("X26", "Q-1"), ("X26", "Q-2"), ("X27", "Q-1"), ("X27", "Q-2")]
