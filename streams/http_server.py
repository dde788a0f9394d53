"""`cpis serve`: the HL7 V3 CP-IS NHS query over HTTP (Starlette on uvicorn).

POST /cpisquery (or /) with a SOAP envelope holding QUPC_IN000006GB01; the optional header
IsUnscheduledAccessEvent: false marks a scheduled-care silent read. GET /health answers ok.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.hl7v3.query_service import Hl7QueryService


def build_http_app(service: Hl7QueryService) -> Starlette:
    async def query(request: Request) -> Response:
        declared = int(request.headers.get("content-length") or 0)
        if declared > service.max_bytes:
            reply = await run_in_threadpool(service.handle, b"x" * (service.max_bytes + 1))
        else:
            body = await _read_bounded(request, service.max_bytes)
            reply = await run_in_threadpool(
                service.handle, body, request.headers.get("IsUnscheduledAccessEvent"))
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/cpisquery", query, methods=["POST"]),
        Route("/", query, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ])


async def _read_bounded(request: Request, limit: int) -> bytes:
    """The body, or limit+1 bytes of it (enough for the service to refuse it as too large)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)
