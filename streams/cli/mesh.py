"""`cpis mesh` (the poller) and `cpis quarantine` (what it could not take)."""

from __future__ import annotations

import argparse
import sys

from adapters.mesh.quarantine import Quarantine
from streams.cli.commands import STORE, VIEWS, Commands, command, json_flag, metrics_port
from streams.cli.output import json_lines, table
from streams.mesh_poller import run_mesh_poller
from streams.settings import Settings

QUARANTINE = "CPIS_QUARANTINE_DIR (default CPIS_DATA_DIR/quarantine)"


def mesh(settings: Settings, args: argparse.Namespace) -> int:
    run_mesh_poller(settings, args.stop, args.once, args.metrics_port)
    return 0


def quarantine_list(settings: Settings, args: argparse.Namespace) -> int:
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


def quarantine_show(settings: Settings, args: argparse.Namespace) -> int:
    data = Quarantine(settings.quarantine).data(args.mesh_message_id)
    if data is None:
        print(f"cpis: no quarantined bytes for MESH message {args.mesh_message_id} in "
              f"{settings.quarantine}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    return 0


def add_commands(commands: Commands) -> None:
    poller = command(
        commands, "mesh", "poll the CP-IS MESH inbox; send the LA notifications due",
        "Each round: every LA upload in the inbox is checked, applied, answered with a "
        "FileResponse and acknowledged (one that fails is answered CPF01 and quarantined); "
        "then the due access and inactive-number notifications are sent. Every "
        "CPIS_MESH_POLL_SECONDS, until stopped.",
        [STORE, VIEWS, "CPIS_MESH_URL, CPIS_MESH_MAILBOX, CPIS_MESH_PASSWORD, "
         "CPIS_MESH_SHARED_KEY, CPIS_MESH_LA_MAILBOXES, CPIS_MESH_WORKFLOW_*, "
         "CPIS_MESH_POLL_SECONDS", QUARANTINE], mesh)
    poller.add_argument("--once", action="store_true", help="one round, then exit")
    metrics_port(poller, 9312)
    kept = command(commands, "quarantine", "MESH messages CP-IS could not take",
                   "MESH messages that failed at some stage (download, read, file checks, "
                   "records, storage, reply), kept with their bytes after a CPF01 reply.",
                   [QUARANTINE])
    actions = kept.add_subparsers(dest="quarantine_command", required=True, metavar="ACTION")
    listed = command(actions, "list", "every quarantined message: when, who, stage, why",
                     "Every quarantined message, oldest first.", [QUARANTINE],
                     quarantine_list)
    json_flag(listed)
    shown = command(actions, "show", "write a quarantined message's bytes to stdout",
                    "The bytes as received (they hold children's details).", [QUARANTINE],
                    quarantine_show)
    shown.add_argument("mesh_message_id", help="as `cpis quarantine list` shows it")
