"""`cpis serve`: the HL7 V3 CP-IS NHS query over HTTPS (Starlette on uvicorn).

POST /cpisquery (or /) with a SOAP envelope holding QUPC_IN000006GB01; the optional header
IsUnscheduledAccessEvent: false asks for a silent read (honoured for scheduled care only).
GET /health answers ok; GET /ready checks the event store; GET /metrics (Prometheus: queries
by outcome, their latency; across workers through PROMETHEUS_MULTIPROC_DIR, which `cpis
serve --workers N` sets).

Mutual TLS by default: a client certificate signed by the configured CA, whose subject CN
the endpoint registry maps to an ASID (adapters/hl7v3/query_service.py). Plain HTTP only
with an explicit flag, and only on a loopback address.

Limits, each a setting (streams/settings.py HttpLimits): request-head size (h11 refuses a
larger head) and header count, time to send the request head and the body, idle time
between requests, and concurrent connections per worker (503 beyond). A client that goes
away is one log line. Every request is one JSON log line: outcome, status, latency and the
ids that tie it to its events.

Each worker answers one query at a time in its event loop (a query is a little CPU and a
blocking database commit); scale with --workers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import h11
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

from adapters.hl7v3.query_service import Caller, Hl7QueryService
from adapters.hl7v3.replies import Reply
from streams.gc_tuning import fewer_collections
from streams.ops import checks
from streams.ops.endpoint import Check, readiness
from streams.ops.metrics import QUERIES, QUERY_SECONDS
from streams.settings import HttpLimits, Tls

log = logging.getLogger("cpis.serve")
DEFAULT_LIMITS = HttpLimits()
PEER_CN = "cpis_tls_peer_cn"  # where a connection's client certificate CN reaches the app


class CpisConfig(uvicorn.Config):
    """uvicorn's Config with the head deadline, which the protocol below reads."""

    head_seconds: float = HttpLimits.head_seconds


class GuardedProtocol(H11Protocol):
    """h11 with a deadline for each request head (a client dripping its headers is cut
    off) and the client certificate's subject CN handed to the app as connection state."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app_state = {**self.app_state, PEER_CN: _peer_cn(transport)}
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        seconds = getattr(self.config, "head_seconds", HttpLimits.head_seconds)
        self._head_timer = self.loop.call_later(seconds, self._head_overdue)

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("connection closed: no complete request head in time",
                     extra={"client": _client(self.client)})
            self.transport.close()


def _peer_cn(transport: asyncio.Transport) -> str | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    certificate = ssl_object.getpeercert() or {}
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _client(address: Any) -> str:
    return f"{address[0]}:{address[1]}" if address else "-"


def app_from_env() -> Starlette:
    """The HTTP app of one `cpis serve` worker, built from the environment's settings (each
    worker process builds its own application and database connections)."""
    from streams.bootstrap import build_application, build_query_service
    from streams.settings import load_settings

    settings = load_settings()
    app = build_application(settings)
    return build_http_app(build_query_service(settings, app), settings.http_limits,
                          on_close=app.close, checks={"event store": checks.event_store(app)})


async def _bounded_body(request: Request, max_bytes: int, limits: HttpLimits,
                        started: float) -> bytes | Response:
    """The request body, or the refusal of a request over the header count, too slow, or
    whose client went away (each logged). A body declared too large is not read: the query
    service refuses it as too large."""
    if len(request.headers.raw) > limits.headers:
        _log_request(request, 431, "refused: too many headers", started)
        return PlainTextResponse("too many headers", status_code=431)
    declared = int(request.headers.get("content-length") or 0)
    if declared > max_bytes:
        return b"x" * (max_bytes + 1)
    try:
        async with asyncio.timeout(limits.body_seconds):
            return await _read_bounded(request, max_bytes)
    except TimeoutError:
        _log_request(request, 408, "refused: body too slow", started)
        return PlainTextResponse("request body too slow", status_code=408)
    except ClientDisconnect:
        _log_request(request, 499, "client went away", started)
        return Response(status_code=499)


def build_http_app(service: Hl7QueryService, limits: HttpLimits = DEFAULT_LIMITS,
                   on_close: Callable[[], None] = lambda: None,
                   checks: dict[str, Check] | None = None) -> Starlette:
    async def query(request: Request) -> Response:
        started = time.perf_counter()
        body = await _bounded_body(request, service.max_bytes, limits, started)
        if isinstance(body, Response):
            return body
        caller = Caller(request.scope.get("state", {}).get(PEER_CN),
                        request.headers.get("IsUnscheduledAccessEvent"))
        reply = service.handle(body, caller)
        _log_request(request, reply.status, reply.outcome, started, reply)
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def ready(_: Request) -> Response:
        passed, found = readiness(checks or {})
        return JSONResponse({"status": "ready" if passed else "not ready", "checks": found},
                            status_code=200 if passed else 503)

    async def metrics(_: Request) -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # a full collection over the cached records pauses every request waiting; with
        # fewer collections they come far more rarely
        try:
            with fewer_collections():
                yield
        finally:
            on_close()

    return Starlette(routes=[
        Route("/cpisquery", query, methods=["POST"]),
        Route("/", query, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ], lifespan=lifespan)


def exposition() -> bytes:
    """This process's metrics, or every worker's where they share PROMETHEUS_MULTIPROC_DIR."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return generate_latest(registry)


