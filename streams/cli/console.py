"""`cpis console`: the operator console (streams/console/), signed in through OpenID
Connect, on loopback unless configured otherwise."""

from __future__ import annotations

import argparse
import ipaddress
import logging

import uvicorn

from streams.bootstrap import build_application
from streams.cli.commands import KAFKA, STORE, VIEWS, Commands, command
from streams.console.app import console_app
from streams.logs import log_config
from streams.settings import Settings, SettingsError

log = logging.getLogger("cpis.console")


def check_host(host: str, allow_remote: bool) -> None:
    """Loopback only, unless the operator chose otherwise twice (a setting and a flag)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not allow_remote:
        raise SettingsError(f"the console listens on loopback only; to listen on {host} put "
                            "it behind TLS and pass --allow-remote")


def console(settings: Settings, args: argparse.Namespace) -> int:
    config = settings.require_oidc()
    host, port = args.host or config.host, args.port or config.port
    check_host(host, args.allow_remote)
    app = build_application(settings)
    try:
        web = console_app(settings, app, app.clock)
        log.info("operator console on http://%s:%d/ (issuer %s, %s event store)", host, port,
                 config.issuer, settings.event_store)
        uvicorn.run(web, host=host, port=port, proxy_headers=False,
                    log_config=log_config(settings.log_format, settings.log_level))
    finally:
        app.close()
    return 0


def add_commands(commands: Commands) -> None:
    sub = command(
        commands, "console", "the operator console: audit in a browser, signed in",
        "Read-only web pages for national operators: a child's record (current plans, the "
        "timeline of every event with provenance, the record at any moment, who looked), "
        "one query as answered, accesses per organisation, an LA's uploads, the LA "
        "notification outbox, dead letters and quarantined files, pipeline status. Sign-in "
        "is OpenID Connect (authorization code with PKCE); a user needs the operator role "
        "to see anything, and each look at a child's data is recorded as an event.",
        ["CPIS_OIDC_ISSUER, CPIS_OIDC_CLIENT_ID, CPIS_OIDC_CLIENT_SECRET, "
         "CPIS_OIDC_ROLES_CLAIM, CPIS_OIDC_METADATA_URL", "CPIS_CONSOLE_HOST, CPIS_CONSOLE_PORT, "
         "CPIS_CONSOLE_SESSION_MINUTES, CPIS_CONSOLE_SECRET_KEY, CPIS_CONSOLE_OPERATOR_ROLE, "
         "CPIS_CONSOLE_AUDITOR_ROLE, CPIS_CONSOLE_HTTPS_ONLY", STORE, VIEWS, KAFKA], console)
    sub.add_argument("--host", default=None,
                     help="listen address (default: CPIS_CONSOLE_HOST, else 127.0.0.1)")
    sub.add_argument("--port", type=int, default=None,
                     help="listen port (default: CPIS_CONSOLE_PORT, else 8090)")
    sub.add_argument("--allow-remote", action="store_true",
                     help="allow a non-loopback address (put TLS in front of it)")
