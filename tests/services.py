"""Real services for integration tests: found from the environment, or testcontainers.

infra/test.sh starts PostgreSQL, Kafka and mesh-sandbox and exports their addresses. Where a
Docker engine is reachable and nothing is exported, testcontainers starts them instead
(tests/containers.py). Where neither, the test fails loudly with the command to run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from streams.settings import PostgresSettings, Settings, postgres_from_env
from tests.containers import (
    kafka_container,
    mesh_container,
    postgres_container,
    registry_container,
)

START_POSTGRES = "infra/postgres.sh start && . .infra/postgres/env   (or run: infra/test.sh)"


def docker_engine_reachable() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def check_postgres(settings: PostgresSettings) -> None:
    try:
        with psycopg.connect(settings.conninfo(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {settings.host}:{settings.port} "
            f"({str(error).strip()}).\nStart it with: {START_POSTGRES}",
            pytrace=False,
        )


@contextmanager
def postgres_server() -> Iterator[PostgresSettings]:
    if "CPIS_POSTGRES_PORT" in os.environ or not docker_engine_reachable():
        settings = postgres_from_env(os.environ)
        if "CPIS_POSTGRES_PORT" not in os.environ:
            pytest.fail(
                "PostgreSQL is not configured: CPIS_POSTGRES_PORT is unset and no Docker "
                f"engine is reachable.\nStart it with: {START_POSTGRES}",
                pytrace=False,
            )
        check_postgres(settings)
        yield settings
        return
    with postgres_container() as (host, port, dbname, user, password):
        yield PostgresSettings(host=host, port=port, dbname=dbname, user=user,
                               password=password)


@contextmanager
def fresh_schema(settings: PostgresSettings, prefix: str) -> Iterator[str]:
    """A new empty schema, dropped afterwards, so each test starts from nothing."""
    name = f"{prefix}_{os.urandom(4).hex()}"
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


START_KAFKA = "infra/kafka.sh start && . .infra/kafka/env   (or run: infra/test.sh)"


def check_kafka(bootstrap: str) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    except KafkaException as error:
        pytest.fail(f"Kafka is not reachable at {bootstrap} ({error}).\nStart it with: "
                    f"{START_KAFKA}", pytrace=False)


@contextmanager
def kafka_server() -> Iterator[str]:
    bootstrap = os.environ.get("CPIS_KAFKA_BOOTSTRAP", "")
    if bootstrap or not docker_engine_reachable():
        if not bootstrap:
            pytest.fail("Kafka is not configured: CPIS_KAFKA_BOOTSTRAP is unset and no Docker "
                        f"engine is reachable.\nStart it with: {START_KAFKA}", pytrace=False)
        check_kafka(bootstrap)
        yield bootstrap
        return
    with kafka_container() as started:
        yield started


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for a `cpis` subprocess using these settings."""
    pg = settings.postgres
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CPIS_EVENT_STORE": settings.event_store, "CPIS_POSTGRES_HOST": pg.host,
        "CPIS_POSTGRES_PORT": str(pg.port), "CPIS_POSTGRES_DBNAME": pg.dbname,
        "CPIS_POSTGRES_USER": pg.user, "CPIS_POSTGRES_PASSWORD": pg.password,
        "CPIS_POSTGRES_SCHEMA": pg.schema, "CPIS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CPIS_TOPIC_PREFIX": settings.topic_prefix, "CPIS_VIEWS_SCHEMA": settings.views_schema,
        "CPIS_DATA_DIR": str(settings.data_dir),
        "CPIS_SCHEMA_REGISTRY_URL": settings.schema_registry_url,
    }


START_REGISTRY = ("infra/registry.sh start && . .infra/registry/env   (or run: infra/test.sh; "
                  "with Docker: docker compose up -d registry)")


@contextmanager
def registry_server() -> Iterator[str]:
    """The schema registry's Confluent API: the exported one, else a container where a Docker
    engine is reachable; a test needing it fails, saying how to start it."""
    url = os.environ.get("CPIS_SCHEMA_REGISTRY_URL", "")
    if url or not docker_engine_reachable():
        yield registry_url()
        return
    with registry_container() as started:
        # exported for the session, as infra/test.sh exports its own: helpers reading topics
        # (tests/kafka_reading.py) look it up there
        os.environ["CPIS_SCHEMA_REGISTRY_URL"] = started
        try:
            yield started
        finally:
            del os.environ["CPIS_SCHEMA_REGISTRY_URL"]


def registry_url() -> str:
    """The exported schema registry's Confluent API; failing, with how to start it."""
    url = os.environ.get("CPIS_SCHEMA_REGISTRY_URL", "")
    if not url:
        pytest.fail("the schema registry is not configured: CPIS_SCHEMA_REGISTRY_URL is unset."
                    f"\nStart it with: {START_REGISTRY}", pytrace=False)
    return url


