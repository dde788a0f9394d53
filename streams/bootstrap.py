"""The one composition root: builds the application, relay, projector and views from settings."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime

import psycopg
from eventsourcing.persistence import InternalError

from adapters.event_store.postgres_recorder import CommitOrderedRecorder
from adapters.hl7v3.endpoints import EndpointRegistry
from adapters.hl7v3.query_service import Hl7QueryService
from adapters.mesh.mailbox import Mailbox
from adapters.mesh.notification_sender import NotificationSender
from adapters.mesh.quarantine import Quarantine
from adapters.mesh.upload_receiver import UploadReceiver
from adapters.pds.synthetic import SyntheticPds
from adapters.views.outbox import NotificationOutbox
from adapters.views.postgres import PostgresViewStore
from domain.application.app import CpisApplication
from domain.application.store import utc_now
from streams.avro.mapper import AvroEventMapper, avro_mapper
from streams.avro.schemas import AvroSchemas
from streams.avro.stored import with_position
from streams.avro.wire import RegistryIds, WireFormat
from streams.kafka.topics import Topics
from streams.projection.projector import DEFAULT_INSTANCE, Projector, ProjectorConfig
from streams.relay.reading import BatchEncoder
from streams.relay.relay import BATCH_SIZE as RELAY_BATCH
from streams.relay.relay import TRANSACTION_EVENTS as RELAY_TRANSACTION
from streams.relay.relay import Relay, RelayConfig
from streams.settings import Settings, SettingsError
from streams.uploads.forked import ForkedShards
from streams.uploads.prepared import ShardedPreparation


def build_application(
    settings: Settings, clock: Callable[[], datetime] = utc_now, read_only: bool = False
) -> CpisApplication:
    """The application on the configured store. `read_only` (the reports): the store must
    exist already, and nothing is created; a mistyped CPIS_DATA_DIR or schema says so."""
    env = settings.event_store_env()
    if read_only:
        require_store(settings)
        env["CREATE_TABLE"] = "no"
    elif settings.event_store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 6):
        try:
            return _prepared_in_processes(_positions_written(CpisApplication(
                env=env, clock=clock,
                mapper=avro_mapper(AvroSchemas()),
                limits=settings.limits)), settings)
        except InternalError as error:
            # processes starting together race to create the tables and functions
            if "concurrently" not in str(error) or attempt == 5:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def require_store(settings: Settings) -> None:
    """SettingsError unless the configured event store holds a CP-IS store."""
    if settings.event_store == "sqlite" and not settings.sqlite_path.is_file():
        raise SettingsError(f"no CP-IS store at {settings.sqlite_path} (CPIS_DATA_DIR is "
                            f"{settings.data_dir})")
    if settings.event_store == "postgres" and not _postgres_store_exists(settings):
        pg = settings.postgres
        raise SettingsError(f"no CP-IS store in PostgreSQL {pg.host}:{pg.port}/{pg.dbname} "
                            f"schema {pg.schema or 'public'} (CPIS_POSTGRES_*)")
    if settings.event_store == "memory":
        raise SettingsError("CPIS_EVENT_STORE=memory keeps nothing between commands: "
                            "there is no store to report on")


def _postgres_store_exists(settings: Settings) -> bool:
    try:
        with psycopg.connect(settings.postgres.conninfo(), connect_timeout=10) as conn:
            found = conn.execute("SELECT to_regclass(%s)", (
                f'"{settings.postgres.schema or "public"}".cpis_events',)).fetchone()
    except psycopg.Error as error:
        raise SettingsError(f"cannot reach PostgreSQL: {str(error).strip()}") from None
    return found is not None and found[0] is not None


def _prepared_in_processes(app: CpisApplication, settings: Settings) -> CpisApplication:
    """Large uploads prepared in forked processes, where there are several and fork is."""
    if settings.upload_processes > 1 and hasattr(os, "fork"):
        app.prepare_with(ShardedPreparation(ForkedShards(settings.upload_processes),
                                            app.mapper))
    return app


def _positions_written(app: CpisApplication) -> CpisApplication:
    """The PostgreSQL recorder told to write each copied event's position into its state,
    where states are the plain Avro messages the relay publishes; and the record locks
    shared by every process writing to PostgreSQL."""
    mapper = app.mapper
    if isinstance(app.recorder, CommitOrderedRecorder):
        app.use_exclusive_writes(app.recorder)
        if isinstance(mapper, AvroEventMapper) and mapper.stores_plain_avro:
            app.recorder.write_position = with_position
    return app


def topics_of(settings: Settings) -> Topics:
    return Topics(settings.topic_prefix)


def build_view_store(settings: Settings) -> PostgresViewStore:
    return PostgresViewStore(settings.postgres.conninfo(), settings.views_schema)


def build_query_service(settings: Settings, app: CpisApplication) -> Hl7QueryService:
    return Hl7QueryService(app, settings.asid, utc_now,
                           EndpointRegistry.load(settings.endpoints_file))


def build_upload_receiver(settings: Settings, app: CpisApplication,
                          mailbox: Mailbox) -> UploadReceiver:
    return UploadReceiver(app, SyntheticPds.load(), mailbox, settings.la_mailboxes,
                          settings.workflows, utc_now, Quarantine(settings.quarantine),
                          build_outbox(settings))


def build_outbox(settings: Settings) -> NotificationOutbox:
    return NotificationOutbox(build_view_store(settings))


def build_notification_sender(settings: Settings, mailbox: Mailbox) -> NotificationSender:
    return NotificationSender(build_outbox(settings), mailbox, settings.la_mailboxes,
                              settings.workflows, utc_now, settings.notification_retention)


def build_topic_schemas(settings: Settings) -> AvroSchemas:
    """The schemas topics are read with: avro/, and the registry's for the ids messages
    name."""
    return AvroSchemas(registry=RegistryIds(settings.require_schema_registry()))


def build_wire_format(settings: Settings) -> WireFormat:
    """How events and notifications are written to the topics: Confluent's wire format,
    ids from the registry (streams/avro/wire.py)."""
    ids = RegistryIds(settings.require_schema_registry())
    return WireFormat(AvroSchemas(registry=ids), topics_of(settings), ids)


def build_relay(settings: Settings, app: CpisApplication, batch_size: int = RELAY_BATCH,
                transaction_events: int = RELAY_TRANSACTION) -> Relay:
    config = RelayConfig(settings.require_kafka(), topics_of(settings),
                         transactional_id=f"{settings.topic_prefix}cpis-relay",
                         transaction_events=transaction_events)
    return Relay(BatchEncoder(app, build_wire_format(settings), batch_size), config)


def build_projector(settings: Settings, batch_size: int = 500,
                    instance: str = DEFAULT_INSTANCE) -> Projector:
    config = ProjectorConfig(settings.require_kafka(), topics_of(settings),
                             group_id=f"{settings.topic_prefix}cpis-projector",
                             batch_size=batch_size, instance_id=instance)
    return Projector(build_view_store(settings), build_topic_schemas(settings), config)
