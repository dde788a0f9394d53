"""`cpis pds ...`: PDS identity changes (merges, retired NHS numbers)."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from pathlib import Path

from adapters.pds.feed_file import BadRow, read_changes
from domain.application.identity import ChangeOutcome, apply_identity_change
from domain.model.errors import DomainError
from domain.model.identity import IdentityChange
from domain.model.nhs_number import NhsNumber
from streams.bootstrap import (
    build_application,
    build_topic_schemas,
    build_wire_format,
    topics_of,
)
from streams.cli.commands import KAFKA, STORE, Commands, command, metrics_port
from streams.kafka.admin import ensure_topics
from streams.ops import checks
from streams.ops.endpoint import serve_operations
from streams.pds_feed import PdsFeedFollower, publish_changes
from streams.settings import Settings, SettingsError

log = logging.getLogger("cpis")


def when(text: str) -> datetime:
    """An ISO 8601 moment; without a zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-01T12:00:00+00:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def nhs(text: str) -> NhsNumber:
    try:
        return NhsNumber.parse(text)
    except DomainError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# -- pds ----------------------------------------------------------------------------------

def _changes(path: Path) -> tuple[list[IdentityChange], list[BadRow]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror}") from None
    rows = list(read_changes(text, path.name))
    bad = [r for r in rows if isinstance(r, BadRow)]
    for row in bad:
        log.error("%s line %d: %s (not applied)", path, row.line, row.reason)
    return [r for r in rows if isinstance(r, IdentityChange)], bad


def pds_import(settings: Settings, args: argparse.Namespace) -> int:
    changes, bad = _changes(args.file)
    app = build_application(settings)
    counts = dict.fromkeys(ChangeOutcome, 0)
    refused = 0
    try:
        for number, change in enumerate(changes, start=1):
            try:
                counts[apply_identity_change(app, change)] += 1
            except DomainError as error:
                refused += 1
                log.error("change %s refused: %s", change.feed_id, error)
            if number % 1000 == 0:
                log.info("%d of %d changes done", number, len(changes))
    finally:
        app.close()
    log.info("PDS import %s: %d applied, %d applied before, %d for numbers CP-IS does not "
             "hold, %d refused, %d unreadable rows", args.file,
             counts[ChangeOutcome.APPLIED], counts[ChangeOutcome.ALREADY_APPLIED],
             counts[ChangeOutcome.NOT_HELD], refused, len(bad))
    return 1 if bad or refused else 0


def pds_publish(settings: Settings, args: argparse.Namespace) -> int:
    changes, bad = _changes(args.file)
    topics = topics_of(settings)
    ensure_topics(settings.require_kafka(), topics, settings.topic_layout)
    count = publish_changes(settings.kafka_bootstrap, build_wire_format(settings), changes)
    log.info("published %d changes to %s (%d unreadable rows)", count, topics.pds_changes,
             len(bad))
    return 1 if bad else 0


def pds_follow(settings: Settings, args: argparse.Namespace) -> int:
    topics = topics_of(settings)
    ensure_topics(settings.require_kafka(), topics, settings.topic_layout)
    app = build_application(settings)
    serve_operations(settings.metrics_host, args.metrics_port, {
        "event store": checks.event_store(app), **checks.streams(settings)})
    try:
        follower = PdsFeedFollower(app, settings.kafka_bootstrap, build_topic_schemas(settings),
                                   topics, f"{settings.topic_prefix}cpis-pds-feed")
        follower.run(stop=args.stop, idle_timeout=args.idle_exit)
    finally:
        app.close()
    return 0


FILE = "CSV (feed_id,change,nhs_number,replacement) or JSON (an array or JSON lines)"


def add_commands(commands: Commands) -> None:
    group = command(commands, "pds", "PDS identity changes (merges, retired NHS numbers)",
                    "Apply PDS's identity changes: a merge moves a number's plans and "
                    "accesses to the number in use; a retirement marks it inactive. Either "
                    "notifies the local authorities that held a live plan.", [STORE])
    actions = group.add_subparsers(dest="pds_command", required=True, metavar="ACTION")
    imported = command(actions, "import", "apply a CSV or JSON batch of identity changes",
                       "Apply each change in turn; a bad row is reported by line and the "
                       "rest still apply (exit 1 when any row is bad or refused).",
                       [STORE], pds_import)
    imported.add_argument("file", type=Path, help=FILE)
    published = command(actions, "publish", "publish a CSV or JSON batch to the PDS feed "
                        "topic", "Publish each change to the PDS feed topic, keyed by NHS "
                        "number, for `cpis pds follow`.", [KAFKA], pds_publish)
    published.add_argument("file", type=Path, help=FILE)
    follow = command(actions, "follow", "apply changes from the PDS feed topic",
                     "Consume the PDS feed topic and apply each change; one that cannot be "
                     "read goes to the dead-letter topic. Runs until stopped.",
                     [STORE, KAFKA], pds_follow)
    metrics_port(follow, 9313)
    follow.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                        help="exit after this long with nothing to consume (default: never)")
