"""A broker of a three-node cluster is killed (SIGKILL) while uploads and queries stream in
and `cpis relay` and `cpis project` run: both carry on, the query service answers
throughout, every event is on Kafka once, and the views equal a replay from offset zero."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from adapters.views.postgres import PostgresViewStore
from domain.application.app import CpisApplication
from streams.avro.wire import registry_client
from streams.bootstrap import (
    build_application,
    build_topic_schemas,
    build_view_store,
    topics_of,
)
from streams.cli.schemas import register_all
from streams.kafka.admin import ensure_topics
from streams.projection.replay import replay
from streams.settings import Settings
from tests.builders import populate
from tests.e2e.test_command_to_views import eventually, running
from tests.kafka_reading import read_events

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "infra" / "kafka.sh"
ROUNDS, CHILDREN, ACCESSES = 6, 10, 2  # children a round; the broker dies after round 2


def kafka_script(*args: str) -> str:
    done = subprocess.run([str(KAFKA), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"infra/kafka.sh {' '.join(args)} failed:\n{done.stderr}"
    return done.stderr


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Three KRaft nodes of the project's own Kafka, started and stopped here."""
    kafka_script("cluster-start", "3")
    env = (ROOT / ".infra" / "kafka-cluster" / "env").read_text()
    try:
        yield env.strip().split("=", 1)[1]
    finally:
        kafka_script("cluster-stop")


@pytest.fixture
def on_cluster(stream_settings: Settings, cluster: str) -> Settings:
    settings = replace(stream_settings, kafka_bootstrap=cluster)
    ensure_topics(cluster, topics_of(settings), settings.topic_layout)
    register_all(registry_client(settings.schema_registry_url), topics_of(settings))
    return settings


def accesses(store: PostgresViewStore) -> int:
    with store.views() as views:
        return len(views.accesses())


def copies(bootstrap: str, topic: str) -> set[int]:
    partitions = AdminClient({"bootstrap.servers": bootstrap}).list_topics(
        topic, timeout=30).topics[topic].partitions
    return {len(p.replicas) for p in partitions.values()}


def test_killing_a_broker_mid_stream_loses_nothing(on_cluster: Settings) -> None:
    topics = topics_of(on_cluster)
    assert copies(on_cluster.kafka_bootstrap, topics.accesses) == {3}
    app: CpisApplication = build_application(on_cluster)
    store = build_view_store(on_cluster)
    store.setup()
    quiet = {"CPIS_LOG_LEVEL": "WARNING"}
    try:
        with running(on_cluster, "project", "--metrics-port", "0", extra=quiet), \
                running(on_cluster, "relay", "--metrics-port", "0", extra=quiet):
            for round_ in range(ROUNDS):
                if round_ == 2:  # mid-stream: once the first rounds have reached the views
                    eventually(lambda: accesses(store) > 0, "the pipeline to start")
                    kafka_script("cluster-kill", "2")
                # uploads and queries go on: the query service needs no broker
                populate(app, children=CHILDREN, accesses_each=ACCESSES,
                         start=round_ * CHILDREN * 2)  # candidates apart: no number twice

            eventually(lambda: accesses(store) == ROUNDS * CHILDREN * ACCESSES, seconds=180)
        stored = Counter(n.topic for n in app.recorder.select_notifications(1, 100_000))
    finally:
        app.close()

    seen = Counter((e.originator_id, e.originator_version)
                   for topic in (*topics.record_events, topics.query_audit)
                   for _, e, _ in read_events(on_cluster.kafka_bootstrap, topic))
    assert max(seen.values()) == 1  # nothing twice
    assert len(seen) == sum(n for kind, n in stored.items() if "Upload" not in kind)
    rebuilt = replay(store, build_topic_schemas(on_cluster), on_cluster.kafka_bootstrap,
                     topics, switch=False).generation
    with store.views() as live, store.views(rebuilt) as clean:
        assert sorted(map(repr, live.plans())) == sorted(map(repr, clean.plans()))
        assert sorted(map(repr, live.accesses())) == sorted(map(repr, clean.accesses()))
        assert len(live.notifications()) == len(clean.notifications()) \
            == ROUNDS * CHILDREN * ACCESSES
