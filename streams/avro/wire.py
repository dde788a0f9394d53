"""Confluent's wire format on every topic: byte 0, the writer schema's id in the schema
registry (4 bytes, big-endian), then the Avro body - what Kafka Connect, Flink, ClickHouse,
ksqlDB and Spark read.

The event store keeps its single-object form (C3 01, an 8-byte fingerprint, the same body:
streams/avro/schemas.py), which needs no registry. Publishing swaps the 10-byte header for
the 5-byte one; the body is not encoded again. Ids are looked up, never registered: the
schemas are registered by `cpis schemas register`, so a process that meets a schema nobody
registered stops with that command rather than publishing what readers cannot check.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from streams.avro.schemas import HEADER, AvroSchemas, SchemaTexts
from streams.avro.subjects import compact_text, topic_of
from streams.kafka.topics import Topics

if TYPE_CHECKING:  # imported when used: commands with no registry start without it
    from confluent_kafka.schema_registry import SchemaRegistryClient

log = logging.getLogger(__name__)


def registry_client(url: str) -> SchemaRegistryClient:
    """confluent-kafka's client of the registry at `url`, its HTTP library's line per request
    silenced."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    for name in ("httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return SchemaRegistryClient({"url": url})


class RegistryUnavailableError(ConnectionError):
    """The schema registry did not answer: worth retrying, unlike a schema it has not got."""


class SchemaNotRegisteredError(RuntimeError):
    """A schema about to be published is not in the registry under its subject."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"schema not registered under subject {subject!r}: run "
                         "`cpis schemas register` against CPIS_SCHEMA_REGISTRY_URL first")


class SchemaIds(SchemaTexts, Protocol):
    def id_of(self, subject: str, text: str) -> int:
        """The id the schema is registered under in the subject."""


class RegistryIds:
    """Schema ids of a registry with the Confluent API, each asked once (the client caches)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @cached_property
    def client(self) -> SchemaRegistryClient:
        """Made on first use: after a fork, in the process that uses it."""
        return registry_client(self.url)

    def id_of(self, subject: str, text: str) -> int:
        from confluent_kafka.schema_registry import Schema as RegistrySchema
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            found = self.client.lookup_schema(subject, RegistrySchema(text, "AVRO"))
        except SchemaRegistryError as error:
            if error.http_status_code == 404:
                raise SchemaNotRegisteredError(subject) from error
            raise RegistryUnavailableError(f"schema registry {self.url}: {error}") from error
        except Exception as error:  # the HTTP client's own errors: the registry is away
            raise RegistryUnavailableError(f"schema registry {self.url}: {error}") from error
        return int(found.schema_id or 0)

    def text_of(self, schema_id: int) -> str | None:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return self.client.get_schema(schema_id).schema_str
        except SchemaRegistryError as error:
            if error.http_status_code == 404:
                return None
            raise RegistryUnavailableError(f"schema registry {self.url}: {error}") from error
        except Exception as error:
            raise RegistryUnavailableError(f"schema registry {self.url}: {error}") from error


def confluent_header(schema_id: int) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big")


class WireFormat:
    """Stored (single-object) messages -> topic (Confluent) messages, each schema version's
    id looked up under its topic's subject the first time it is met."""

    def __init__(self, schemas: AvroSchemas, topics: Topics, ids: SchemaIds) -> None:
        self.schemas = schemas
        self.topics = topics
        self.ids = ids
        self.headers: dict[bytes, bytes] = {}  # single-object header -> Confluent header

    def header_for(self, stored: bytes) -> bytes:
        """The Confluent header of the schema whose single-object header is `stored`."""
        header = self.headers.get(stored)
        if header is None:
            header = self.headers[stored] = confluent_header(self._id(stored))
        return header

    def _id(self, stored: bytes) -> int:
        schema = self.schemas.by_fingerprint.get(stored[2:HEADER])
        if schema is None:
            raise ValueError(f"no schema in avro/ has the header {stored.hex()}")
        subject = f"{topic_of(schema.full_name, self.topics)}-{schema.full_name}"
        schema_id = self.ids.id_of(subject, compact_text(schema.path))
        log.info("%s: publishing %s as schema id %d", subject, schema.path.name, schema_id)
        return schema_id

    def prefetch(self) -> None:
        """Look up every current schema's id now: a process starts knowing them (or stops
        at once on one not registered) instead of waiting on the registry mid-batch."""
        for schema in self.schemas.current.values():
            self.header_for(schema.header)

    def framed(self, stored: bytes) -> bytes:
        """A message in the stored form, in Confluent's."""
        return self.header_for(stored[:HEADER]) + stored[HEADER:]
