"""Waiting for a dependency to come back: a growing, jittered while between tries, capped so
a process is back within that of its dependency; each wait logged and counted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential

from streams.ops.metrics import RETRIES
from streams.waiting import sleep_unless_stopped

log = logging.getLogger(__name__)
T = TypeVar("T")
CAP_SECONDS = 2.0


class StoppedWaitingError(Exception):
    """Asked to stop while waiting for a dependency."""


def until_up(what: str, action: Callable[[], T],
             errors: tuple[type[BaseException], ...],
             stop: Callable[[], bool] = lambda: False) -> T:
    """`action()`, tried again on `errors` until it succeeds; StoppedWaitingError when
    `stop()` while waiting."""
    def waiting(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        RETRIES.labels(what).inc()
        log.warning("%s unavailable (%s: %s); trying again in %.1f s", what,
                    type(error).__name__, error, state.upcoming_sleep,
                    extra={"dependency": what, "retry_seconds": state.upcoming_sleep})

    def sleep(seconds: float) -> None:
        if sleep_unless_stopped(seconds, stop):
            raise StoppedWaitingError(what)

    retrying = Retrying(retry=retry_if_exception_type(errors), reraise=True,
                        wait=wait_random_exponential(multiplier=0.1, max=CAP_SECONDS),
                        sleep=sleep, before_sleep=waiting)
    return retrying(action)
