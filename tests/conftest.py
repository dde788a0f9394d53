from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from domain.application import CpisApplication
from streams.bootstrap import build_application
from streams.settings import PostgresSettings, Settings
from tests.builders import T0
from tests.services import fresh_schema, postgres_server


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
        pytest.param("postgres", marks=pytest.mark.integration),
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
def app(store_settings: Settings, clock: Clock) -> Iterator[CpisApplication]:
    application = build_application(store_settings, clock=clock)
    try:
        yield application
    finally:
        application.close()
