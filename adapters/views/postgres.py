"""PostgreSQL views, kept in generations so a replay can rebuild beside the live ones.

Tables of generation N are named g<N>_current_plans, g<N>_access_history,
g<N>_la_notifications and g<N>_offsets in the views schema; plain SQL views
current_plans, access_history and la_notifications point at the active generation.
Consumed Kafka offsets are written in the same transaction as the view rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from adapters.views.pg_rows import (
    Source,
    access_row,
    author_json,
    by_partition,
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
SETUP_LOCK = 4242  # advisory lock every process setting up the views' tables holds
VIEW_TABLES = ("current_plans", "access_history", "la_notifications")

DDL = """
CREATE TABLE IF NOT EXISTS {current_plans} (
  nhs_number text NOT NULL, ods_code text NOT NULL, plan_type text NOT NULL,
  la_name text NOT NULL, office_hours_phone text NOT NULL, emergency_duty_phone text NOT NULL,
  start_at timestamp NOT NULL, end_at timestamp, delete_at timestamp,
  given_name text NOT NULL, family_name text NOT NULL, birth_date date, local_id text,
  version bigint NOT NULL, source_file bigint, PRIMARY KEY (nhs_number, ods_code, plan_type));
CREATE TABLE IF NOT EXISTS {access_history} (
  nhs_number text NOT NULL, access_id text NOT NULL, accessed_at timestamptz NOT NULL,
  author_identity text NOT NULL, author jsonb NOT NULL, PRIMARY KEY (nhs_number, access_id));
CREATE TABLE IF NOT EXISTS {la_notifications} (
  notification_id text PRIMARY KEY, kind text NOT NULL, ods_code text NOT NULL,
  nhs_number text NOT NULL, record_id uuid NOT NULL, version bigint NOT NULL,
  occurred_at timestamptz NOT NULL, access_id text, accessed_at timestamptz, author jsonb,
  replacement text, status text NOT NULL DEFAULT 'pending', mesh_message_id text,
  attempts int NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now(),
  kafka_topic text, kafka_topic_key int, kafka_partition int, kafka_offset bigint);
