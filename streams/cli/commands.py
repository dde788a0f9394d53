"""How every `cpis` subcommand is declared: what it does, each option's default, and the
environment it reads (streams/settings.py lists every setting)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

Handler = Callable[..., int]
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    Commands = argparse._SubParsersAction

STORE = ("CPIS_EVENT_STORE (sqlite, the default, with CPIS_DATA_DIR; or postgres with "
         "CPIS_POSTGRES_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SCHEMA)")
KAFKA = "CPIS_KAFKA_BOOTSTRAP, CPIS_TOPIC_PREFIX, CPIS_SCHEMA_REGISTRY_URL"
VIEWS = "CPIS_POSTGRES_* and CPIS_VIEWS_SCHEMA (the views' PostgreSQL)"
LOGS = "CPIS_LOG_FORMAT (json or text), CPIS_LOG_LEVEL"


class Help(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help, where it has one; descriptions as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS) and not action.required
        if shown and "default" not in text:
            text += " (default: %(default)s)"
        return text


def command(commands: Commands, name: str, summary: str, description: str,
            environment: list[str], handler: Handler | None = None) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does and what it needs."""
    sub = commands.add_parser(
        name, help=summary, description=description, formatter_class=Help,
        epilog="environment: " + "; ".join([*environment, LOGS]))
    if handler is not None:
        sub.set_defaults(handler=handler)
    return sub


def positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def json_flag(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--json", action="store_true",
                     help="JSON lines with every field, instead of a table")


def metrics_port(sub: argparse.ArgumentParser, default: int) -> None:
    sub.add_argument("--metrics-port", type=int, default=default, metavar="PORT",
                     help="port of /metrics, /health and /ready, on CPIS_METRICS_HOST "
                          "(0: any free port, logged)")
