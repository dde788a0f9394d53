"""Kill -9 the relay, the projector and the MESH poller at random points while a stream of
10,000 commands arrives (8,000 LA upload records over MESH in 8 files, three of them large
enough to be prepared in forked shards, and 2,000 unscheduled queries), then let them
restart and catch up: nothing is lost, nothing is counted twice, and the views equal a clean
rebuild from offset zero."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from itertools import cycle
from pathlib import Path

import pytest

from adapters.mesh.mailbox import InboundMessage
from bench.ingest import synthetic_file
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Channel, Provenance
from streams.bootstrap import build_outbox, build_topic_schemas, build_view_store, topics_of
from streams.projection.replay import replay
from streams.settings import Settings
from streams.uploads.prepared import SHARD_FROM
from tests.builders import person
from tests.e2e.test_command_to_views import eventually
from tests.kafka_reading import read_all, read_events
from tests.mesh_helpers import la_sends, opened
from tests.services import cli_env

pytestmark = pytest.mark.e2e
# records of each file: the 2,000-record ones are prepared in forked processes (SHARD_FROM)
SIZES = (400, 2_000, 400, 400, 2_000, 400, 2_000, 400)
FILES, RECORDS, QUERIES = len(SIZES), sum(SIZES), 2_000
FIRSTS = tuple(2 * sum(SIZES[:i]) for i in range(FILES))  # candidate numbers: ~10% fail
VICTIMS = ("relay", "project", "mesh")
SEED = 20261125
STARTUP_SECONDS = 5.0  # a restarted process has installed its signal handlers by then


class Chaos:
    """The three long-running processes, each killed with SIGKILL at random moments and
    started again at once; every run's stderr goes to its own log file."""

    def __init__(self, settings: Settings, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = cli_env(settings) | env, logs
        self.kills: Counter[str] = Counter()
        self.last_start = time.monotonic()
        self.processes = {name: self._start(name) for name in VICTIMS}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{self.kills[name]}.log").open("wb")
        self.last_start = time.monotonic()
        return subprocess.Popen([sys.executable, "-m", "streams.cli.main", name], env=self.env,
                                stderr=log)

    def _run(self) -> None:
        rng = random.Random(SEED)
        victims = cycle(rng.sample(VICTIMS, len(VICTIMS)))
        while not self._stop.wait(rng.uniform(0.3, 2.0)):
            name = next(victims)
            self.processes[name].send_signal(signal.SIGKILL)
            self.processes[name].wait(30)
            self.kills[name] += 1
            self.processes[name] = self._start(name)

    def __enter__(self) -> Chaos:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)
        # SIGTERM asks a running process to stop cleanly; one still importing would just die
        time.sleep(max(0.0, self.last_start + STARTUP_SECONDS - time.monotonic()))
        for name, process in self.processes.items():
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, f"cpis {name} did not stop cleanly; see {self.logs}"


def file_numbers(index: int) -> list[NhsNumber]:
    from domain.model.nhs_number import check_digit

    candidates = (str(999010000 + FIRSTS[index] + i) for i in range(2 * SIZES[index]))
    return [NhsNumber(f"{c}{check_digit(c)}") for c in candidates
            if check_digit(c) is not None][:SIZES[index]]


def query(app: CpisApplication, nhs: NhsNumber, n: int) -> None:
    app.query(QueryRequest(nhs, person(str(n % 7)), app.clock(), f"chaos-{n}",
                           Provenance(Channel.HL7V3, f"M-{n}", asid="1")))


