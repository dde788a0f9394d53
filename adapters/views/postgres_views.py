"""The view port on PostgreSQL: the rows of one generation's tables (current plans, access
history, LA notifications), written and read in one open transaction."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from adapters.views.pg_rows import (
    Source,
    access_row,
    author_json,
    notification_params,
    notification_row,
    plan_params,
    plan_row,
    source_params,
)
from domain.application.projections import AccessRow, NotificationRow, PlanRow, Views
from domain.model.access import Access
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue
from domain.model.plans import Plan, PlanType

Conn = psycopg.Connection[dict[str, object]]


class PostgresViews(Views):
    """The view port on one open transaction and one generation. `source` is the Kafka
    message being applied, kept with the notifications it causes."""

    def __init__(self, conn: Conn, schema: str,
                 generation: int) -> None:
        self.conn = conn
        self.schema = schema
        self.generation = generation
        self.source: Source | None = None
        self._column_types: dict[str, dict[str, str]] = {}

    def table(self, table: str) -> sql.Identifier:
        return sql.Identifier(self.schema, f"g{self.generation}_{table}")

    def column_types(self, table: str) -> dict[str, str]:
        """Each column of the table and its PostgreSQL type, from the catalog (read once):
        what a binary COPY into it must be told."""
        found = self._column_types.get(table)
        if found is None:
            rows = self.conn.execute(
                "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 "
                "AND NOT a.attisdropped", (self.schema, f"g{self.generation}_{table}"),
            ).fetchall()
            found = self._column_types[table] = {str(r["name"]): str(r["type"]) for r in rows}
        return found

    def put_plan(self, nhs_number: NhsNumber, plan: Plan, version: int,
                 source_file: int | None) -> None:
        params = plan_params(nhs_number.value, plan, version, source_file)
        columns = list(params)
        if self._retired(nhs_number):
            return
        self.conn.execute(sql.SQL(
            "INSERT INTO {t} ({}) VALUES ({}) ON CONFLICT (nhs_number, ods_code, plan_type) "
            "DO UPDATE SET {} WHERE {t}.version < EXCLUDED.version").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
                sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                   for c in columns[3:]), t=self.table("current_plans")),
            params)

    def _retired(self, nhs_number: NhsNumber) -> bool:
        return self.conn.execute(sql.SQL("SELECT 1 FROM {} WHERE nhs_number = %s").format(
            self.table("retired")), (nhs_number.value,)).fetchone() is not None

    def _set_date(self, column: str, nhs_number: NhsNumber, ods_code: str,
                  plan_type: PlanType, value: datetime, version: int) -> None:
        self.conn.execute(sql.SQL(
            "UPDATE {} SET {} = %s, version = %s "
            "WHERE nhs_number = %s AND ods_code = %s AND plan_type = %s AND version < %s"
            ).format(self.table("current_plans"), sql.Identifier(column)),
            (value, version, nhs_number.value, ods_code, plan_type.value, version))

    def end_plan(self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType,
                 end: datetime, version: int) -> None:
        self._set_date("end_at", nhs_number, ods_code, plan_type, end, version)

    def delete_plan(self, nhs_number: NhsNumber, ods_code: str, plan_type: PlanType,
                    delete: datetime, version: int) -> None:
        self._set_date("delete_at", nhs_number, ods_code, plan_type, delete, version)

    def add_access(self, nhs_number: NhsNumber, access: Access, keep: int) -> None:
        if self._retired(nhs_number):
            return
        table = self.table("access_history")
        self.conn.execute(sql.SQL(
            "INSERT INTO {} (nhs_number, access_id, accessed_at, author_identity, author) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING").format(table),
            (nhs_number.value, access.access_id, access.accessed_at, access.author.identity,
             Jsonb(author_json(access.author))))
        self.conn.execute(sql.SQL(
            "DELETE FROM {0} WHERE nhs_number = %s AND access_id NOT IN ("
            "SELECT access_id FROM {0} WHERE nhs_number = %s "
            "ORDER BY accessed_at DESC, access_id DESC LIMIT %s)").format(table),
            (nhs_number.value, nhs_number.value, keep))

    def remove_record(self, nhs_number: NhsNumber) -> None:
        self.conn.execute(sql.SQL("INSERT INTO {} VALUES (%s) ON CONFLICT DO NOTHING").format(
            self.table("retired")), (nhs_number.value,))
        for table in ("current_plans", "access_history"):
            self.conn.execute(sql.SQL("DELETE FROM {} WHERE nhs_number = %s").format(
                self.table(table)), (nhs_number.value,))

    def add_notification(self, notification: NotificationDue) -> None:
        params = notification_params(notification, lambda author: Jsonb(author_json(author)))
        params |= source_params(self.source)
        columns = list(params)
        self.conn.execute(sql.SQL(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (notification_id) DO NOTHING").format(
                self.table("la_notifications"),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder(c) for c in columns)),
            params)

    def plans(self) -> list[PlanRow]:
        rows = self.conn.execute(sql.SQL(
            "SELECT * FROM {} ORDER BY nhs_number, ods_code, plan_type").format(
                self.table("current_plans"))).fetchall()
        return [plan_row(r) for r in rows]

    def accesses(self) -> list[AccessRow]:
        rows = self.conn.execute(sql.SQL(
            "SELECT * FROM {} ORDER BY nhs_number, accessed_at DESC, access_id DESC").format(
                self.table("access_history"))).fetchall()
        return [access_row(r) for r in rows]

    def notifications(self) -> list[NotificationRow]:
        rows = self.conn.execute(sql.SQL("SELECT * FROM {} ORDER BY notification_id").format(
            self.table("la_notifications"))).fetchall()
        return [notification_row(r) for r in rows]
