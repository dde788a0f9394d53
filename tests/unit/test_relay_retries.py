"""The relay's waits between tries after an interruption: growing, jittered, never over
`retry_seconds`, cut short by a stop."""

from __future__ import annotations

from typing import Any

import pytest

from streams.kafka.topics import Topics
from streams.relay import relay as relay_module
from streams.relay.relay import Relay, RelayConfig

FAILURES = 12


def relay_failing(times: int, waits: list[float], monkeypatch: pytest.MonkeyPatch,
                  stop_after: int | None = None) -> Relay:
    no_encoder: Any = None  # the tries never start: _run_once is replaced
    relay = Relay(no_encoder, RelayConfig("127.0.0.1:9", Topics(), retry_seconds=2.0))
    tries = [0]

    def run_once(*_: object) -> int:
        tries[0] += 1
        if tries[0] <= times:
            raise TimeoutError("the broker is away")
        return 7

    def sleep(seconds: float, _: object) -> bool:
        waits.append(seconds)
        return stop_after is not None and len(waits) >= stop_after

    monkeypatch.setattr(relay, "_run_once", run_once)
    monkeypatch.setattr(relay_module, "sleep_unless_stopped", sleep)
    return relay


def test_each_wait_is_capped_and_the_relay_carries_on(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    assert relay_failing(FAILURES, waits, monkeypatch).run() == 7
    assert len(waits) == FAILURES
    assert all(0 <= wait <= 2.0 for wait in waits)


def test_a_stop_while_waiting_ends_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    relay = relay_failing(FAILURES, waits, monkeypatch, stop_after=2)
    assert relay.run() == relay.published == 0
    assert len(waits) == 2
