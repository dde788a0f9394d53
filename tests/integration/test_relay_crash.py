"""Kill -9 the relay mid-stream, again and again; a read_committed consumer still sees each
event exactly once, in order per NHS number."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter, defaultdict

from domain.application.app import CpisApplication
from streams.bootstrap import topics_of
from streams.settings import Settings
from tests.builders import populate
from tests.kafka_reading import read_events
from tests.services import cli_env

# events a run has published (as it logs) when its kill -9 lands, mid-way through the next
# transaction (of two reads of 9 events)
KILL_AFTER = (45, 180, 270)


def start_relay(settings: Settings, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli.main", "relay", "--batch-size", "9",
         "--transaction-events", "18", *extra],
        env=cli_env(settings), stderr=subprocess.PIPE, text=True,
    )


def kill_when_published(relay: subprocess.Popen[str], count: int) -> int:
    """Read the relay's progress lines; SIGKILL it once it has published `count`."""
    assert relay.stderr is not None
    for line in relay.stderr:
        if "relay published" in line and int(line.split("relay published ")[1].split()[0]) >= count:
            relay.send_signal(signal.SIGKILL)
            relay.wait(30)
            return count
    raise AssertionError(f"relay ended before publishing {count} events (rc={relay.wait()})")


def test_relay_killed_mid_stream_publishes_each_event_exactly_once(
    stream_settings: Settings, stream_app: CpisApplication
) -> None:
    populate(stream_app, children=150, accesses_each=4)  # 900 record events, 600 claims
    for count in KILL_AFTER:
        kill_when_published(start_relay(stream_settings), count)
    final = start_relay(stream_settings, "--until-caught-up")
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    published_by_final_run = int(err.split("relay published ")[-1].split()[0])
    assert 0 < published_by_final_run <= 1500 - sum(KILL_AFTER)

    topics, kafka = topics_of(stream_settings), stream_settings.kafka_bootstrap
    seen = [item for topic in topics.record_events for item in read_events(kafka, topic)]
    ids = Counter((e.originator_id, e.originator_version) for _, e, _ in seen)
    assert len(ids) == 900
    assert max(ids.values()) == 1
    by_key: dict[str, list[int]] = defaultdict(list)
    for key, event, _ in read_events(kafka, topics.accesses):
        by_key[key].append(event.originator_version)
    assert all(versions == sorted(versions) for versions in by_key.values())
