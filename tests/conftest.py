from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from domain.application.app import CpisApplication
from streams.avro.wire import registry_client
from streams.bootstrap import build_application, topics_of
from streams.cli.schemas import register_all
from streams.kafka.admin import ensure_topics
from streams.settings import PostgresSettings, Settings
from tests.builders import T0
from tests.services import (
    chromium_binary,
    connect_home,
    fresh_schema,
    kafka_server,
    keycloak_issuer,
    mesh_server,
    postgres_server,
    prometheus_server,
    promtool,
    registry_server,
    reset_mesh,
)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresSettings]:
    with postgres_server() as settings:
        yield settings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        "postgres",
    ]
)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The same application tests run on every event store."""
    if request.param != "postgres":
        yield Settings(event_store=request.param, data_dir=tmp_path)
        return
    server: PostgresSettings = request.getfixturevalue("postgres")
    with fresh_schema(server, "es") as schema:
        yield Settings(event_store="postgres", postgres=replace(server, schema=schema))


@pytest.fixture
def postgres_settings(postgres: PostgresSettings) -> Iterator[Settings]:
    """A PostgreSQL event store in a fresh schema (no Kafka)."""
    with fresh_schema(postgres, "es") as schema:
        yield Settings(event_store="postgres", postgres=replace(postgres, schema=schema))


@pytest.fixture
def app(store_settings: Settings, clock: Clock) -> Iterator[CpisApplication]:
    application = build_application(store_settings, clock=clock)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture(scope="session")
def kafka() -> Iterator[str]:
    with kafka_server() as bootstrap:
        yield bootstrap


@pytest.fixture
def stream_settings(postgres: PostgresSettings, kafka: str, schema_registry: str
                    ) -> Iterator[Settings]:
    """PostgreSQL event store and views in fresh schemas, Kafka topics with a fresh prefix,
    their schemas registered (as `cpis schemas register` does)."""
    prefix = f"t{os.urandom(4).hex()}."
    with fresh_schema(postgres, "es") as events, fresh_schema(postgres, "views") as views:
        settings = Settings(
            event_store="postgres", postgres=replace(postgres, schema=events),
            kafka_bootstrap=kafka, topic_prefix=prefix, views_schema=views,
            schema_registry_url=schema_registry,
        )
        ensure_topics(kafka, topics_of(settings))
        register_all(registry_client(schema_registry), topics_of(settings))
        yield settings


@pytest.fixture
def stream_app(stream_settings: Settings, clock: Clock) -> Iterator[CpisApplication]:
    application = build_application(stream_settings, clock=clock)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[str]:
    with registry_server() as url:
        yield url


@pytest.fixture(scope="session")
def prometheus() -> tuple[str, Path]:
    return prometheus_server()


@pytest.fixture(scope="session")
def promtool_binary() -> str:
    return promtool()


@pytest.fixture(scope="session")
def kafka_connect() -> Path:
    return connect_home()


@pytest.fixture(scope="session")
def mesh_sandbox() -> Iterator[tuple[str, str]]:
    with mesh_server() as found:
        yield found


@pytest.fixture
def mesh(mesh_sandbox: tuple[str, str]) -> tuple[str, str]:
    """mesh-sandbox with every mailbox emptied."""
    reset_mesh(mesh_sandbox[0])
    return mesh_sandbox


@pytest.fixture(scope="session")
def keycloak() -> tuple[str, str]:
    return keycloak_issuer()


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_binary()


SERVICE_FIXTURES = {"postgres": "postgres", "kafka": "kafka", "mesh_sandbox": "mesh",
                    "schema_registry": "registry", "kafka_connect": "connect",
                    "prometheus": "prometheus", "promtool_binary": "prometheus",
                    "keycloak": "keycloak", "chromium": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the real services it uses (through its fixtures, or the PostgreSQL
    case of the every-store tests), and `services` where it uses any: `pytest -m "not
    services"` is the fast loop. Tests under e2e/ are also marked e2e."""
    for item in items:
        used = {marker for fixture, marker in SERVICE_FIXTURES.items()
                if fixture in getattr(item, "fixturenames", ())}
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("store_settings") == "postgres":
            used.add("postgres")
        for marker in sorted(used):
            item.add_marker(getattr(pytest.mark, marker))
        if used:
            item.add_marker(pytest.mark.services)
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