START_MESH = "infra/mesh.sh start && . .infra/mesh/env   (or run: infra/test.sh)"


@contextmanager
def mesh_server() -> Iterator[tuple[str, str]]:
    """(url, shared key) of a running mesh-sandbox with CP-IS's mailboxes."""
    import httpx

    url, key = os.environ.get("CPIS_MESH_URL", ""), os.environ.get("CPIS_MESH_SHARED_KEY", "")
    if not url and docker_engine_reachable():
        with mesh_container() as started:
            yield started
        return
    if not url or not key:
        pytest.fail("mesh-sandbox is not configured: CPIS_MESH_URL/CPIS_MESH_SHARED_KEY are "
                    f"unset.\nStart it with: {START_MESH}", pytrace=False)
    try:
        httpx.get(f"{url}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as error:
        pytest.fail(f"mesh-sandbox is not reachable at {url} ({error}).\nStart it with: "
                    f"{START_MESH}", pytrace=False)
    yield url, key


def reset_mesh(url: str) -> None:
    """Empty every mailbox (mesh-sandbox's test-only admin endpoint)."""
    import httpx

    httpx.delete(f"{url}/messageexchange/admin/reset", timeout=10).raise_for_status()


def restart_local_service(name: str, down_seconds: float) -> None:
    """Restart a service that infra/<name>.sh started, on the same port and data, after
    `down_seconds` down. Fails loudly where the services did not come from infra/test.sh."""
    script = Path(__file__).resolve().parent.parent / "infra" / f"{name}.sh"
    done = subprocess.run([str(script), "restart", str(down_seconds)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, (
        f"infra/{name}.sh restart failed (restart tests need the services infra/test.sh "
        f"starts):\n{done.stderr}")


START_CONNECT = "infra/connect.sh fetch && . .infra/connect/env   (or run: infra/test.sh)"


def connect_home() -> Path:
    """Where infra/connect.sh put Kafka Connect's jars; a test needing them fails, saying
    how to fetch them."""
    home = os.environ.get("CPIS_CONNECT_HOME", "")
    if not home or not (Path(home) / ".complete").is_file():
        pytest.fail(f"Kafka Connect is not fetched: CPIS_CONNECT_HOME is {home or 'unset'}."
                    f"\nFetch it with: {START_CONNECT}", pytrace=False)
    return Path(home)


START_PROMETHEUS = "infra/prometheus.sh start && . .infra/prometheus/env   (or run: infra/test.sh)"


def prometheus_server() -> tuple[str, Path]:
    """(URL, targets folder) of the local Prometheus; failing, with how to start it."""
    url = os.environ.get("CPIS_PROMETHEUS_URL", "")
    targets = os.environ.get("CPIS_PROMETHEUS_TARGETS", "")
    if not url or not targets:
        pytest.fail("Prometheus is not configured: CPIS_PROMETHEUS_URL is unset."
                    f"\nStart it with: {START_PROMETHEUS}", pytrace=False)
    return url, Path(targets)


def promtool() -> str:
    import shutil

    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed (Debian's prometheus package).\nInstall it "
                    f"with: {START_PROMETHEUS}", pytrace=False)
    return found


START_KEYCLOAK = "infra/keycloak.sh start && . .infra/keycloak/env   (or run: infra/test.sh)"
START_CHROMIUM = "infra/chromium.sh start && . .infra/chromium/env   (or run: infra/test.sh)"


def keycloak_issuer() -> tuple[str, str]:
    """(issuer, client secret) of the local Keycloak's cpis realm; failing, with how to
    start it."""
    import httpx

    issuer = os.environ.get("CPIS_OIDC_ISSUER", "")
    secret = os.environ.get("CPIS_OIDC_CLIENT_SECRET", "")
    if not issuer or not secret:
        pytest.fail("Keycloak is not configured: CPIS_OIDC_ISSUER is unset."
                    f"\nStart it with: {START_KEYCLOAK}", pytrace=False)
    try:
        httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=5).raise_for_status()
    except httpx.HTTPError as error:
        pytest.fail(f"Keycloak is not reachable at {issuer} ({error}).\nStart it with: "
                    f"{START_KEYCLOAK}", pytrace=False)
    return issuer, secret


def chromium_binary() -> str:
    """Debian's chromium, which Playwright drives (it never downloads a browser)."""
    binary = os.environ.get("CPIS_CHROMIUM", "")
    if not binary or not Path(binary).is_file():
        pytest.fail(f"chromium is not installed: CPIS_CHROMIUM is {binary or 'unset'}."
                    f"\nInstall it with: {START_CHROMIUM}", pytrace=False)
    return binary
