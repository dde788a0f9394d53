"""Waiting between rounds of a long-running command, cut short by a stop request."""

from __future__ import annotations

from streams.waiting import IdleClock, sleep_unless_stopped


def test_a_stop_request_ends_the_wait_and_says_so() -> None:
    asked = iter([False, False, True])
    assert sleep_unless_stopped(60, lambda: next(asked)) is True


def test_without_a_stop_request_the_wait_runs_out() -> None:
    assert sleep_unless_stopped(0.05, lambda: False) is False


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_idle_time_counts_only_once_partitions_are_held() -> None:
    clock = FakeClock()
    idle = IdleClock(3.0, join_wait=30.0, clock=clock)
    clock.now += 10  # a slow group join: 10 s without partitions
    assert not idle.idle_out(assigned=False)
    clock.now += 2
    assert not idle.idle_out(assigned=True)
    clock.now += 2  # 4 s assigned, nothing consumed
    assert idle.idle_out(assigned=True)


def test_consuming_starts_the_idle_time_again() -> None:
    clock = FakeClock()
    idle = IdleClock(3.0, clock=clock)
    assert not idle.idle_out(assigned=True)
    clock.now += 2.5
    idle.busy()
    clock.now += 2.5
    assert not idle.idle_out(assigned=True)


def test_a_run_that_never_gets_partitions_ends_after_the_join_wait() -> None:
    clock = FakeClock()
    idle = IdleClock(3.0, join_wait=30.0, clock=clock)
    clock.now += 29
    assert not idle.idle_out(assigned=False)
    clock.now += 2
    assert idle.idle_out(assigned=False)


def test_without_a_timeout_a_run_never_idles_out() -> None:
    clock = FakeClock()
    idle = IdleClock(None, clock=clock)
    clock.now += 1e6
    assert not idle.idle_out(assigned=True)
    assert not idle.idle_out(assigned=False)
