"""What `/ready` checks, one function per dependency: each raises when it cannot be reached
within a couple of seconds."""

from __future__ import annotations

import urllib.request

import psycopg
from confluent_kafka.admin import AdminClient

from domain.application.app import CpisApplication
from streams.ops.endpoint import Check
from streams.settings import Settings

TIMEOUT = 2.0  # seconds a check may take: a scrape or a probe waits for it


def postgres(conninfo: str) -> Check:
    def check() -> None:
        with psycopg.connect(conninfo, connect_timeout=int(TIMEOUT)) as conn:
            conn.execute("SELECT 1")
    return check


def event_store(app: CpisApplication) -> Check:
    def check() -> None:
        app.recorder.max_notification_id()
    return check


def kafka(bootstrap: str) -> Check:
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def check() -> None:
        admin.list_topics(timeout=TIMEOUT)
    return check


def http(url: str) -> Check:
    """A GET answered 2xx (urlopen raises on any other)."""
    def check() -> None:
        with urllib.request.urlopen(url, timeout=TIMEOUT):  # noqa: S310 - a configured URL
            pass
    return check


def registry(url: str) -> Check:
    return http(f"{url}/subjects")


def streams(settings: Settings) -> dict[str, Check]:
    """What every process reading or writing topics needs: Kafka and the schema registry."""
    return {"kafka": kafka(settings.require_kafka()),
            "schema registry": registry(settings.require_schema_registry())}
