"""What an operator reads of the LA notification outbox (cpis status, the metrics, the
console): notifications by delivery state, the oldest not yet sent, the troubled ones. The
outbox's tables are named here, for the sender's side (outbox.py) too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from adapters.views.postgres import PostgresViewStore


def outbox_tables(schema: str, generation: int | None = None) -> dict[str, sql.Composable]:
    """The delivery tables, and the views of `generation` (by default the public views,
    which point at the active one)."""
    prefix = "" if generation is None else f"g{generation}_"
    return {"delivery": sql.Identifier(schema, "la_notification_delivery"),
            "by_mesh_id": sql.Identifier("la_notification_delivery_by_mesh_id"),
            "retry_index": sql.Identifier("la_notification_delivery_retries"),
            "sent_index": sql.Identifier("la_notification_delivery_sent"),
            "forgotten": sql.Identifier(schema, "la_notification_forgotten"),
            "scanned": sql.Identifier(schema, "la_notification_scanned"),
            "notifications": sql.Identifier(schema, f"{prefix}la_notifications"),
            "plans": sql.Identifier(schema, f"{prefix}current_plans"),
            "offsets": sql.Identifier(schema, f"{prefix}offsets")}


@dataclass(frozen=True)
class OutboxSummary:
    """What an operator watches: notifications by delivery state, and how long the oldest
    not yet sent has waited."""

    pending: int  # in the views, no delivery attempt yet
    by_status: dict[str, int]  # sent, failed, undelivered (delivery rows)
    oldest_pending: datetime | None


SUMMARY = """
SELECT count(*) AS pending, min(n.occurred_at) AS oldest FROM {notifications} n
WHERE NOT EXISTS (SELECT 1 FROM {delivery} d WHERE d.notification_id = n.notification_id)
"""


class OutboxReport:
    """The outbox read, never written: what the sender's side shares with the operator."""

    def __init__(self, store: PostgresViewStore) -> None:
        self.store = store

    def _ids(self, generation: int | None = None) -> dict[str, sql.Composable]:
        return outbox_tables(self.store.schema, generation)

    def summary(self) -> OutboxSummary:
        ids = self._ids()
        with self.store.connect() as conn:
            pending = conn.execute(sql.SQL(SUMMARY).format(**ids)).fetchone() or {}
            rows = conn.execute(sql.SQL("SELECT status, count(*) AS n FROM {delivery} "
                                        "GROUP BY status").format(**ids)).fetchall()
        oldest = pending.get("oldest")
        return OutboxSummary(int(str(pending.get("pending") or 0)),
                             {str(r["status"]): int(str(r["n"])) for r in rows},
                             oldest if isinstance(oldest, datetime) else None)

    def troubled(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest failed or undelivered notifications with their last error (the
        operator console)."""
        with self.store.connect() as conn:
            rows = conn.execute(sql.SQL(
                "SELECT notification_id, status, attempts, last_error, next_attempt_at, "
                "updated_at FROM {t} WHERE status IN ('failed', 'undelivered') "
                "ORDER BY updated_at DESC LIMIT %s").format(t=self._ids()["delivery"]),
                (limit,)).fetchall()
        return [dict(r) for r in rows]

    def statuses(self) -> dict[str, str]:
        with self.store.connect() as conn:
            rows = conn.execute(sql.SQL("SELECT notification_id, status FROM {t}").format(
                t=self._ids()["delivery"])).fetchall()
        return {str(r["notification_id"]): str(r["status"]) for r in rows}
