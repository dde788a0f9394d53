"""Waiting for a dependency: tried again on the errors named, counted, capped; any other
error at once."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from streams.ops.retrying import StoppedWaitingError, until_up


def test_an_action_failing_twice_is_tried_again_and_each_wait_counted() -> None:
    before = REGISTRY.get_sample_value("cpis_retries_total", {"dependency": "test db"}) or 0
    failures = [ConnectionError("down"), ConnectionError("still down")]

    def action() -> str:
        if failures:
            raise failures.pop(0)
        return "up"

    assert until_up("test db", action, (ConnectionError,)) == "up"
    assert REGISTRY.get_sample_value("cpis_retries_total", {"dependency": "test db"}) \
        == before + 2


def test_an_error_not_named_is_raised_at_once() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        until_up("test db", action, (ConnectionError,))
    assert calls == [1]


def test_a_stop_request_while_waiting_ends_the_wait() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise ConnectionError("down")

    with pytest.raises(StoppedWaitingError):
        until_up("test db", action, (ConnectionError,), stop=lambda: len(calls) >= 2)
    assert len(calls) == 2
