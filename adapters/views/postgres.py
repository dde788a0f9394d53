"""PostgreSQL views, kept in generations so a replay can rebuild beside the live ones.

Tables of generation N are named g<N>_current_plans, g<N>_access_history,
g<N>_la_notifications and g<N>_offsets in the views schema; plain SQL views
current_plans, access_history and la_notifications point at the active generation.
Consumed Kafka offsets are written in the same transaction as the view rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from adapters.views.pg_rows import by_partition
from adapters.views.postgres_views import Conn, PostgresViews

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
