"""A command that lost a race to save runs again in turn, so it cannot lose again.

Saving is optimistic: a save of a record someone else saved since is refused, and the
command runs again on the fresh record. Retrying alone can starve a writer: with two
processes querying one child as fast as they can, the one that lost a race kept losing
(the winner is always a cycle ahead) and a query failed after 30 attempts. So a retry
holds the store's `ExclusiveWrites` from its read to its save: no one else saves in
between, and it succeeds. First attempts take nothing, so only a lost race pays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from threading import Lock
from typing import Protocol
from uuid import UUID


class ExclusiveWrites(Protocol):
    def holding(self, record_id: UUID) -> AbstractContextManager[None]:
        """While held, no other writer (in any process) saves the record."""


class ProcessLocks:
    """For stores one process writes to (memory, SQLite): a lock per record."""

    def __init__(self) -> None:
        self._guard = Lock()
        self._locks: dict[UUID, Lock] = {}

    @contextmanager
    def holding(self, record_id: UUID) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(record_id, Lock())
        with lock:
            yield
