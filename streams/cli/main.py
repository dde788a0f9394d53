"""The `cpis` command: one subcommand a job (streams/cli/*.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from adapters.hl7v3.endpoints import EndpointRegistryError
from domain.model.errors import DomainError
from streams.cli import audit, console, demo, mesh, pds, pipeline, schemas, serving, status
from streams.logs import configure_logging
from streams.relay.relay import MessageTooLargeError
from streams.serve.http import ListenError
from streams.settings import SettingsError, load_settings


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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cpis", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="CP-IS: the child protection information sharing core.",
        epilog="Each command's --help says what it does, its options' defaults and the "
        "environment it reads; README's Configuration lists every setting.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (demo.add_commands, serving.add_commands, serving.add_example_query,
                mesh.add_commands, pipeline.add_commands, pds.add_commands, audit.add_commands,
                schemas.add_commands, status.add_commands, console.add_commands):
        add(commands)
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
    configure_logging(settings.log_format, settings.log_level, f"cpis {args.command}")
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
