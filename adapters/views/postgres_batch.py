"""A ViewBatch against the PostgreSQL views: read what the batch touches, write its net change.

load_batch: one query each for the touched NHS numbers' plan rows (of those whose plans the
batch reads or changes) and retired marks.
write_batch, in the caller's transaction: 1. delete changed or removed plan rows (a retired
number's among them), COPY the new ones; 2. mark newly retired numbers and delete their
accesses; 3. COPY new accesses (an access is added once: should one be there already,
through a staging table, ON CONFLICT DO NOTHING), then keep the newest per number
(_keep_newest; in a replay worker's generation, only of the numbers that may be over the
limit: adapters/views/access_bounds.py); 4. COPY new notifications the same way, so a row
already queued (and its delivery state) is left as it is. Every COPY is in the binary
format, told each column's type by the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import sql
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from adapters.views.access_bounds import AccessBounds
from adapters.views.batch import ViewBatch
from adapters.views.pg_rows import (
    SOURCE_COLUMNS,
    author_json,
    notification_params,
    plan_params,
    plan_row,
    source_values,
)
from adapters.views.postgres_views import PostgresViews
from domain.model.authors import Author

ACCESS_COLUMNS = ("nhs_number", "access_id", "accessed_at", "author_identity", "author")


def load_batch(views: PostgresViews, nhs_numbers: Iterable[str],
               plan_numbers: Iterable[str] | None = None) -> ViewBatch:
    """The retired marks of the touched numbers, and the plan rows of those whose plans the
    batch reads or changes (`plan_numbers`; by default all): a batch of accesses alone needs
    no plan row."""
    numbers = sorted(set(nhs_numbers))
    with_plans = numbers if plan_numbers is None else sorted(set(plan_numbers))
    plans = views.conn.execute(sql.SQL("SELECT * FROM {} WHERE nhs_number = ANY(%s)").format(
        views.table("current_plans")), (with_plans,)).fetchall() if with_plans else []
    retired = views.conn.execute(sql.SQL(
        "SELECT nhs_number FROM {} WHERE nhs_number = ANY(%s)").format(views.table("retired")),
        (numbers,)).fetchall()
    return ViewBatch([plan_row(r) for r in plans], [str(r["nhs_number"]) for r in retired])


class AuthorsAsJson:
    """Each distinct author written as JSON once per batch: an access's author appears in
    its history row and in its notifications."""

    def __init__(self) -> None:
        self._json: dict[Author, Jsonb] = {}

    def __call__(self, author: Author) -> Jsonb:
        found = self._json.get(author)
        if found is None:
            found = self._json[author] = Jsonb(json.dumps(author_json(author)), dumps=_as_is)
        return found


def _as_is(text: str) -> str:
    """The JSON text as it is: it was written once, for every row that holds it."""
    return text


def write_batch(views: PostgresViews, batch: ViewBatch, bounds: AccessBounds | None = None
                ) -> None:
    """With `bounds` (a generation only this process writes), only the numbers that may be
    over the history limit are counted in the table."""
    authors = AuthorsAsJson()
    _write_plans(views, batch)
    _retire(views, batch.newly_retired())
    _write_accesses(views, batch, authors, bounds)
    _write_notifications(views, batch, authors)


def _write_notifications(views: PostgresViews, batch: ViewBatch, authors: AuthorsAsJson
                         ) -> None:
    written = [(notification_params(n, authors), source)
               for n, source in batch.notifications.values()]
    if written:
        _insert_new(views, "la_notifications", [*written[0][0], *SOURCE_COLUMNS],
                    [(*params.values(), *source_values(source)) for params, source in written])


def _write_plans(views: PostgresViews, batch: ViewBatch) -> None:
    gone = batch.plans_gone()
    if gone:
        views.conn.execute(sql.SQL(
            "DELETE FROM {} WHERE (nhs_number, ods_code, plan_type) IN "
            "(SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))").format(
                views.table("current_plans")), [list(column) for column in zip(*gone, strict=True)])
    rows = [plan_params(r.nhs_number, r.plan, r.version, r.source_file)
            for r in batch.plans_new()]
    if rows:
        _copy(views, "current_plans", list(rows[0]), [tuple(r.values()) for r in rows])


def _retire(views: PostgresViews, numbers: list[str]) -> None:
    if not numbers:
        return
    views.conn.execute(sql.SQL(
        "INSERT INTO {} SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING").format(
            views.table("retired")), (numbers,))
    # their plan rows went with the batch's plan changes (every plan of a touched number is
    # loaded); their access history is not loaded, so it goes here
    views.conn.execute(sql.SQL("DELETE FROM {} WHERE nhs_number = ANY(%s)").format(
        views.table("access_history")), (numbers,))


def _write_accesses(views: PostgresViews, batch: ViewBatch, authors: AuthorsAsJson,
                    bounds: AccessBounds | None) -> None:
    if not batch.accesses:
        return
    rows = [(nhs, a.access_id, a.accessed_at, a.author.identity, authors(a.author))
            for (nhs, _), a in batch.accesses.items()]
    _insert_new(views, "access_history", list(ACCESS_COLUMNS), rows)
    if batch.keep is None:  # set by the first access added
        return
    numbers = sorted({nhs for nhs, _ in batch.accesses})
    if bounds is not None:
        bounds.add(nhs for nhs, _ in batch.accesses)
        numbers = bounds.maybe_over(numbers, batch.keep)
    if numbers:
        _keep_newest(views, numbers, batch.keep)


def _keep_newest(views: PostgresViews, numbers: list[str], keep: int) -> None:
    """Delete all but the `keep` newest accesses of each of the numbers. First the numbers
    over the limit (few: usually none), by the primary key; then their older rows alone. (One
    statement for both let the planner hash the whole table, the number of rows it keeps
    being unknown to it: a scan of every access each batch, growing with the table.)"""
    table = views.table("access_history")
    over = [row["nhs_number"] for row in views.conn.execute(sql.SQL(
        "SELECT nhs_number FROM {} WHERE nhs_number = ANY(%s) GROUP BY nhs_number "
        "HAVING count(*) > %s").format(table), (numbers, keep)).fetchall()]
    if not over:
        return
    views.conn.execute(sql.SQL(
        "DELETE FROM {0} h USING (SELECT nhs_number, access_id, row_number() OVER ("
        "PARTITION BY nhs_number ORDER BY accessed_at DESC, access_id DESC) AS newest "
        "FROM {0} WHERE nhs_number = ANY(%s)) ranked WHERE h.nhs_number = ANY(%s) "
        "AND ranked.newest > %s AND h.nhs_number = ranked.nhs_number "
        "AND h.access_id = ranked.access_id").format(table), (over, over, keep))


def _insert_new(views: PostgresViews, table: str, columns: list[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """COPY the rows straight into the table (in a savepoint); should one already be there
    (a message applied again), COPY them into a staging table instead and insert only the
    rows not already there."""
    try:
        with views.conn.transaction():
            _copy(views, table, columns, rows)
        return
    except UniqueViolation:
        pass
    stage = sql.Identifier(f"stage_{table}")
    views.conn.execute(sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    ).format(stage, views.table(table)))
    _copy_into(views, stage, columns, rows, views.column_types(table))
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    views.conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING")
                       .format(views.table(table), names, names, stage))
    views.conn.execute(sql.SQL("DELETE FROM {}").format(stage))  # for a next batch before commit


def _copy(views: PostgresViews, table: str, columns: list[str],
          rows: Sequence[tuple[Any, ...]]) -> None:
    _copy_into(views, views.table(table), columns, rows, views.column_types(table))


def _copy_into(views: PostgresViews, table: sql.Identifier, columns: list[str],
               rows: Sequence[tuple[Any, ...]], types: dict[str, str]) -> None:
    """COPY in PostgreSQL's binary format: the server parses no timestamp, uuid or number
    text (the text format cost a replay about a tenth of its time)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns)))
    with views.conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types([types[column] for column in columns])
        for row in rows:
            copy.write_row(row)
