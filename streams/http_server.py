"""`cpis serve`: the HL7 V3 CP-IS NHS query over HTTP (Starlette on uvicorn).

POST /cpisquery (or /) with a SOAP envelope holding QUPC_IN000006GB01; the optional header
IsUnscheduledAccessEvent: false marks a scheduled-care silent read. GET /health answers ok.

Each worker process answers one query at a time, in its event loop (the body is still read
asynchronously). A query is ~2 ms of CPU and a blocking database commit; handing it to a
thread pool cost a thread switch and GIL hand-offs per request, and in the benchmark one
worker then fell behind at 300 queries/s where it now keeps up. Scale with --workers.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from uvicorn.supervisors import Multiprocess

from adapters.hl7v3.query_service import Hl7QueryService
from streams.gc_tuning import fewer_collections


def build_http_app(service: Hl7QueryService,
                   on_close: Callable[[], None] = lambda: None) -> Starlette:
    async def query(request: Request) -> Response:
        declared = int(request.headers.get("content-length") or 0)
        if declared > service.max_bytes:
            reply = service.handle(b"x" * (service.max_bytes + 1))
        else:
            body = await _read_bounded(request, service.max_bytes)
            reply = service.handle(body, request.headers.get("IsUnscheduledAccessEvent"))
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # a full collection over the cached records pauses every request waiting (30-40 ms
        # with 1,000 children cached); with fewer collections they come far more rarely
        try:
            with fewer_collections():
                yield
        finally:
            on_close()

    return Starlette(routes=[
        Route("/cpisquery", query, methods=["POST"]),
        Route("/", query, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ], lifespan=lifespan)


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


def serve_http(app_factory: str, host: str, port: int, workers: int = 1) -> None:
    """Run `app_factory` ("module:function") under uvicorn in `workers` processes."""
    config = uvicorn.Config(app_factory, factory=True, host=host, port=port, workers=workers,
                            log_level="warning", access_log=False)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[tcp_listener(host, port)]).run()


def tcp_listener(host: str, port: int) -> socket.socket:
    """The workers' shared listening socket, created as TCP explicitly: asyncio sets
    TCP_NODELAY on accepted connections only then. uvicorn's own (protocol 0) leaves Nagle on,
    and every reply waited ~40 ms for the client's delayed ACK."""
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
