"""A real Prometheus scrapes the relay and the projector as they work: relay lag, projector
lag and the LA notifications pending read back from Prometheus's own HTTP API, while the
pipeline runs and after it catches up."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from domain.application.app import CpisApplication
from streams.settings import Settings
from tests.builders import populate
from tests.e2e.test_command_to_views import running

CHILDREN, ACCESSES = 150, 3  # 1,200 events: seconds of work at one event a transaction


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def query(url: str, promql: str) -> float | None:
    """The single value of an instant query, None while Prometheus has none."""
    address = f"{url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    with urllib.request.urlopen(address, timeout=5) as answer:  # noqa: S310 - loopback
        result = json.load(answer)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def watch_until(url: str, promql: str, done: Callable[[float], bool], seconds: float = 90.0,
                after_a_positive: bool = False) -> list[float]:
    """Every value Prometheus gives for `promql`, twice a second, until one is `done` (and,
    with `after_a_positive`, comes after a value above 0: a gauge may read 0 before its
    process has measured anything)."""
    seen: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = query(url, promql)
        if value is not None:
            seen.append(value)
            if done(value) and (not after_a_positive or max(seen) > 0):
                return seen
        time.sleep(0.5)
    raise AssertionError(f"{promql} never reached its end; seen {seen[-10:]}")


def test_prometheus_reads_relay_lag_projector_lag_and_pending_notifications(
    stream_settings: Settings, stream_app: CpisApplication, prometheus: tuple[str, Path],
) -> None:
    url, targets = prometheus
    populate(stream_app, children=CHILDREN, accesses_each=ACCESSES)
    stored = stream_app.recorder.max_notification_id() or 0
    relay_port, projector_port = free_port(), free_port()
    label = stream_settings.topic_prefix.rstrip(".")
    target_file = targets / f"{label}.json"
    target_file.write_text(json.dumps([{"targets": [f"127.0.0.1:{relay_port}",
                                                    f"127.0.0.1:{projector_port}"],
                                        "labels": {"run": label}}]))
    by_run = f'{{run="{label}"}}'
    try:
        # one event a transaction, one message a batch: slow enough for lag to be seen; a
        # line a transaction would fill the stderr pipe read only at the end. The projector
        # starts once the relay has published everything, so it starts behind: run beside
        # the relay it can keep up, and its lag be 0 at every scrape
        quiet = {"CPIS_LOG_LEVEL": "WARNING"}
        with running(stream_settings, "relay", "--metrics-port", str(relay_port),
                     "--transaction-events", "1", extra=quiet):
            relay_lag = watch_until(url, f"cpis_relay_lag_events{by_run}", lambda v: v == 0)
            with running(stream_settings, "project", "--metrics-port", str(projector_port),
                         "--batch-size", "1", extra=quiet):
                projector_lag = watch_until(
                    url, f"sum(cpis_projector_lag_messages{by_run})", lambda v: v == 0,
                    after_a_positive=True)
                pending = watch_until(url, f'cpis_outbox_notifications{{run="{label}",'
                                      'state="pending"}', lambda v: v == CHILDREN * ACCESSES)
                ready = query(url, f"min(cpis_ready{by_run})")
    finally:
        target_file.unlink()
    assert max(relay_lag) > 0, "the relay's lag was never seen while it worked"
    assert max(relay_lag) <= stored
    assert max(projector_lag) > 0, "the projector's lag was never seen while it worked"
    assert pending[-1] == CHILDREN * ACCESSES  # nothing sends them: every one pending
    assert ready == 1
