"""Record locks across processes: PostgreSQL session advisory locks (domain/contention.py).

The lock is held on a pooled connection of its own while the command reads and saves on
others, and released before that connection goes back to the pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

LOCK_SPACE = 0x43504953  # "CPIS": keeps these keys apart from other advisory locks


class PostgresRecordLocks:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    @contextmanager
    def holding(self, record_id: UUID) -> Iterator[None]:
        key = int.from_bytes(record_id.bytes[:4], "big", signed=True)
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_SPACE, key))
            conn.commit()
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, key))
                conn.commit()
