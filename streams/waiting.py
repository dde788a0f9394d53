"""Waiting that a stop request cuts short (long-running commands check it between steps)."""

from __future__ import annotations

import time
from collections.abc import Callable


def sleep_unless_stopped(seconds: float, stop: Callable[[], bool]) -> bool:
    """Sleep up to `seconds`, waking early when `stop()`; True when asked to stop."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stop():
            return True
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    return stop()


class IdleClock:
    """When a consumer run with an idle timeout should end: after `timeout` seconds with
    nothing consumed, counted from when it holds partitions - joining its group can take
    seconds on a busy or just-started broker, and a run that ended before it had any would
    have consumed nothing - or, when it never gets any, `join_wait` seconds after the start.
    No timeout: never."""

    def __init__(self, timeout: float | None, join_wait: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self.started = self.since = clock()
        self.join_wait = join_wait

    def busy(self) -> None:
        self.since = self.clock()

    def idle_out(self, assigned: bool) -> bool:
        """True when the run should end (called after a poll that brought nothing)."""
        if self.timeout is None:
            return False
        now = self.clock()
        if not assigned:
            self.since = now
            return now - self.started > max(self.join_wait, self.timeout)
        return now - self.since > self.timeout
