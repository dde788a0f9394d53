"""The suite's services as Docker containers (testcontainers), for a machine with a Docker
engine and nothing exported: the same versions infra/ starts without one.

Kafka runs Apache's own image at the version infra/kafka/pom.xml names (the scripts run that
version's jars; docker-compose.yml names the same image, checked by a test). mesh-sandbox
runs from PyPI in a Python image with CP-IS's mailboxes from infra/mesh/data, as
infra/mesh.sh runs it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_IMAGE = "postgres:15"  # Debian bookworm's PostgreSQL, which infra/postgres.sh runs
MESH_SANDBOX = "mesh-sandbox==1.0.137"  # as infra/mesh.sh installs it
MESH_SHARED_KEY = "CPISTestSharedKey"


def kafka_version() -> str:
    pom = (ROOT / "infra" / "kafka" / "pom.xml").read_text()
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    if found is None:
        raise RuntimeError("infra/kafka/pom.xml names no kafka.version")
    return found.group(1)


def kafka_image() -> str:
    return f"apache/kafka:{kafka_version()}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_container() -> Iterator[tuple[str, int, str, str, str]]:
    """(host, port, dbname, user, password) of a fresh PostgreSQL container."""
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer(POSTGRES_IMAGE, driver=None) as container:
        yield (container.get_container_host_ip(), int(container.get_exposed_port(5432)),
               container.dbname, container.username, container.password)


@contextmanager
def kafka_container() -> Iterator[str]:
    """Bootstrap address of a one-node KRaft broker. The host port is chosen first, so the
    broker can advertise the address clients reach it by."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    port = _free_port()
    container = (
        DockerContainer(kafka_image())
        .with_bind_ports(9092, port)
        .with_envs(
            KAFKA_NODE_ID="1", KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_LISTENERS="PLAINTEXT://:9092,CONTROLLER://:9093",
            KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://127.0.0.1:{port}",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_AUTO_CREATE_TOPICS_ENABLE="false")
        .waiting_for(LogMessageWaitStrategy("Kafka Server started")))
    with container:
        yield f"127.0.0.1:{port}"


@contextmanager
def mesh_container() -> Iterator[tuple[str, str]]:
    """(url, shared key) of mesh-sandbox with CP-IS's mailboxes."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    container = (
        DockerContainer("python:3.11-slim")
        .with_volume_mapping(str(ROOT / "infra" / "mesh"), "/mesh", "ro")
        .with_envs(STORE_MODE="memory", SHARED_KEY=MESH_SHARED_KEY)
        .with_command(["sh", "-c", f"pip install -q '{MESH_SANDBOX}' && "
                       "python /mesh/launch_sandbox.py 0.0.0.0 8700"])
        .with_exposed_ports(8700)
        .waiting_for(HttpWaitStrategy(8700, "/health").for_status_code(200)))
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8700)}"
        yield url, MESH_SHARED_KEY


REGISTRY_IMAGE = "apicurio/apicurio-registry:3.3.3"  # the version infra/registry.sh runs


@contextmanager
def registry_container() -> Iterator[str]:
    """The Confluent-compatible API of an Apicurio Registry (in-memory storage)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    container = (
        DockerContainer(REGISTRY_IMAGE)
        .with_exposed_ports(8080)
        .waiting_for(HttpWaitStrategy(8080, "/apis/ccompat/v7/subjects").for_status_code(200)))
    with container:
        host, port = container.get_container_host_ip(), container.get_exposed_port(8080)
        yield f"http://{host}:{port}/apis/ccompat/v7"