def stream_commands(app: CpisApplication, mesh: tuple[str, str]) -> list[str]:
    """Send the files one after another; between them, query children of files already
    applied (10,000 commands in all). Returns the MESH message ids of the files."""
    rng, sent, queried = random.Random(SEED), list[str](), 0
    for index in range(FILES):
        sent.append(la_sends(mesh, "X26LA001", f"chaos-{index + 1}.xml", synthetic_file(
            SIZES[index], sequence=index + 1, first=FIRSTS[index])))
        eventually(lambda: app.upload_ledger("X26").has_processed(sent[0]),
                   "the first file to be applied", 180)
        applied = [i for i, m in enumerate(sent) if app.upload_ledger("X26").has_processed(m)]
        for _ in range(QUERIES // FILES):
            query(app, rng.choice(file_numbers(rng.choice(applied))), queried)
            queried += 1
    return sent


def drain(mesh: tuple[str, str], mailbox_id: str) -> list[InboundMessage]:
    messages: list[InboundMessage] = []
    with opened(mesh, mailbox_id) as box:
        while ids := box.inbox():
            for message_id in ids:
                messages.append(box.retrieve(message_id))
                box.acknowledge(message_id)
    return messages


def test_killing_relay_projector_and_mesh_poller_loses_nothing_and_counts_nothing_twice(
    stream_settings: Settings, stream_app: CpisApplication, mesh: tuple[str, str],
    tmp_path: Path,
) -> None:
    assert max(SIZES) >= SHARD_FROM  # some files take the forked path
    env = {"CPIS_MESH_URL": mesh[0], "CPIS_MESH_SHARED_KEY": mesh[1],
           "CPIS_MESH_POLL_SECONDS": "1", "CPIS_UPLOAD_PROCESSES": "2"}
    build_view_store(stream_settings).setup()
    with Chaos(stream_settings, env, tmp_path) as chaos:
        sent = stream_commands(stream_app, mesh)
        eventually(lambda: all(m in stream_app.upload_ledger("X26").responses for m in sent),
                   "every file to be applied and answered", 180)
    assert all(chaos.kills[name] >= 2 for name in VICTIMS), chaos.kills
    shard_logs = [p for p in tmp_path.glob("mesh-*.log") if "shards run in 2 processes" in
                  p.read_text(errors="replace")]
    assert shard_logs, "no large file was prepared in forked shards"

    _catch_up(stream_settings, env)
    _each_command_stored_and_on_kafka_once(stream_settings, stream_app)
    _views_equal_a_replay(stream_settings)
    _each_message_delivered(mesh, chaos.kills["mesh"])


def _catch_up(stream_settings: Settings, env: dict[str, str]) -> None:
    """The victims restarted once more and left to catch up."""
    final = cli_env(stream_settings) | env
    for command in (["relay", "--until-caught-up"], ["project", "--idle-exit", "5"]):
        subprocess.run([sys.executable, "-m", "streams.cli.main", *command], env=final, check=True,
                       capture_output=True)
    outbox = build_outbox(stream_settings)
    with subprocess.Popen([sys.executable, "-m", "streams.cli.main", "mesh"], env=final,
                          stderr=subprocess.DEVNULL) as poller:
        eventually(lambda: Counter(outbox.statuses().values()) == {"sent": QUERIES},
                   "every access notification to be sent", 180)
        poller.send_signal(signal.SIGTERM)


def _each_command_stored_and_on_kafka_once(stream_settings: Settings,
                                           stream_app: CpisApplication) -> None:
    stored = Counter(n.topic for n in stream_app.recorder.select_notifications(1, 100_000))
    assert stored["cpis:PlanRegistered.v1"] == RECORDS
    assert stored["cpis:InformationAccessed.v1"] == QUERIES
    assert stored["cpis:UploadProcessed.v1"] == stored["cpis:FileResponseSent.v1"] == FILES

    # every record event exactly once, one notification per access
    topics, kafka = topics_of(stream_settings), stream_settings.kafka_bootstrap
    seen = Counter((e.originator_id, e.originator_version)
                   for topic in (*topics.record_events, topics.query_audit)
                   for _, e, _ in read_events(kafka, topic))
    assert max(seen.values()) == 1
    assert len(seen) == sum(v for k, v in stored.items() if "Upload" not in k
                            and "FileResponse" not in k)
    assert stored["cpis:EventIdClaimed.v1"] == QUERIES
    assert len(read_all(kafka, topics.la_notifications)) == QUERIES


def _views_equal_a_replay(stream_settings: Settings) -> None:
    store = build_view_store(stream_settings)
    schemas = build_topic_schemas(stream_settings)
    rebuilt = replay(store, schemas, stream_settings.kafka_bootstrap, topics_of(stream_settings),
                     switch=False).generation
    with store.views() as live, store.views(rebuilt) as clean:
        assert len(live.plans()) == RECORDS
        assert len(live.notifications()) == QUERIES
        assert live.plans() == clean.plans()
        assert live.accesses() == clean.accesses()
        assert live.notifications() == clean.notifications()


def _each_message_delivered(mesh: tuple[str, str], poller_kills: int) -> None:
    """Each FileResponse and notification delivered, resent at most once per poller kill."""
    mail = drain(mesh, "X26LA001")
    acks = Counter(m.local_id for m in mail if m.workflow_id == "CPIS_LA_UPLOAD_ACK")
    notes = Counter(m.local_id for m in mail if m.workflow_id == "CPIS_ACCESS_NOTIFICATION")
    assert len(acks) == FILES
    assert len(notes) == QUERIES
    resent = sum(acks.values()) - FILES + sum(notes.values()) - QUERIES
    assert resent <= poller_kills
