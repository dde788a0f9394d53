"""The event store's pool waits a flat ~0.2 s between tries, not psycopg_pool's doubling
1, 2, 4, 8... s, so a command is back within about a second of a PostgreSQL restart
(measured by bench/resume.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg_pool.base import AttemptWithBackoff

from adapters.event_store.pool_waits import FLAT_WAIT_SECONDS
from adapters.event_store.postgres_recorder import CommitOrderedRecorder


class Unconnected:
    """What a recorder reads of its datastore as it is made; no server behind it."""
    schema, lock_timeout, originator_id_type, get_connection = "cpis", 5, "uuid", None

    def __init__(self) -> None:
        self.db_type_names: set[str] = set()

    def register_type_adapters(self) -> None:
        """Nothing to register without a server."""


@pytest.fixture
def library_waits() -> Iterator[None]:
    """psycopg_pool's own waits while the test runs, whatever the process had set."""
    saved = AttemptWithBackoff.INITIAL_DELAY, AttemptWithBackoff.DELAY_BACKOFF
    AttemptWithBackoff.INITIAL_DELAY, AttemptWithBackoff.DELAY_BACKOFF = 1.0, 2.0
    yield
    AttemptWithBackoff.INITIAL_DELAY, AttemptWithBackoff.DELAY_BACKOFF = saved


def waits(tries: int) -> list[float]:
    attempt = AttemptWithBackoff(timeout=600.0)
    delays = []
    for _ in range(tries):
        attempt.update_delay(0.0)
        delays.append(attempt.delay)
    return delays


@pytest.mark.usefixtures("library_waits")
def test_the_library_alone_doubles_its_wait() -> None:
    assert waits(6)[-1] > 20


@pytest.mark.usefixtures("library_waits")
def test_an_event_store_recorder_makes_every_wait_flat_and_short() -> None:
    CommitOrderedRecorder(Unconnected())  # type: ignore[arg-type]
    assert max(waits(20)) <= FLAT_WAIT_SECONDS * 1.1
