"""Batches run with the garbage collector's first threshold raised, and it comes back after."""

from __future__ import annotations

import gc

import pytest

from streams.gc_tuning import fewer_collections


def test_the_threshold_is_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with fewer_collections(50_000):
        assert gc.get_threshold() == (50_000, *before[1:])
    assert gc.get_threshold() == before


def test_the_threshold_is_restored_when_the_batch_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("a failed batch")
    assert gc.get_threshold() == before
