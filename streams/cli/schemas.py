"""`cpis schemas register|check`: the topics' Avro schemas in a schema registry with the
Confluent API (infra/registry.sh runs Apicurio Registry), one subject per topic and record
(streams/avro/subjects.py)."""

from __future__ import annotations

import argparse
import inspect
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from streams.avro.landing import landing_tables
from streams.avro.schemas import DEFAULT_AVRO_DIR
from streams.avro.subjects import COMPATIBILITY, Subject, subjects
from streams.avro.wire import registry_client
from streams.bootstrap import topics_of
from streams.cli.commands import Commands, command
from streams.kafka.topics import Topics
from streams.settings import Settings

if TYPE_CHECKING:  # imported when used: every other `cpis` command starts without it
    from confluent_kafka.schema_registry import SchemaRegistryClient

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 5
REGISTRY = "CPIS_SCHEMA_REGISTRY_URL (the registry's Confluent-compatible API), " \
           "CPIS_TOPIC_PREFIX"


def _client(settings: Settings) -> SchemaRegistryClient:
    return registry_client(settings.require_schema_registry())


def register(settings: Settings, args: argparse.Namespace) -> int:
    """Register every version of every schema, oldest first, under its subject, each
    subject BACKWARD_TRANSITIVE; what is registered already is left as it is."""
    register_all(_client(settings), topics_of(settings), args.avro_dir)
    return 0


def register_all(client: SchemaRegistryClient, topics: Topics,
                 avro_dir: Path = DEFAULT_AVRO_DIR) -> None:
    """Every subject, several at a time (a subject's versions in their order)."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda subject: _register(client, subject), subjects(topics, avro_dir)))


def _register(client: SchemaRegistryClient, subject: Subject) -> None:
    from confluent_kafka.schema_registry import Schema

    _answered(partial(client.set_compatibility, subject.name, COMPATIBILITY))
    for text in subject.versions:
        registered = _answered(partial(client.register_schema, subject.name,
                                       Schema(text, "AVRO")))
        log.info("%s: schema id %d", subject.name, registered)


def _server_error(error: BaseException) -> bool:
    """The registry's own failure (5xx): a registry whose database has just restarted
    answers a request or two so, then works again."""
    return 500 <= int(getattr(error, "http_status_code", 0) or 0) < 600


def _answered(call: Callable[[], T]) -> T:
    """`call`, tried again on a server error, five tries over at most ~5 s; a refusal (4xx,
    a schema that breaks compatibility) is raised at once."""
    retrying = Retrying(retry=retry_if_exception(_server_error), reraise=True,
                        stop=stop_after_attempt(RETRIES),
                        wait=wait_random_exponential(multiplier=0.2, max=2))
    return retrying(call)


def check(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 1 when a current schema would break a reader of a version already registered."""
    client = _client(settings)
    broken = [problem for subject in subjects(topics_of(settings), args.avro_dir)
              for problem in _problems(client, subject)]
    for problem in broken:
        log.error("%s", problem)
    if not broken:
        log.info("every schema is compatible with every version registered")
    return 1 if broken else 0


def _problems(client: SchemaRegistryClient, subject: Subject) -> list[str]:
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    try:
        versions = client.get_versions(subject.name)
    except SchemaRegistryError as error:
        if error.http_status_code == 404:
            return []  # nothing registered yet: nothing to break
        raise
    current = Schema(subject.versions[-1], "AVRO")
    return [f"{subject.name}: the schema in avro/ cannot read version {version} as "
            f"registered ({COMPATIBILITY})" for version in versions
            if not client.test_compatibility(subject.name, current, version=version)]


def landing_ddl(settings: Settings, args: argparse.Namespace) -> int:
    """Print CREATE TABLE statements for landing topics through Kafka Connect (Apicurio's
    Avro converter, the Flatten transform with `_`, Debezium's JDBC sink with
    quote.identifiers=true): a nullable column for each field of every event type a topic
    carries. See README, "Consuming the topics"."""
    topics = topics_of(settings)
    wanted = [f"{settings.topic_prefix}{name}" for name in args.topic] if args.topic \
        else list(topics.record_events)
    try:
        print(landing_tables(topics, wanted, args.schema))
    except ValueError as error:
        log.error("%s (topics: %s)", error, ", ".join(topics.record_events))
        return 2
    return 0


def add_commands(commands: Commands) -> None:
    group = command(commands, "schemas", "the topics' Avro schemas in the schema registry",
                    "Register the topics' Avro schemas (avro/ and avro/history/) with a schema "
                    "registry's Confluent API, or check a change against what is registered.",
                    [REGISTRY])
    actions = group.add_subparsers(dest="schemas_command", required=True, metavar="ACTION")
    for name, summary, handler in (
            ("register", "register every schema version, oldest first", register),
            ("check", "exit 1 when a schema would break readers of registered versions",
             check)):
        sub = command(actions, name, summary, inspect.cleandoc(handler.__doc__ or ""), [REGISTRY],
                      handler)
        sub.add_argument("--avro-dir", type=Path, default=DEFAULT_AVRO_DIR,
                         help="the folder of the .avsc files (with history/)")
    landing = command(actions, "landing", "print the tables a JDBC sink lands topics in",
                      inspect.cleandoc(landing_ddl.__doc__ or ""), ["CPIS_TOPIC_PREFIX"],
                      landing_ddl)
    landing.add_argument("--schema", default="analytics",
                         help="the PostgreSQL schema of the tables (default: %(default)s)")
    landing.add_argument("--topic", action="append", metavar="NAME",
                         help="a topic without the prefix, e.g. cpis.plans.v1 (repeatable; "
                              "default: the plans, accesses and identity topics)")
