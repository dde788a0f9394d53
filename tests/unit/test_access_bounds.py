"""Which NHS numbers a replay worker's batch must count in the access history: every number
that may hold more rows than the limit, and, with buckets to spare, no other (no I/O)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.views.access_bounds import AccessBounds

NUMBERS = [f"99901000{i:02d}" for i in range(12)]


def test_a_number_is_looked_up_once_it_may_hold_more_than_the_limit() -> None:
    bounds = AccessBounds()
    bounds.add(["9990100004"] * 3)
    assert bounds.maybe_over(["9990100004"], keep=3) == []
    bounds.add(["9990100004"])
    assert bounds.maybe_over(["9990100004"], keep=3) == ["9990100004"]


def test_numbers_sharing_a_bucket_count_together() -> None:
    bounds = AccessBounds(buckets=1)
    bounds.add(["9990100004", "9990100004", "9990100012"])
    assert bounds.maybe_over(["9990100012", "9990100004"], keep=2) == [
        "9990100012", "9990100004"]


def test_a_forgotten_number_is_always_looked_up() -> None:
    bounds = AccessBounds()
    bounds.forget(["9990100004"])
    assert bounds.maybe_over(["9990100004", "9990100012"], keep=25) == ["9990100004"]
    bounds.add(["9990100004"] * 5)
    assert bounds.maybe_over(["9990100004"], keep=10**9) == ["9990100004"]


def test_no_buckets_is_refused() -> None:
    with pytest.raises(ValueError, match="buckets must be 1 or more"):
        AccessBounds(buckets=0)


@given(st.lists(st.sampled_from(NUMBERS)), st.integers(1, 64), st.integers(0, 5))
def test_no_number_over_the_limit_is_missed(written: list[str], buckets: int, keep: int
                                            ) -> None:
    bounds = AccessBounds(buckets)
    bounds.add(written)
    rows = Counter(written)
    assert {n for n in NUMBERS if rows[n] > keep} <= set(bounds.maybe_over(NUMBERS, keep))
