"""Waiting between rounds of a long-running command, cut short by a stop request."""

from __future__ import annotations

from streams.waiting import sleep_unless_stopped


def test_a_stop_request_ends_the_wait_and_says_so() -> None:
    asked = iter([False, False, True])
    assert sleep_unless_stopped(60, lambda: next(asked)) is True


def test_without_a_stop_request_the_wait_runs_out() -> None:
    assert sleep_unless_stopped(0.05, lambda: False) is False
