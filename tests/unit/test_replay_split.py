"""How `cpis replay` shares partitions among its workers: every topic's partition number p
goes to one worker, so all of an NHS number's events meet in one process."""

from __future__ import annotations

import pytest

from streams.projection.replay import split_partitions

TOPICS = ("plans", "accesses", "identity")


def partitions(counts: tuple[int, ...]) -> list[tuple[str, int]]:
    return [(t, p) for t, n in zip(TOPICS, counts, strict=True) for p in range(n)]


def test_by_default_each_partition_number_gets_its_own_worker_with_all_its_topics() -> None:
    groups = split_partitions(partitions((3, 3, 3)), None)
    assert groups == [tuple((t, p) for t in TOPICS) for p in range(3)]


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 9])
def test_every_partition_goes_to_exactly_one_worker_with_its_number_alone(
        workers: int) -> None:
    every = partitions((4, 4, 4))
    groups = split_partitions(every, workers)
    assert len(groups) == min(workers, 4)
    assert sorted(tp for group in groups for tp in group) == sorted(every)
    numbers = [{p for _, p in group} for group in groups]
    assert sum(len(n) for n in numbers) == 4  # no partition number in two workers


def test_topics_with_different_partition_counts_are_replayed_in_one_process() -> None:
    every = partitions((3, 6, 3))
    assert split_partitions(every, 3) == [tuple(every)]
