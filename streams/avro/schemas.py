"""Avro schemas from `avro/`: the stored form of events, and the reading of every topic.

The event store keeps each event Avro single-object encoded: the two bytes C3 01, the 8-byte
little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, then the
Avro binary body; it names its schema without a registry, so the store stands alone. Topics
carry Confluent's wire format instead (streams/avro/wire.py): byte 0, the schema's registry
id, the same body. A reader finds the writer schema by fingerprint among `avro/*.avsc` and
`avro/history/*.avsc`, or by id in the registry, and reads with the current schema of the
same full name; messages in either form are read.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

MAGIC = b"\xc3\x01"
HEADER = len(MAGIC) + 8  # the marker and the writer schema's fingerprint
DEFAULT_AVRO_DIR = Path(__file__).resolve().parents[2] / "avro"


class AvroError(ValueError):
    """A message that cannot be written or read as Avro; the message says why."""


@dataclass(frozen=True)
class Schema:
    full_name: str
    parsed: Any
    fingerprint: bytes  # 8 bytes, little-endian as on the wire
    path: Path
    header: bytes  # what each message of this schema starts with: C3 01, the fingerprint
    reading: Any  # the schema read with: uuid fields as their text (see `decode`)


def _load(path: Path) -> Schema:
    return _schema(json.loads(path.read_text()), path)


def _schema(raw: Any, path: Path) -> Schema:
    canonical = to_parsing_canonical_form(parse_schema(raw, _write_hint=False, named_schemas={}))
    fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))[::-1]
    # parsed once with fastavro's hint: without it every read and write parses it again
    parsed = parse_schema(raw, named_schemas={})
    reading = parse_schema(_uuids_as_text(raw), named_schemas={})
    return Schema(f"{raw['namespace']}.{raw['name']}", parsed, fp, path, MAGIC + fp, reading)


def _uuids_as_text(schema: Any) -> Any:
    """The schema with each `uuid` logical type left a plain string (the same bytes)."""
    if isinstance(schema, list):
        return [_uuids_as_text(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("logicalType") == "uuid":
        return {k: v for k, v in schema.items() if k != "logicalType"}
    return {k: _uuids_as_text(v) if k in ("type", "fields", "items", "values") else v
            for k, v in schema.items()}


class SchemaTexts(Protocol):
    """A schema registry's schemas by id (streams/avro/wire.py's RegistryIds)."""

    url: str

    def text_of(self, schema_id: int) -> str | None:
        """The schema registered under the id; None when the registry has none."""


class AvroSchemas:
    """Current schemas by full name; every known version (current and history) by
    fingerprint; and, given a registry, the schemas of the ids messages name."""

    def __init__(self, avro_dir: Path = DEFAULT_AVRO_DIR, registry: SchemaTexts | None = None
                 ) -> None:
        self.current: dict[str, Schema] = {}
        self.by_fingerprint: dict[bytes, Schema] = {}
        self.registry = registry
        self.by_id: dict[bytes, Schema] = {}  # the 4 id bytes -> the writer schema
        for path in sorted(avro_dir.glob("*.avsc")):
            schema = _load(path)
            if path.stem != schema.full_name:
                raise AvroError(f"{path.name} must be named by its full name {schema.full_name}")
            self.current[schema.full_name] = schema
            self.by_fingerprint[schema.fingerprint] = schema
        for path in sorted((avro_dir / "history").glob("*.avsc")):
            old = _load(path)
            self.by_fingerprint.setdefault(old.fingerprint, old)
        if not self.current:
            raise AvroError(f"no Avro schemas found in {avro_dir}")

    def encode(self, full_name: str, record: dict[str, Any]) -> bytes:
        schema = self.current.get(full_name)
        if schema is None:
            raise AvroError(f"no schema named {full_name} in avro/")
        out = io.BytesIO()
        out.write(schema.header)
        try:
            fastavro.schemaless_writer(out, schema.parsed, record)
        except (ValueError, TypeError, KeyError) as error:
            raise AvroError(f"cannot write {full_name}: {error}") from error
        return out.getvalue()

    def decode(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """(full name, record) read with the current schema of the writer's full name.

        A uuid field is given as its text, not as a UUID: a reader meets the same record id
        again and again, and builds each UUID once (event_codec.as_uuid) instead of fastavro
        parsing the text anew for every message."""
        if data[:1] == b"\x00" and len(data) >= 5:
            writer = self.by_id.get(data[1:5]) or self._registered(data[1:5])
            body = 5
        elif data[:2] == MAGIC and len(data) >= 10:
            known = self.by_fingerprint.get(data[2:10])
            if known is None:
                raise AvroError(f"unknown Avro schema fingerprint {data[2:10][::-1].hex()}")
            writer, body = known, 10
        else:
            raise AvroError("neither Confluent's wire format (byte 0, a schema id) nor Avro "
                            "single-object encoding (C3 01, a fingerprint)")
        reader = self.current.get(writer.full_name, writer)
        resolve = None if reader is writer else reader.reading  # no resolution when the same
        try:
            record = fastavro.schemaless_reader(io.BytesIO(data[body:]), writer.reading, resolve)
        except (ValueError, TypeError, EOFError, IndexError, KeyError) as error:
            raise AvroError(f"cannot read {writer.full_name}: {error}") from error
        if not isinstance(record, dict):
            raise AvroError(f"{writer.full_name} did not decode to a record")
        return writer.full_name, record

    def _registered(self, id_bytes: bytes) -> Schema:
        """The writer schema of a registry id, asked of the registry once: the version in
        avro/ of the same fingerprint, else the registry's text (read by resolution into
        the current schema of its name)."""
        schema_id = int.from_bytes(id_bytes, "big")
        if self.registry is None:
            raise AvroError(f"a message names schema id {schema_id} of a schema registry, and "
                            "none is configured (CPIS_SCHEMA_REGISTRY_URL)")
        text = self.registry.text_of(schema_id)
        if text is None:
            raise AvroError(f"unknown schema id {schema_id}: the schema registry has none")
        try:
            found = _schema(json.loads(text), Path(f"registry:{schema_id}"))
        except (ValueError, KeyError, TypeError) as error:
            raise AvroError(f"schema id {schema_id} is not an Avro record schema: {error}"
                            ) from error
        writer = self.by_fingerprint.get(found.fingerprint, found)
        self.by_id[id_bytes] = writer
        return writer
