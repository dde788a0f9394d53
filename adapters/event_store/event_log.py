"""The event log as the relay reads it: plain rows after a position (position, state), and
the whole `Notification` only for the rows that need one (those the relay rebuilds as domain
events), asked for together.

The PostgreSQL recorder (postgres_recorder.py) reads such rows itself; any other
eventsourcing application recorder (SQLite, in memory) is read through its notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from eventsourcing.persistence import ApplicationRecorder, Notification

# position, state
LogRow = tuple[int, bytes]


@runtime_checkable
class EventLog(Protocol):
    def select_log(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` rows after position `after`, in position order."""

    def notifications_of(self, rows: Sequence[LogRow]) -> list[Notification]:
        """The notifications the rows are, in their order."""


class NotificationLog:
    """An application recorder's notifications read as rows; the last read's notifications
    kept for the rows asked for again."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        self.last_read: dict[int, Notification] = {}

    def select_log(self, after: int, limit: int) -> list[LogRow]:
        read = self.recorder.select_notifications(start=after + 1, limit=limit)
        self.last_read = {n.id: n for n in read}
        return [(n.id, n.state) for n in read]

    def notifications_of(self, rows: Sequence[LogRow]) -> list[Notification]:
        return [self.last_read.get(row[0]) or self._read(row[0]) for row in rows]

    def _read(self, position: int) -> Notification:
        (found,) = self.recorder.select_notifications(start=position, limit=1)
        return found


def event_log(recorder: ApplicationRecorder) -> EventLog:
    """The recorder itself where it reads rows, else its notifications as rows."""
    return recorder if isinstance(recorder, EventLog) else NotificationLog(recorder)
