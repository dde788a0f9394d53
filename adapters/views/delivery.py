"""The LA notification outbox as the MESH sender sees it: pending notifications from the
active view generation, and their delivery state in a table of its own.

Delivery state is not a projection: it lives outside the generation tables, so a replay
rebuilds the outbox without sending anything twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from adapters.views.pg_rows import notification_row
from adapters.views.postgres import PostgresViewStore
from domain.notifications import NotificationDue

DELIVERY_DDL = """
CREATE TABLE IF NOT EXISTS {delivery} (
  notification_id text PRIMARY KEY, status text NOT NULL, mesh_message_id text,
  attempts int NOT NULL DEFAULT 0, next_attempt_at timestamptz, last_error text,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS {by_mesh_id} ON {delivery} (mesh_message_id);
"""

DUE = """
SELECT n.*, p.la_name, p.local_id, p.source_file, coalesce(d.attempts, 0) AS attempts
FROM {notifications} n
LEFT JOIN {delivery} d USING (notification_id)
LEFT JOIN LATERAL (
  SELECT la_name, local_id, source_file FROM {plans} p
  WHERE p.nhs_number = n.nhs_number AND p.ods_code = n.ods_code
  ORDER BY p.version DESC LIMIT 1) p ON true
WHERE d.notification_id IS NULL OR (d.status = 'failed' AND d.next_attempt_at <= %s)
ORDER BY n.created_at, n.notification_id
LIMIT %s
"""


@dataclass(frozen=True)
class DueNotification:
    notification: NotificationDue
    la_name: str
    local_id: str | None
    source_file: int | None
    attempts: int


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _due(row: dict[str, Any]) -> DueNotification:
    return DueNotification(notification_row(row).notification,
                           row["la_name"] or f"Local authority {row['ods_code']}",
                           row["local_id"], row["source_file"], int(row["attempts"]))


class NotificationOutbox:
    def __init__(self, store: PostgresViewStore) -> None:
        self.store = store

    def _ids(self) -> dict[str, sql.Composable]:
        s = self.store.schema
        return {"delivery": sql.Identifier(s, "la_notification_delivery"),
                "by_mesh_id": sql.Identifier("la_notification_delivery_by_mesh_id"),
                "notifications": sql.Identifier(s, "la_notifications"),
                "plans": sql.Identifier(s, "current_plans")}

    def setup(self) -> None:
        self.store.setup()
        with self.store.connect() as conn:
            conn.execute(sql.SQL(DELIVERY_DDL).format(**self._ids()))

    def due(self, now: datetime, limit: int = 100) -> list[DueNotification]:
        with self.store.connect() as conn:
            rows = conn.execute(sql.SQL(DUE).format(**self._ids()), (now, limit)).fetchall()
        return [_due(r) for r in rows]

    def _upsert(self, notification_id: str, status: str, **fields: object) -> None:
        columns = ["notification_id", "status", *fields]
        values = [notification_id, status, *fields.values()]
        with self.store.connect() as conn:
            conn.execute(sql.SQL(
                "INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT (notification_id) DO UPDATE "
                "SET {u}, updated_at = now()").format(
                    t=self._ids()["delivery"], c=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                    u=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                         for c in columns[1:])),
                values)

    def mark_sent(self, notification_id: str, mesh_message_id: str, attempts: int) -> None:
        self._upsert(notification_id, "sent", mesh_message_id=mesh_message_id,
                     attempts=attempts, last_error=None)

    def mark_failed(self, notification_id: str, error: str, attempts: int,
                    now: datetime) -> None:
        self._upsert(notification_id, "failed", attempts=attempts, last_error=error,
                     next_attempt_at=now + backoff(attempts))

    def mark_undelivered(self, mesh_message_id: str, reason: str) -> bool:
        """An error report from MESH for a sent notification; False when none matches."""
        with self.store.connect() as conn:
            changed = conn.execute(sql.SQL(
                "UPDATE {t} SET status = 'undelivered', last_error = %s, updated_at = now() "
                "WHERE mesh_message_id = %s").format(t=self._ids()["delivery"]),
                (reason, mesh_message_id)).rowcount
        return changed > 0

    def statuses(self) -> dict[str, str]:
        with self.store.connect() as conn:
            rows = conn.execute(sql.SQL("SELECT notification_id, status FROM {t}").format(
                t=self._ids()["delivery"])).fetchall()
        return {str(r["notification_id"]): str(r["status"]) for r in rows}
