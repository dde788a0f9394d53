"""The `cpis` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from domain.errors import DomainError
from streams.bootstrap import build_application
from streams.demo import run_demo
from streams.settings import Settings, SettingsError, load_settings


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    app = build_application(settings)
    print(f"CP-IS demo on the {settings.event_store} event store"
          + (f" ({settings.sqlite_path})" if settings.event_store == "sqlite" else ""))
    try:
        run_demo(app)
    finally:
        app.close()
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cpis", description="CP-IS: child protection information sharing core"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="upload synthetic plans, query one as an emergency department, "
        "print the answer and the recorded history (embedded store, no servers)",
    )
    demo.set_defaults(handler=_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(settings, args))
    except (SettingsError, DomainError) as error:
        print(f"cpis: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
