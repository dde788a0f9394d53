"""Settings: the one place that reads the environment.

CPIS_EVENT_STORE   sqlite (default, embedded) | postgres | memory
CPIS_DATA_DIR      folder for the embedded SQLite store (default ./.cpis)
CPIS_POSTGRES_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SCHEMA   PostgreSQL event store
CPIS_KAFKA_BOOTSTRAP  Kafka bootstrap servers (host:port); unset means no Kafka
CPIS_TOPIC_PREFIX     prefix for every topic name (default none)
CPIS_VIEWS_SCHEMA     PostgreSQL schema of the projections (default cpis_views)
CPIS_HTTP_HOST, CPIS_HTTP_PORT   where `cpis serve` listens (default 127.0.0.1:8080)
CPIS_TLS_CERT, CPIS_TLS_KEY      `cpis serve`'s certificate and key (PEM)
CPIS_TLS_CLIENT_CA    the CA that signs care settings' client certificates (PEM)
CPIS_ENDPOINT_REGISTRY  JSON file: ASID -> certificate, organisations, interactions, care;
                      the job roles allowed (adapters/hl7v3/endpoints.py); without it, plain
                      HTTP uses the bundled local registry (streams/local_endpoints.json)
CPIS_HTTP_HEAD_BYTES, _HEADERS, _HEAD_SECONDS, _BODY_SECONDS, _IDLE_SECONDS, _CONNECTIONS
                      request-head size (16384) and header count (64), seconds to send the
                      head (10) and the body (30), idle seconds between requests (5),
                      connections per worker (100)
CPIS_CLOCK_SKEW_SECONDS   how far after CP-IS's clock an access time may be (default 300)
CPIS_ACCESS_MAX_AGE_HOURS how far before it (default 24)
CPIS_TEST_NHS_NUMBERS accept (default) | refuse: the 999 test range of NHS numbers
CPIS_LOG_FORMAT       json (default) | text;  CPIS_LOG_LEVEL  INFO (default), DEBUG, ...
CPIS_QUARANTINE_DIR   where MESH messages that failed are kept (default CPIS_DATA_DIR/quarantine)
CPIS_ASID             CP-IS's own ASID in HL7 replies (default 990000000001)
CPIS_MESH_URL, CPIS_MESH_MAILBOX, CPIS_MESH_PASSWORD, CPIS_MESH_SHARED_KEY   CP-IS's mailbox
CPIS_MESH_LA_MAILBOXES  ODS=MAILBOX pairs, comma-separated
CPIS_MESH_WORKFLOW_UPLOAD, _UPLOAD_ACK, _ACCESS, _INACTIVE   MESH workflow ids
CPIS_MESH_POLL_SECONDS  seconds between inbox polls (default 60)
CPIS_SCHEMA_REGISTRY_URL  a schema registry's Confluent API: the topics' schema ids
                        (infra/registry.sh)
CPIS_TOPIC_PARTITIONS, CPIS_TOPIC_REPLICATION, CPIS_MIN_INSYNC_REPLICAS   how topics are
                        made (default 3, 3, 2; copies at most the brokers there are)
CPIS_METRICS_HOST       where the long-running processes serve /metrics, /health and /ready
                        (default 127.0.0.1; each process has a --metrics-port)
CPIS_NOTIFICATION_RETENTION_DAYS  days a sent LA notification stays in the la_notifications
                        view (default 30; its event and delivery row stay for good)
CPIS_UPLOAD_PROCESSES   processes a large upload's records are prepared in (default: the CPUs)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from adapters.event_store.postgres_recorder import TOPIC as RECORDER_TOPIC
from adapters.mesh.mailbox import MeshSettings
from adapters.mesh.notification_sender import RETENTION
from adapters.mesh.workflows import LaMailboxes, Workflows
from domain.model.limits import Limits
from streams.console.config import ConsoleSettings, console_from_env
from streams.kafka.admin import TopicLayout
from streams.settings_parts import (
    HttpLimits,
    PostgresSettings,
    SettingsError,
    Tls,
    http_limits_from_env,
    la_mailboxes_from,
    limits_from_env,
    path_or_none,
    positive,
    postgres_from_env,
    tls_from_env,
    whole_number,
)

__all__ = ["HttpLimits", "PostgresSettings", "Settings", "SettingsError", "Tls",
           "load_settings", "postgres_from_env"]

EVENT_STORES = ("sqlite", "postgres", "memory")
LOG_FORMATS = ("json", "text")
LOCAL_ENDPOINTS = Path(__file__).resolve().parent / "local_endpoints.json"
DEFAULT_LA_MAILBOXES = "X26=X26LA001,X27=X27LA001,X28=X28LA001"
MAX_UPLOAD_PROCESSES = 64


@dataclass(frozen=True)
class Settings:
    event_store: str = "sqlite"
    data_dir: Path = Path(".cpis")
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    kafka_bootstrap: str = ""
    topic_prefix: str = ""
    views_schema: str = "cpis_views"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    asid: str = "990000000001"
    mesh: MeshSettings = field(default_factory=lambda: MeshSettings("", "CPIS0001", "password",
                                                                    ""))
    la_mailboxes: LaMailboxes = field(default_factory=lambda: LaMailboxes.parse(
        DEFAULT_LA_MAILBOXES))
    workflows: Workflows = field(default_factory=Workflows)
    mesh_poll_seconds: float = 60.0
    upload_processes: int = 1
    tls: Tls | None = None
    endpoint_registry: Path | None = None
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    limits: Limits = field(default_factory=Limits)
    log_format: str = "json"
    log_level: str = "INFO"
    quarantine_dir: Path | None = None
    notification_retention: timedelta = RETENTION  # a sent notification's row in the view
    schema_registry_url: str = ""
    metrics_host: str = "127.0.0.1"
    topic_layout: TopicLayout = field(default_factory=TopicLayout)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    def __post_init__(self) -> None:
        if self.event_store not in EVENT_STORES:
            raise SettingsError(
                f"CPIS_EVENT_STORE must be one of {', '.join(EVENT_STORES)}, "
                f"got {self.event_store!r}"
            )
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"CPIS_LOG_FORMAT must be json or text, got {self.log_format!r}")
        if not 1 <= self.upload_processes <= MAX_UPLOAD_PROCESSES:
            raise SettingsError(f"CPIS_UPLOAD_PROCESSES must be 1 to {MAX_UPLOAD_PROCESSES}, "
                                f"got {self.upload_processes}")

    def require_schema_registry(self) -> str:
        if not self.schema_registry_url:
            raise SettingsError("CPIS_SCHEMA_REGISTRY_URL is not set; start the registry with "
                                "infra/registry.sh start && . .infra/registry/env")
        return self.schema_registry_url

    def require_kafka(self) -> str:
        if not self.kafka_bootstrap:
            raise SettingsError("CPIS_KAFKA_BOOTSTRAP is not set (e.g. 127.0.0.1:9092); "
                                "start Kafka with infra/kafka.sh start && . .infra/kafka/env")
        return self.kafka_bootstrap

    def require_mesh(self) -> MeshSettings:
        if not self.mesh.url or not self.mesh.shared_key:
            raise SettingsError("CPIS_MESH_URL and CPIS_MESH_SHARED_KEY are not set; start "
                                "mesh-sandbox with infra/mesh.sh start && . .infra/mesh/env")
        return self.mesh

    @property
    def quarantine(self) -> Path:
        return self.quarantine_dir or self.data_dir / "quarantine"

    def require_oidc(self) -> ConsoleSettings:
        if not self.console.issuer or not self.console.client_secret:
            raise SettingsError(
                "CPIS_OIDC_ISSUER and CPIS_OIDC_CLIENT_SECRET are not set; start Keycloak with "
                "infra/keycloak.sh start && . .infra/keycloak/env, or name your issuer")
        return self.console

    def require_tls(self) -> Tls:
        if self.tls is None:
            raise SettingsError(
                "cpis serve needs mutual TLS: set CPIS_TLS_CERT, CPIS_TLS_KEY and "
                "CPIS_TLS_CLIENT_CA (and CPIS_ENDPOINT_REGISTRY), or pass --insecure-http "
                "for plain HTTP on a loopback address (the demo and local tests only)")
        return self.tls

    @property
    def endpoints_file(self) -> Path:
        """The endpoint registry: the configured file, else the bundled local one (which
        only plain HTTP on loopback may use)."""
        return self.endpoint_registry or LOCAL_ENDPOINTS

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "cpis-events.sqlite"

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing environment for the chosen event store."""
        if self.event_store == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.event_store == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(self.sqlite_path)}
        pg = self.postgres
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": pg.host,
            "POSTGRES_PORT": str(pg.port),
            "POSTGRES_DBNAME": pg.dbname,
            "POSTGRES_USER": pg.user,
            "POSTGRES_PASSWORD": pg.password,
            # one INSERT through a function: a big save (a 10,000-record upload) in
            # pipeline mode stalled client and server on each other
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
            # a pooled connection is checked before use: after a PostgreSQL restart the
            # dead ones are replaced at once, instead of failing a retry each
            "POSTGRES_PRE_PING": "y",
            # ... which must still commit in notification-id order (see the recorder)
            "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
        }
        if pg.schema:
            env["POSTGRES_SCHEMA"] = pg.schema
        return env


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(
        event_store=env.get("CPIS_EVENT_STORE", "sqlite"),
        data_dir=Path(env.get("CPIS_DATA_DIR", ".cpis")),
        postgres=postgres_from_env(env),
        kafka_bootstrap=env.get("CPIS_KAFKA_BOOTSTRAP", ""),
        topic_prefix=env.get("CPIS_TOPIC_PREFIX", ""),
        views_schema=env.get("CPIS_VIEWS_SCHEMA", "cpis_views"),
        http_host=env.get("CPIS_HTTP_HOST", "127.0.0.1"),
        http_port=whole_number(env, "CPIS_HTTP_PORT", 8080),
        asid=env.get("CPIS_ASID", "990000000001"),
        mesh=MeshSettings(env.get("CPIS_MESH_URL", ""), env.get("CPIS_MESH_MAILBOX", "CPIS0001"),
                          env.get("CPIS_MESH_PASSWORD", "password"),
                          env.get("CPIS_MESH_SHARED_KEY", "")),
        la_mailboxes=la_mailboxes_from(env.get("CPIS_MESH_LA_MAILBOXES", DEFAULT_LA_MAILBOXES)),
        workflows=Workflows(
            upload=env.get("CPIS_MESH_WORKFLOW_UPLOAD", Workflows.upload),
            upload_ack=env.get("CPIS_MESH_WORKFLOW_UPLOAD_ACK", Workflows.upload_ack),
            access_notification=env.get("CPIS_MESH_WORKFLOW_ACCESS",
                                        Workflows.access_notification),
            inactive_notification=env.get("CPIS_MESH_WORKFLOW_INACTIVE",
                                          Workflows.inactive_notification)),
        mesh_poll_seconds=float(whole_number(env, "CPIS_MESH_POLL_SECONDS", 60)),
        upload_processes=whole_number(env, "CPIS_UPLOAD_PROCESSES",
                              min(os.cpu_count() or 1, MAX_UPLOAD_PROCESSES)),
        tls=tls_from_env(env),
        endpoint_registry=path_or_none(env, "CPIS_ENDPOINT_REGISTRY"),
        http_limits=http_limits_from_env(env),
        limits=limits_from_env(env),
        schema_registry_url=env.get("CPIS_SCHEMA_REGISTRY_URL", ""),
        metrics_host=env.get("CPIS_METRICS_HOST", "127.0.0.1"),
        topic_layout=TopicLayout(positive(env, "CPIS_TOPIC_PARTITIONS", 3),
                                 positive(env, "CPIS_TOPIC_REPLICATION", 3),
                                 positive(env, "CPIS_MIN_INSYNC_REPLICAS", 2)),
        notification_retention=timedelta(days=positive(
            env, "CPIS_NOTIFICATION_RETENTION_DAYS", RETENTION.days)),
        log_format=env.get("CPIS_LOG_FORMAT", "json"),
        log_level=env.get("CPIS_LOG_LEVEL", "INFO").upper(),
        quarantine_dir=path_or_none(env, "CPIS_QUARANTINE_DIR"),
        console=console_from_env(env),
    )


