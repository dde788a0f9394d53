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
from streams.bootstrap import build_application, topics_of
from streams.kafka.admin import ensure_topics
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
    ensure_topics(settings.require_kafka(), topics)
    count = publish_changes(settings.kafka_bootstrap, topics.pds_changes, changes)
    log.info("published %d changes to %s (%d unreadable rows)", count, topics.pds_changes,
             len(bad))
    return 1 if bad else 0


def pds_follow(settings: Settings, args: argparse.Namespace) -> int:
    topics = topics_of(settings)
    ensure_topics(settings.require_kafka(), topics)
    app = build_application(settings)
    try:
        follower = PdsFeedFollower(app, settings.kafka_bootstrap, topics.pds_changes,
                                   topics.dead_letter, f"{settings.topic_prefix}cpis-pds-feed")
        follower.run(stop=args.stop, idle_timeout=args.idle_exit)
    finally:
        app.close()
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pds = commands.add_parser("pds", help="PDS identity changes (merges, retired numbers)")
    pds_commands = pds.add_subparsers(dest="pds_command", required=True, metavar="ACTION")
    for name, handler, text in (
        ("import", pds_import, "apply a CSV or JSON batch of identity changes"),
        ("publish", pds_publish, "publish a CSV or JSON batch to the PDS feed topic"),
    ):
        sub = pds_commands.add_parser(name, help=text)
        sub.add_argument("file", type=Path, help="CSV (feed_id,change,nhs_number,replacement) "
                         "or JSON (array or JSON lines)")
        sub.set_defaults(handler=handler)
    follow = pds_commands.add_parser("follow", help="apply changes from the PDS feed topic")
    follow.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS")
    follow.set_defaults(handler=pds_follow)
