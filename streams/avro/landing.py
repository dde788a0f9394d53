"""The tables a JDBC sink lands the topics in (Kafka Connect, Apicurio's Avro converter,
Connect's Flatten transform with `_`, Debezium's JDBC sink): one table a topic, a column for
each leaf field of every event type the topic carries.

Every column is nullable: a topic carries several event types (cpis.plans.v1 has
RecordOpened, PlanRegistered, PlanEnded...), and each row fills the columns of its own. The
sink cannot make such a table itself: it would add the second type's required fields to a
table the first created, which it refuses. Column names are the flattened field paths, a
union of records adding the branch's name (as the converter names them); the sink must
quote identifiers (`quote.identifiers=true`), as some fields are SQL words (`end`).
"""

from __future__ import annotations

import json
from typing import Any

from streams.avro.schemas import AvroSchemas
from streams.avro.subjects import topic_of
from streams.kafka.topics import Topics

PRIMITIVES = {"string": "text", "enum": "text", "long": "bigint", "int": "integer",
              "boolean": "boolean", "double": "double precision", "float": "real",
              "bytes": "bytea"}
# the logical types Connect has types for; the others (micros) stay their Avro long
LOGICAL = {"date": "date", "timestamp-millis": "timestamptz", "time-millis": "time"}


def leaf_columns(fields: list[dict[str, Any]], prefix: str = "") -> dict[str, str]:
    """Column name -> PostgreSQL type of each leaf of the record's fields."""
    out: dict[str, str] = {}
    for field in fields:
        out.update(_columns(field["type"], f"{prefix}{field['name']}"))
    return out


def _columns(avro: Any, name: str) -> dict[str, str]:
    if isinstance(avro, list):  # a union: null adds nothing, several records one each
        branches = [b for b in avro if b != "null"]
        if len(branches) == 1:
            return _columns(branches[0], name)
        out: dict[str, str] = {}
        for branch in branches:
            out.update(_columns(branch, f"{name}_{branch['name'].rsplit('.', 1)[-1]}"))
        return out
    kind = avro if isinstance(avro, str) else avro["type"]
    if kind == "record":
        return leaf_columns(avro["fields"], f"{name}_")
    if kind == "array":
        return {name: f"{_columns(avro['items'], name)[name]}[]"}
    if isinstance(kind, dict | list):
        return _columns(kind, name)
    logical = avro.get("logicalType") if isinstance(avro, dict) else None
    return {name: LOGICAL.get(logical or "", PRIMITIVES.get(kind, "text"))}


def landing_tables(topics: Topics, wanted: list[str], schema: str,
                   schemas: AvroSchemas | None = None) -> str:
    """CREATE TABLE statements for the wanted topics, in `schema`, each named as the sink
    names it (`collection.name.format=<schema>.${topic}`: dots become underscores)."""
    schemas = schemas or AvroSchemas()
    statements = []
    for topic in wanted:
        columns: dict[str, str] = {}
        for full_name, current in sorted(schemas.current.items()):
            if _topic(full_name, topics) == topic:
                raw = json.loads(current.path.read_text())
                columns.update(leaf_columns(raw["fields"]))
        if not columns:
            raise ValueError(f"no event type is published on {topic}")
        body = ",\n".join(f'  "{name}" {kind}' for name, kind in columns.items())
        table = topic.replace(".", "_").replace("-", "_")
        statements.append(f'CREATE TABLE IF NOT EXISTS "{schema}"."{table}" (\n{body}\n);')
    return "\n".join(statements)


def _topic(full_name: str, topics: Topics) -> str | None:
    try:
        return topic_of(full_name, topics)
    except KeyError:
        return None
