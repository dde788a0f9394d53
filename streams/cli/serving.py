"""`cpis serve`: the HL7 V3 query service (streams/serve/http.py)."""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from adapters.hl7v3.endpoints import EndpointRegistry
from domain.model.nhs_number import NhsNumber
from streams.cli.commands import STORE, Commands, command, positive
from streams.logs import log_config
from streams.serve.http import check_plain_http_host, serve_http, server_config
from streams.settings import Settings, SettingsError

log = logging.getLogger("cpis")


def serve(settings: Settings, args: argparse.Namespace) -> int:
    """One uvicorn worker process by default; with --workers N each worker builds its own
    application (and database connections) from the environment (serve/http.py)."""
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
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # the workers' metrics in files /metrics sums, whichever worker answers it
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cpis-metrics-")
    log.info("serving the CP-IS NHS query on %s://%s:%d/cpisquery (%s event store, "
             "%d worker(s), endpoints from %s)", "http" if tls is None else "https", host,
             port, settings.event_store, args.workers, settings.endpoints_file)
    serve_http(server_config("streams.serve.http:app_from_env", host, port, args.workers,
                             settings.http_limits, tls,
                             log_config(settings.log_format, settings.log_level)))
    return 0


def add_commands(commands: Commands) -> None:
    sub = command(
        commands, "serve", "answer HL7 V3 CP-IS NHS queries (mutual TLS)",
        "POST /cpisquery (or /) a SOAP envelope holding QUPC_IN000006GB01; GET /health, "
        "/ready and /metrics (Prometheus). "
        "Mutual TLS by default: a client certificate signed by CPIS_TLS_CLIENT_CA, whose "
        "subject CN the endpoint registry maps to an ASID. Every answer and refusal is "
        "recorded; every request is one log line.",
        [STORE, "CPIS_TLS_CERT, CPIS_TLS_KEY, CPIS_TLS_CLIENT_CA, CPIS_ENDPOINT_REGISTRY",
         "CPIS_HTTP_HOST, CPIS_HTTP_PORT, CPIS_HTTP_* limits, CPIS_CLOCK_SKEW_SECONDS, "
         "CPIS_ACCESS_MAX_AGE_HOURS, CPIS_TEST_NHS_NUMBERS, CPIS_ASID"], serve)
    sub.add_argument("--host", default=None,
                     help="listen address (default: CPIS_HTTP_HOST, else 127.0.0.1)")
    sub.add_argument("--port", type=int, default=None,
                     help="listen port (default: CPIS_HTTP_PORT, else 8080)")
    sub.add_argument("--workers", type=positive, default=1,
                     help="worker processes (more than one needs the PostgreSQL store)")
    sub.add_argument("--insecure-http", action="store_true",
                     help="plain HTTP without client certificates, on a loopback address "
                     "only: for the demo and local tests (the bundled registry serves the "
                     "example ASIDs unless CPIS_ENDPOINT_REGISTRY is set)")


EXAMPLE_QUERY = Path(__file__).resolve().parent / "example_query.xml"
SCHEDULED_CARE_ASID = "200000000002"  # the bundled registry's GP practice


def example_query(settings: Settings, args: argparse.Namespace) -> int:
    """Print a query as the bundled registry's emergency department (or GP) would send it now:
    a new message and access id each time, the access dated this second."""
    now = datetime.now(UTC)
    text = EXAMPLE_QUERY.read_text()
    for field, value in (("MESSAGE_ID", str(uuid4()).upper()), ("ACCESS_ID", str(uuid4()).upper()),
                         ("CREATION_TIME", f"{now:%Y%m%d%H%M%S}"),
                         ("EFFECTIVE_TIME", f"{now:%Y%m%d%H%M%S}+0000"),
                         ("NHS_NUMBER", NhsNumber(args.nhs_number).value)):
        text = text.replace(field, value)
    if args.scheduled:
        text = text.replace("200000000001", SCHEDULED_CARE_ASID).replace("RXX01", "A99001")
    print(text, end="")
    return 0


def add_example_query(commands: Commands) -> None:
    sub = command(
        commands, "example-query", "print an HL7 V3 query to send to `cpis serve`",
        "Print a QUPC_IN000006GB01 for NHS_NUMBER from the bundled local endpoint registry's "
        "emergency department (ASID 200000000001, ODS RXX01), dated now, with new ids: pipe "
        "it to curl against `cpis serve --insecure-http`. Each one sent is an unscheduled "
        "access, recorded and notified to the local authority.",
        [], example_query)
    sub.add_argument("nhs_number", metavar="NHS_NUMBER", help="the child's (or mother's) number")
    sub.add_argument("--scheduled", action="store_true",
                     help="from the registry's GP practice (ASID 200000000002, ODS A99001), "
                     "which may read silently with the header IsUnscheduledAccessEvent: false")
