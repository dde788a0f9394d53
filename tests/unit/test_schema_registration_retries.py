"""`cpis schemas register` tries again when the registry fails on its own side (a 5xx, as
Apicurio answers while its database restarts), and stops at once when it refuses."""

from __future__ import annotations

import pytest
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streams.cli import schemas
from streams.cli.schemas import register_all
from streams.kafka.topics import Topics


class Flaky:
    """A registry client failing its first `failures` calls with `status`."""

    def __init__(self, failures: int, status: int) -> None:
        self.failures, self.status = failures, status
        self.registered: list[str] = []

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise SchemaRegistryError(self.status, -1, "failed")

    def set_compatibility(self, subject: str, level: str) -> None:
        self._maybe_fail()

    def register_schema(self, subject: str, schema: object) -> int:
        self._maybe_fail()
        self.registered.append(subject)
        return len(self.registered)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "wait_random_exponential", lambda **_: lambda _s: 0)


def test_a_registry_failing_on_its_side_is_asked_again() -> None:
    client = Flaky(failures=3, status=500)
    register_all(client, Topics(""))  # type: ignore[arg-type]
    assert client.registered  # every subject, despite the failures
    assert client.failures == 0


def test_a_refusal_is_not_asked_again() -> None:
    client = Flaky(failures=1, status=409)
    with pytest.raises(SchemaRegistryError):
        register_all(client, Topics(""))  # type: ignore[arg-type]


def test_a_registry_that_keeps_failing_is_given_up_on() -> None:
    client = Flaky(failures=10_000, status=503)
    with pytest.raises(SchemaRegistryError):
        register_all(client, Topics(""))  # type: ignore[arg-type]
