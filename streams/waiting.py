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
