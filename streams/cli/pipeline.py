"""`cpis topics | relay | project | replay`: the event store to Kafka, Kafka to the views."""

from __future__ import annotations

import argparse
import logging

from domain.application.store import utc_now
from streams.bootstrap import (
    build_application,
    build_outbox,
    build_projector,
    build_relay,
    build_topic_schemas,
    build_view_store,
    topics_of,
)
from streams.cli.commands import (
    KAFKA,
    STORE,
    VIEWS,
    Commands,
    command,
    metrics_port,
    positive,
)
from streams.kafka.admin import ensure_topics
from streams.ops import checks, metrics
from streams.ops.endpoint import serve_operations
from streams.projection.projector import DEFAULT_INSTANCE
from streams.projection.replay import BATCH_SIZE as REPLAY_BATCH
from streams.projection.replay import ReplayStoppedError, replay
from streams.relay.relay import BATCH_SIZE as RELAY_BATCH
from streams.relay.relay import TRANSACTION_EVENTS as RELAY_TRANSACTION
from streams.settings import Settings

log = logging.getLogger("cpis")


def topics(settings: Settings, _: argparse.Namespace) -> int:
    found = topics_of(settings)
    ensure_topics(settings.require_kafka(), found, settings.topic_layout)
    print("\n".join(found.all()))
    return 0


def relay(settings: Settings, args: argparse.Namespace) -> int:
    ensure_topics(settings.require_kafka(), topics_of(settings), settings.topic_layout)
    app = build_application(settings)
    try:
        running = build_relay(settings, app, batch_size=args.batch_size,
                              transaction_events=args.transaction_events)
        metrics.watch("relay lag", metrics.RelayLag(
            lambda: app.recorder.max_notification_id() or 0, lambda: running.position))
        serve_operations(settings.metrics_host, args.metrics_port, {
            "event store": checks.event_store(app), **checks.streams(settings)})
        count = running.run(stop=args.stop, until_caught_up=args.until_caught_up)
    finally:
        app.close()
    log.info("relay published %d events; position %d", count, running.position)
    return 0


def project(settings: Settings, args: argparse.Namespace) -> int:
    ensure_topics(settings.require_kafka(), topics_of(settings), settings.topic_layout)
    projector = build_projector(settings, batch_size=args.batch_size, instance=args.instance)
    outbox = build_outbox(settings)
    outbox.setup()  # its delivery tables, read by the metrics before the sender makes them
    metrics.watch("outbox", metrics.OutboxState(outbox))
    serve_operations(settings.metrics_host, args.metrics_port, {
        "views": checks.postgres(settings.postgres.conninfo()), **checks.streams(settings)})
    count = projector.run(stop=args.stop, idle_timeout=args.idle_exit)
    log.info("projector applied %d messages", count)
    return 0


def replay_views(settings: Settings, args: argparse.Namespace) -> int:
    ensure_topics(settings.require_kafka(), topics_of(settings), settings.topic_layout)
    next_report = [args.progress_every]

    def progress(done: int) -> None:
        if done >= next_report[0]:
            log.info("replayed %d messages", done)
            next_report[0] = (done // args.progress_every + 1) * args.progress_every

    try:
        report = replay(build_view_store(settings), build_topic_schemas(settings),
                        settings.kafka_bootstrap, topics_of(settings),
                        batch_size=args.batch_size, progress=progress, workers=args.workers,
                        stop=args.stop,
                        forget_sent_before=utc_now() - settings.notification_retention)
    except ReplayStoppedError as stopped:
        log.warning("%s: the views are unchanged", stopped)
        return 1
    log.info("replay rebuilt generation %d from offset zero: %d messages (%d poison) in "
             "%.1fs, %.0f/s, %d worker(s); views switched from generation %d",
             report.generation, report.messages, report.poison, report.seconds, report.rate,
             report.workers, report.previous_generation)
    return 0


def add_commands(commands: Commands) -> None:
    command(commands, "topics", "create the Kafka topics (idempotent)",
            "Create every CP-IS topic that is missing, and print their names.", [KAFKA], topics)
    rel = command(commands, "relay", "publish stored events to Kafka, exactly once",
                  "Publish each stored event, in order, to its topic keyed by NHS number, "
                  "with the LA notifications it causes, in Kafka transactions; runs until "
                  "stopped (SIGTERM/SIGINT finish the transaction and exit).",
                  [STORE, KAFKA], relay)
    metrics_port(rel, 9310)
    rel.add_argument("--until-caught-up", action="store_true",
                     help="exit once every stored event is published")
    rel.add_argument("--batch-size", type=positive, default=RELAY_BATCH, metavar="N",
                     help="events read from the store at a time")
    rel.add_argument("--transaction-events", type=positive, default=RELAY_TRANSACTION,
                     metavar="N", help="events in one Kafka transaction at most")
    proj = command(commands, "project", "build the PostgreSQL views from Kafka",
                   "Consume the record topics and keep the views (current plans, access "
                   "history, LA notification outbox) and their offsets, in one transaction "
                   "a batch; poison messages go to the dead-letter topic. Runs until stopped.",
                   [KAFKA, VIEWS], project)
    metrics_port(proj, 9311)
    proj.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                      help="exit after this long with nothing to consume (default: never)")
    proj.add_argument("--batch-size", type=positive, default=500, metavar="N",
                      help="messages in one view transaction at most")
    proj.add_argument("--instance", default=DEFAULT_INSTANCE,
                      help="this projector's stable id in the consumer group: each concurrent "
                      "projector its own, a restarted one the same")
    rep = command(commands, "replay", "rebuild every view from offset zero, then switch",
                  "Build a new generation of the views from the start of every record topic, "
                  "then switch the views to it in one transaction; a failed or stopped "
                  "replay leaves the views as they were.", [KAFKA, VIEWS], replay_views)
    rep.add_argument("--batch-size", type=positive, default=REPLAY_BATCH, metavar="N",
                     help="messages a worker applies at a time")
    rep.add_argument("--progress-every", type=positive, default=100_000, metavar="N",
                     help="log progress every N messages")
    rep.add_argument("--workers", type=positive, metavar="N",
                     help="processes, each replaying its share of the partitions (default: "
                     "one per partition number)")
