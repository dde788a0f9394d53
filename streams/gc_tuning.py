"""Garbage-collector tuning for the batch loops (relay, projector, replay)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fewer_collections(allocations: int = 100_000) -> Iterator[None]:
    """Python's cyclic garbage collector at most once per `allocations` new objects, not once
    per 700: a batch decodes thousands of events into short-lived objects, and the collector
    scanning them again and again took about a tenth of a replay's time, and a relay batch
    is the same. (The threshold is process-wide: the relay, the projector and the replay
    workers each run in a process of their own.)"""
    previous = gc.get_threshold()
    gc.set_threshold(allocations, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
