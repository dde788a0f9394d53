"""`cpis status`: one screen for an operator - each dependency up or down, how far behind the
relay and the projector are, the LA notification outbox, dead letters, each LA's last upload
and quarantined MESH files. Each figure is read on its own: one dependency down leaves the
others shown."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from adapters.mesh.quarantine import Quarantine
from domain.application.upload_history import last_upload
from streams.bootstrap import build_application, build_outbox, build_view_store, topics_of
from streams.cli.commands import KAFKA, STORE, VIEWS, Commands, command, json_flag
from streams.ops import checks
from streams.ops.endpoint import Check
from streams.relay.relay import RelayConfig, read_committed_position
from streams.settings import Settings

Figures = dict[str, Any]


@dataclass(frozen=True)
class Line:
    name: str
    read: Callable[[Settings], Figures]


def dependencies(settings: Settings) -> Figures:
    wanted: dict[str, Callable[[], Check]] = {
        "postgres": lambda: checks.postgres(settings.postgres.conninfo()),
        "kafka": lambda: checks.kafka(settings.require_kafka()),
        "schema registry": lambda: checks.registry(settings.require_schema_registry()),
        "mesh": lambda: checks.http(f"{settings.require_mesh().url}/health")}
    found = {}
    for name, build in wanted.items():
        try:
            build()()
            found[name] = "up"
        except Exception as error:  # shown, not raised: the screen is for what is down
            found[name] = f"down: {_first_line(error)}"
    return found


def _first_line(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"


def relay_lag(settings: Settings) -> Figures:
    app = build_application(settings, read_only=True)
    try:
        newest = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    config = RelayConfig(settings.require_kafka(), topics_of(settings),
                         transactional_id=f"{settings.topic_prefix}cpis-relay")
    published = read_committed_position(config)
    return {"newest event": newest, "published": published, "lag": newest - published}


def _watermarks(settings: Settings, topics: tuple[str, ...]
                ) -> dict[tuple[str, int], tuple[int, int]]:
    """(low, high) of every partition the topics have (CPIS_TOPIC_PARTITIONS made them)."""
    consumer = Consumer({"bootstrap.servers": settings.require_kafka(),
                         "group.id": "cpis-status", "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=5).topics
        return {(t, p): consumer.get_watermark_offsets(TopicPartition(t, p), timeout=5)
                for t in topics for p in metadata[t].partitions}
    finally:
        consumer.close()


def projector_lag(settings: Settings) -> Figures:
    store = build_view_store(settings)
    with store.connect() as conn:
        generation = store.active_generation(conn)
        applied = store.offsets(conn, generation)
    ends = _watermarks(settings, topics_of(settings).record_events)
    behind = {f"{t}[{p}]": high - applied.get((t, p), 0) for (t, p), (_, high) in ends.items()}
    return {"generation": generation, "lag": sum(behind.values()),
            "behind": {k: v for k, v in behind.items() if v}}


def outbox(settings: Settings) -> Figures:
    summary = build_outbox(settings).summary()
    return {"pending": summary.pending, **summary.by_status,
            "oldest pending": summary.oldest_pending.isoformat()
            if summary.oldest_pending else None}


def dead_letters(settings: Settings) -> Figures:
    ends = _watermarks(settings, (topics_of(settings).dead_letter,))
    return {"messages": sum(high - low for low, high in ends.values())}


def last_uploads(settings: Settings) -> Figures:
    """Each configured LA's last upload: when, its file sequence and code, the FileResponse."""
    app = build_application(settings, read_only=True)
    try:
        found: Figures = {}
        for ods in settings.la_mailboxes.by_ods:
            last = last_upload(app, ods)
            found[ods] = "none" if last is None else (
                f"{last.processed_at.isoformat(timespec='seconds')} file {last.sequence} "
                f"{last.file_code} ({last.succeeded}/{last.records} records), FileResponse "
                f"{last.response_message_id or 'not sent'}")
        return found
    finally:
        app.close()


def quarantined(settings: Settings) -> Figures:
    entries = Quarantine(settings.quarantine).entries()
    return {"files": len(entries), "folder": str(settings.quarantine)}


LINES = (Line("dependencies", dependencies), Line("relay", relay_lag),
         Line("projector", projector_lag), Line("LA notifications", outbox),
         Line("dead letters", dead_letters), Line("last upload per LA", last_uploads),
         Line("quarantined MESH messages", quarantined))


def gather(settings: Settings) -> dict[str, Figures]:
    found: dict[str, Figures] = {}
    for line in LINES:
        try:
            found[line.name] = line.read(settings)
        except Exception as error:  # one figure unreadable: say why, show the rest
            found[line.name] = {"unavailable": _first_line(error)}
    return found


def status(settings: Settings, args: argparse.Namespace) -> int:
    """Print the pipeline's state; exit 1 when a dependency is down or a figure unreadable."""
    found = gather(settings)
    if args.json:
        print(json.dumps(found, default=str))
    else:
        for name, figures in found.items():
            print(f"{name}:")
            for key, value in figures.items():
                print(f"  {key:<18} {value}")
    down = any(str(v).startswith("down") for v in found["dependencies"].values())
    return 1 if down or any("unavailable" in f for f in found.values()) else 0


def add_commands(commands: Commands) -> None:
    sub = command(commands, "status", "the pipeline at a glance, for an operator",
                  "Each dependency up or down, relay and projector lag, LA notifications by "
                  "delivery state with the oldest pending, dead letters, each LA's last "
                  "upload, quarantined MESH messages. Exit 1 when something is down or unreadable.",
                  [STORE, KAFKA, VIEWS, "CPIS_SCHEMA_REGISTRY_URL", "CPIS_MESH_URL"], status)
    json_flag(sub)
