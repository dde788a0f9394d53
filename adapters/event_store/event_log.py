"""The event log as the relay reads it: plain rows after a position, a `Notification` built
only for the rows that need one (those the relay rebuilds as domain events).

The PostgreSQL recorder (postgres_recorder.py) reads such rows itself; any other
eventsourcing application recorder (SQLite, in memory) is read through its notifications.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from eventsourcing.persistence import ApplicationRecorder, Notification

# position, event topic, state, originator id (as the recorder holds it), version
LogRow = tuple[int, str, bytes, Any, int]


@runtime_checkable
class EventLog(Protocol):
    def select_log(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` rows after position `after`, in position order."""

    def notification_of(self, row: LogRow) -> Notification:
        """The notification a row is."""


class NotificationLog:
    """An application recorder's notifications read as rows."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def select_log(self, after: int, limit: int) -> list[LogRow]:
        return [(n.id, n.topic, n.state, n.originator_id, n.originator_version)
                for n in self.recorder.select_notifications(start=after + 1, limit=limit)]

    def notification_of(self, row: LogRow) -> Notification:
        return row_notification(row, row[3])


def row_notification(row: LogRow, originator_id: Any) -> Notification:
    """The notification a row is, given its originator id in the application's type."""
    position, topic, state, _, version = row
    return Notification(id=position, originator_id=originator_id, originator_version=version,
                        topic=topic, state=state)


def event_log(recorder: ApplicationRecorder) -> EventLog:
    """The recorder itself where it reads rows, else its notifications as rows."""
    return recorder if isinstance(recorder, EventLog) else NotificationLog(recorder)
