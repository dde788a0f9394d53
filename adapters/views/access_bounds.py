"""Upper bounds on the access rows each NHS number holds in a view generation that one
process alone writes, so that a batch asks PostgreSQL which of its numbers are over the
history limit only for numbers that may be.

A replay worker's generation is such a one: the generation is new, and every event of an
NHS number is on one partition number, which one worker reads. There the check is a count
over the primary key for each of a batch's numbers, to find, almost always, no number over
the limit.

The bounds are counts per bucket of NHS numbers, in a list of fixed size whatever the
number of children: a bucket counts every access row written for any of its numbers, so it
is never below what one of them holds (deletes only lower a number's rows). A number whose
bucket is over the limit is looked up. Rows written outside the batches, by a batch applied
one message at a time, are not counted: their numbers are forgotten, always looked up.
"""

from __future__ import annotations

from collections.abc import Iterable

BUCKETS = 1 << 20  # 8 MB of list; two numbers of a worker share a bucket seldom
FORGOTTEN = 1 << 62  # a bucket's count once a number in it is forgotten: over any limit


class AccessBounds:
    """For the life of one process (a str's hash is this process's)."""

    def __init__(self, buckets: int = BUCKETS) -> None:
        if buckets < 1:
            raise ValueError(f"buckets must be 1 or more, got {buckets}")
        self._written = [0] * buckets

    def _bucket(self, nhs_number: str) -> int:
        return hash(nhs_number) % len(self._written)

    def add(self, nhs_numbers: Iterable[str]) -> None:
        """Count one access row written for each number given (a number once a row)."""
        written = self._written
        for number in nhs_numbers:
            written[self._bucket(number)] += 1

    def forget(self, nhs_numbers: Iterable[str]) -> None:
        """The numbers may hold rows not counted: look them up from now on."""
        for number in nhs_numbers:
            self._written[self._bucket(number)] = FORGOTTEN

    def maybe_over(self, nhs_numbers: Iterable[str], keep: int) -> list[str]:
        """The numbers that may hold more than `keep` access rows, in the order given."""
        written = self._written
        return [n for n in nhs_numbers if written[self._bucket(n)] > keep]
