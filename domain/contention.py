"""Writers of one record take turns.

Saving is optimistic: a save of a record someone else saved since is refused, and the
command runs again on the fresh record. That alone can starve a writer: with two processes
querying one child as fast as they can, the one that lost a race kept losing (the winner is
always a cycle ahead of it) and a query failed after 30 attempts. So a command on one record
holds that record's lock (`RecordLocks`: a PostgreSQL advisory lock shared by every process
writing to the store) from its read to its save, and writers of one record take turns;
writers of different records never wait for each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from threading import Lock
from typing import Protocol
from uuid import UUID


class RecordLocks(Protocol):
    def holding(self, record_id: UUID) -> AbstractContextManager[None]:
        """Hold the record's lock, shared with every process writing to the store."""


class ProcessLocks:
    """Locks shared by the threads of one process: for stores only one process writes to
    (memory, SQLite)."""

    def __init__(self) -> None:
        self._guard = Lock()
        self._locks: dict[UUID, Lock] = {}

    @contextmanager
    def holding(self, record_id: UUID) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(record_id, Lock())
        with lock:
            yield