CREATE TABLE IF NOT EXISTS {retired} (nhs_number text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS {offsets} (
  topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL,
  PRIMARY KEY (topic, partition));
"""
# what queries read by, not what the writers need (they go by the primary keys)
READ_INDEXES = """
CREATE INDEX IF NOT EXISTS {access_index} ON {access_history} (nhs_number, accessed_at DESC);
CREATE INDEX IF NOT EXISTS {source_index} ON {la_notifications}
  (kafka_topic_key, kafka_partition, kafka_offset);
"""
# a notification's source: the Kafka message of its event (NULL for a row written outside a
# stream; the topic's key: pg_rows.topic_key); the notification sender reads by it
# (adapters/views/delivery.py)
SOURCE_DDL = """
ALTER TABLE {la_notifications} ADD COLUMN IF NOT EXISTS kafka_topic text,
  ADD COLUMN IF NOT EXISTS kafka_topic_key int, ADD COLUMN IF NOT EXISTS kafka_partition int,
  ADD COLUMN IF NOT EXISTS kafka_offset bigint;
"""


class PostgresViewStore:
    """Owns the views schema: generations, the active pointer and units of work."""

    def __init__(self, conninfo: str, schema: str = "cpis_views") -> None:
        self.conninfo = conninfo
        self.schema = schema

    def connect(self) -> Conn:
        return psycopg.connect(self.conninfo, row_factory=dict_row)

    def create_generation(self, conn: Conn, generation: int, indexed: bool = True) -> None:
        """The generation's tables; with their read indexes unless `indexed` is False (a
        replay's, built by `index_generation` once the rows are in)."""
        conn.execute(sql.SQL(DDL).format(**self._names(generation)))
        if indexed:
            self._index(conn, generation)

    def _names(self, generation: int) -> dict[str, sql.Identifier]:
        names = {t: sql.Identifier(self.schema, f"g{generation}_{t}")
                 for t in (*VIEW_TABLES, "retired", "offsets")}
        names["access_index"] = sql.Identifier(f"g{generation}_access_history_by_time")
        names["source_index"] = sql.Identifier(f"g{generation}_la_notifications_by_source")
        return names

    def _index(self, conn: Conn, generation: int) -> None:
        conn.execute(sql.SQL(READ_INDEXES).format(**self._names(generation)))

    def index_generation(self, generation: int) -> None:
        """Build the read indexes of a generation filled without them: one sorted build
        instead of a B-tree insert per row (a tenth of a replay's PostgreSQL time)."""
        with self.connect() as conn:
            self._index(conn, generation)

    def setup(self) -> int:
        """Create the schema, generation 1 and the public views if absent; return active."""
        with self.connect() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(self.schema)))
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY CHECK (id = 1), "
                "active_generation int NOT NULL)").format(self._state()))
            row = conn.execute(sql.SQL("SELECT active_generation FROM {}").format(
                self._state())).fetchone()
            if row is not None:
                generation = int(str(row["active_generation"]))
                self._add_sources(conn, generation)
                return generation
            self.create_generation(conn, 1)
            conn.execute(sql.SQL("INSERT INTO {} VALUES (1, 1)").format(self._state()))
            self._point_views(conn, 1)
            return 1

    def _add_sources(self, conn: Conn, generation: int) -> None:
        """Views made before notifications kept their source get its columns (empty for the
        rows already there) and index; a generation that has them is left untouched (an
        ALTER TABLE would lock out its readers, even with nothing to add)."""
        found = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name = 'kafka_offset'",
            (self.schema, f"g{generation}_la_notifications")).fetchone()
        if found is None:
            conn.execute(sql.SQL(SOURCE_DDL).format(**self._names(generation)))
            self._index(conn, generation)
            self._point_views(conn, generation)

    def _state(self) -> sql.Identifier:
        return sql.Identifier(self.schema, "projection_state")

    def _point_views(self, conn: Conn, generation: int) -> None:
        for table in VIEW_TABLES:
            conn.execute(sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier(self.schema, table),
                sql.Identifier(self.schema, f"g{generation}_{table}")))

    def active_generation(self, conn: Conn) -> int:
        """Read the active generation, holding a share lock until the transaction ends."""
        row = conn.execute(sql.SQL("SELECT active_generation FROM {} FOR SHARE").format(
            self._state())).fetchone()
        assert row is not None, "views schema not set up"
        return int(str(row["active_generation"]))

    def new_generation(self) -> int:
        """A new, empty generation after the active one, without its read indexes (see
        `index_generation`)."""
        with self.connect() as conn:
            row = conn.execute(sql.SQL("SELECT active_generation FROM {}").format(
                self._state())).fetchone()
            assert row is not None
            generation = int(str(row["active_generation"])) + 1
            for table in (*VIEW_TABLES, "retired", "offsets"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(self.schema, f"g{generation}_{table}")))
            self.create_generation(conn, generation, indexed=False)
            return generation

    def switch_to(self, generation: int) -> int:
        """Make `generation` active and drop the one before; returns the old generation."""
        with self.connect() as conn:
            conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self._state()))
            old = self.active_generation(conn)
            conn.execute(sql.SQL("UPDATE {} SET active_generation = %s").format(self._state()),
                         (generation,))
            self._point_views(conn, generation)
            return old

    def drop_generation(self, generation: int) -> None:
        with self.connect() as conn:
            for table in (*VIEW_TABLES, "retired", "offsets"):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(self.schema, f"g{generation}_{table}")))

    def offsets(self, conn: Conn, generation: int
                ) -> dict[tuple[str, int], int]:
        rows = conn.execute(sql.SQL("SELECT topic, partition, next_offset FROM {}").format(
            sql.Identifier(self.schema, f"g{generation}_offsets"))).fetchall()
        return by_partition(rows, "next_offset")

    def save_offsets(self, conn: Conn, generation: int,
                     offsets: dict[tuple[str, int], int]) -> None:
        table = sql.Identifier(self.schema, f"g{generation}_offsets")
        with conn.cursor() as cur:
            cur.executemany(sql.SQL(
                "INSERT INTO {} (topic, partition, next_offset) VALUES (%s, %s, %s) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset"
            ).format(table), [(t, p, o) for (t, p), o in offsets.items()])

    @contextmanager
    def views(self, generation: int | None = None) -> Iterator[PostgresViews]:
        """Read-only access to a generation (the active one by default)."""
        with self.connect() as conn:
            gen = generation if generation is not None else self.active_generation(conn)
            yield PostgresViews(conn, self.schema, gen)


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