def _log_request(request: Request, status: int, outcome: str, started: float,
                 reply: Reply | None = None) -> None:
    sent = reply.sent if reply is not None else None
    kind, _, reason = outcome.partition(":")
    QUERIES.labels(kind, reason.strip()[:60]).inc()
    QUERY_SECONDS.observe(time.perf_counter() - started)
    log.info("query %s", outcome, extra={
        "status": status, "outcome": outcome,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        "client": _client(request.client),
        "certificate": request.scope.get("state", {}).get(PEER_CN),
        "message_id": sent.message_id if sent else None,
        "asid": sent.sender_asid if sent else None,
        "event_id": sent.event_id if sent else None,
        "nhs_number": sent.nhs_number if sent else None})


async def _read_bounded(request: Request, limit: int) -> bytes:
    """The body, or limit+1 bytes of it (enough for the service to refuse it as too large)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


class ListenError(OSError):
    """The HTTP port cannot be listened on; the message says which and why."""


def check_plain_http_host(host: str) -> None:
    """Plain HTTP serves the demo and local tests only: refuse any but a loopback address."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ListenError(f"plain HTTP (--insecure-http) listens on a loopback address only, "
                          f"not {host}; give CPIS_TLS_CERT, CPIS_TLS_KEY and "
                          "CPIS_TLS_CLIENT_CA to serve with mutual TLS")


def server_config(app_factory: str, host: str, port: int, workers: int, limits: HttpLimits,
                  tls: Tls | None, log_config: dict[str, Any]) -> CpisConfig:
    tls_options: dict[str, Any] = {}
    if tls is not None:
        tls_options = {"ssl_certfile": str(tls.certificate), "ssl_keyfile": str(tls.key),
                       "ssl_ca_certs": str(tls.client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    config = CpisConfig(
        app_factory, factory=True, host=host, port=port, workers=workers,
        http=GuardedProtocol, log_config=log_config, access_log=False,
        h11_max_incomplete_event_size=limits.head_bytes, limit_concurrency=limits.connections,
        timeout_keep_alive=limits.idle_seconds, **tls_options)
    config.head_seconds = limits.head_seconds
    return config


def serve_http(config: CpisConfig) -> None:
    """Run the app under uvicorn in `config.workers` processes."""
    if config.workers == 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[tcp_listener(config.host, config.port)]).run()


def tcp_listener(host: str, port: int) -> socket.socket:
    """The workers' shared listening socket, created as TCP explicitly: asyncio sets
    TCP_NODELAY on accepted connections only then (uvicorn's own leaves Nagle on, and every
    reply waited for the client's delayed ACK)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port} (CPIS_HTTP_HOST/PORT, --host/--port):"
                          f" {error.strerror}") from error
    sock.set_inheritable(True)
    return sock
