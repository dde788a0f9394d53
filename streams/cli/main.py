"""The `cpis` command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from adapters.hl7v3.endpoints import EndpointRegistry, EndpointRegistryError
from adapters.mesh.quarantine import Quarantine
from domain.model.errors import DomainError
from streams.avro.registry import SchemaRegistry
from streams.bootstrap import (
    build_application,
    build_projector,
    build_relay,
    build_view_store,
    topics_of,
)
from streams.cli.audit import add_commands as add_audit_commands
from streams.cli.demo import run_demo
from streams.cli.output import json_lines, table
from streams.cli.pds import add_commands as add_identity_commands
from streams.kafka.admin import ensure_topics
from streams.logs import configure_logging, log_config
from streams.mesh_poller import run_mesh_poller
from streams.projection.projector import DEFAULT_INSTANCE
from streams.projection.replay import BATCH_SIZE as REPLAY_BATCH
from streams.projection.replay import ReplayStoppedError, replay
from streams.relay.relay import BATCH_SIZE as RELAY_BATCH
from streams.relay.relay import TRANSACTION_EVENTS as RELAY_TRANSACTION
from streams.relay.relay import MessageTooLargeError
from streams.serve.http import (
    ListenError,
    check_plain_http_host,
    serve_http,
    server_config,
)
from streams.settings import Settings, SettingsError, load_settings

log = logging.getLogger("cpis")


class StopFlag:
    """Set by SIGTERM/SIGINT so long-running commands finish their batch and exit."""

    def __init__(self) -> None:
        self.stopped = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, *_: object) -> None:
        self.stopped = True

    def __call__(self) -> bool:
        return self.stopped


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    app = build_application(settings)
    print(f"CP-IS demo on the {settings.event_store} event store"
          + (f" ({settings.sqlite_path})" if settings.event_store == "sqlite" else ""))
    try:
        run_demo(app)
    finally:
        app.close()
    return 0


def _topics(settings: Settings, _: argparse.Namespace) -> int:
    topics = topics_of(settings)
    ensure_topics(settings.require_kafka(), topics)
    print("\n".join(topics.all()))
    return 0


def _relay(settings: Settings, args: argparse.Namespace) -> int:
    ensure_topics(settings.require_kafka(), topics_of(settings))
    app = build_application(settings)
    try:
        relay = build_relay(settings, app, batch_size=args.batch_size,
                            transaction_events=args.transaction_events)
        count = relay.run(stop=args.stop, until_caught_up=args.until_caught_up)
    finally:
        app.close()
    log.info("relay published %d events; position %d", count, relay.position)
    return 0


def _project(settings: Settings, args: argparse.Namespace) -> int:
    ensure_topics(settings.require_kafka(), topics_of(settings))
    projector = build_projector(settings, batch_size=args.batch_size, instance=args.instance)
    count = projector.run(stop=args.stop, idle_timeout=args.idle_exit)
    log.info("projector applied %d messages", count)
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    ensure_topics(settings.require_kafka(), topics_of(settings))

    next_report = [args.progress_every]

    def progress(done: int) -> None:
        if done >= next_report[0]:
            log.info("replayed %d messages", done)
            next_report[0] = (done // args.progress_every + 1) * args.progress_every

    try:
        report = replay(build_view_store(settings), SchemaRegistry(),
                        settings.kafka_bootstrap, topics_of(settings),
                        batch_size=args.batch_size, progress=progress, workers=args.workers,
                        stop=args.stop)
    except ReplayStoppedError as stopped:
        log.warning("%s: the views are unchanged", stopped)
        return 1
    log.info("replay rebuilt generation %d from offset zero: %d messages (%d poison) in "
             "%.1fs, %.0f/s, %d worker(s); views switched from generation %d",
             report.generation, report.messages, report.poison, report.seconds, report.rate,
             report.workers, report.previous_generation)
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """One uvicorn worker process by default; with --workers N each worker builds its own
    application (and database connections) from the environment: see http_app_from_env."""
    if args.workers > 1 and settings.event_store != "postgres":
        raise SettingsError(f"--workers {args.workers} needs CPIS_EVENT_STORE=postgres: the "
                            f"{settings.event_store} store belongs to one process")
    host, port = args.host or settings.http_host, args.port or settings.http_port
    if args.insecure_http:
        check_plain_http_host(host)
        tls = None
    else:
        tls = settings.require_tls()
        if settings.endpoint_registry is None:
            raise SettingsError("cpis serve with TLS needs CPIS_ENDPOINT_REGISTRY (the ASIDs, "
                                "certificates and organisations allowed to query)")
    EndpointRegistry.load(settings.endpoints_file)  # refuse to start on a bad registry
    scheme = "http" if tls is None else "https"
    log.info("serving the CP-IS NHS query on %s://%s:%d/cpisquery (%s event store, "
             "%d worker(s), endpoints from %s)", scheme, host, port, settings.event_store,
             args.workers, settings.endpoints_file)
    serve_http(server_config("streams.serve.http:app_from_env", host, port, args.workers,
                             settings.http_limits, tls,
                             log_config(settings.log_format, settings.log_level)))
    return 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def _mesh(settings: Settings, args: argparse.Namespace) -> int:
    """Poll the CP-IS inbox and send due notifications, every CPIS_MESH_POLL_SECONDS."""
    run_mesh_poller(settings, args.stop, args.once)
    return 0


def _quarantine_list(settings: Settings, args: argparse.Namespace) -> int:
    entries = Quarantine(settings.quarantine).entries()
    if args.json:
        json_lines(entries)
    elif not entries:
        print(f"no MESH message is quarantined in {settings.quarantine}")
    else:
        table(["received at", "MESH message", "sender", "stage", "bytes", "reason"],
              [(e.received_at, e.mesh_message_id, e.sender, e.stage, e.size, e.reason)
               for e in entries])
    return 0


def _quarantine_show(settings: Settings, args: argparse.Namespace) -> int:
    data = Quarantine(settings.quarantine).data(args.mesh_message_id)
    if data is None:
        print(f"cpis: no quarantined bytes for MESH message {args.mesh_message_id} in "
              f"{settings.quarantine}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cpis", description="CP-IS: child protection information sharing core"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo", help="upload synthetic plans, query one as an emergency department, "
        "print the answer and the recorded history (embedded store, no servers)",
    ).set_defaults(handler=_demo)
    commands.add_parser("topics", help="create the Kafka topics (idempotent)"
                        ).set_defaults(handler=_topics)
    relay = commands.add_parser("relay", help="publish stored events to Kafka (exactly once)")
    relay.add_argument("--until-caught-up", action="store_true",
                       help="exit when every stored event is published")
    relay.add_argument("--batch-size", type=_positive, default=RELAY_BATCH, metavar="N",
                       help=f"events read from the store at a time (default {RELAY_BATCH:,})")
    relay.add_argument("--transaction-events", type=_positive, default=RELAY_TRANSACTION,
                       metavar="N", help="events per Kafka transaction at most (default "
                            f"{RELAY_TRANSACTION:,})")
    relay.set_defaults(handler=_relay)
    project = commands.add_parser("project", help="build the PostgreSQL views from Kafka")
    project.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                         help="exit after this long with nothing to consume")
    project.add_argument("--batch-size", type=int, default=500)
    project.add_argument("--instance", default=DEFAULT_INSTANCE,
                         help="this projector's stable id in the consumer group: give each "
                         "concurrent projector its own, and a restarted one the same")
    project.set_defaults(handler=_project)
    serve = commands.add_parser("serve", help="answer HL7 V3 CP-IS NHS queries over HTTP")
    serve.add_argument("--host", default=None, help="listen address (CPIS_HTTP_HOST)")
    serve.add_argument("--port", type=int, default=None, help="listen port (CPIS_HTTP_PORT)")
    serve.add_argument("--workers", type=_positive, default=1,
                       help="worker processes (default 1; PostgreSQL store for more than one)")
    serve.add_argument("--insecure-http", action="store_true",
                       help="plain HTTP without client certificates, on a loopback address "
                       "only: for the demo and local tests (default: mutual TLS)")
    serve.set_defaults(handler=_serve)
    mesh = commands.add_parser("mesh", help="poll the CP-IS MESH inbox for uploads and send "
                               "LA notifications")
    mesh.add_argument("--once", action="store_true", help="one poll and one send, then exit")
    mesh.set_defaults(handler=_mesh)
    quarantine = commands.add_parser(
        "quarantine", help="MESH messages CP-IS could not take, kept with their bytes",
        description="MESH messages that failed at some stage (download, read, file checks, "
        "records, storage, reply), kept in CPIS_QUARANTINE_DIR (default "
        "CPIS_DATA_DIR/quarantine) after a CPF01 reply.")
    kept = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="ACTION")
    listed = kept.add_parser("list", help="every quarantined message: when, who, stage, why")
    listed.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    listed.set_defaults(handler=_quarantine_list)
    shown = kept.add_parser("show", help="write a quarantined message's bytes to stdout")
    shown.add_argument("mesh_message_id")
    shown.set_defaults(handler=_quarantine_show)
    add_identity_commands(commands)
    add_audit_commands(commands)
    rep = commands.add_parser("replay", help="rebuild every view from offset zero and switch")
    rep.add_argument("--batch-size", type=_positive, default=REPLAY_BATCH)
    rep.add_argument("--progress-every", type=int, default=100_000)
    rep.add_argument("--workers", type=_positive,
                     help="processes, each replaying its share of the partitions "
                          "(default: one per partition number)")
    rep.set_defaults(handler=_replay)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # from here on SIGTERM/SIGINT ask long-running commands to finish their batch and exit 0
    # (uvicorn re-raises the signal after its graceful shutdown: it lands here too)
    args.stop = StopFlag()
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"cpis: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        return int(args.handler(settings, args))
    except BrokenPipeError:  # a report piped into `head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SettingsError, DomainError, ListenError, EndpointRegistryError) as error:
        print(f"cpis: {error}", file=sys.stderr)
        return 2
    except MessageTooLargeError as error:
        print(f"cpis: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
