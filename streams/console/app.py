"""`cpis console`: the operator console as a Starlette application. Every page but sign-in
needs a signed-in operator with the operator role; pages are never cached, framed or given
scripts from elsewhere (htmx and Chart.js are served from the package)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from domain.application.app import CpisApplication
from streams.cli.output import uk_time
from streams.console import forms, pages
from streams.console.auth import Operator, SignIn, operator_of
from streams.console.config import ConsoleSettings
from streams.settings import Settings

log = logging.getLogger("cpis.console")
HERE = Path(__file__).parent
PUBLIC = ("/login", "/auth", "/signed-out", "/static/", "/health")


def security_headers(issuer: str) -> dict[str, str]:
    """Scripts and styles from the console only; forms post to it, or to the issuer that
    signing out is redirected to; never framed, cached or referred."""
    origin = "/".join(issuer.split("/")[:3])
    return {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                       f"frame-ancestors 'none'; form-action 'self' {origin}",
            "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
Build = Callable[[pages.Console, Operator, Request], pages.Context]


def templates() -> Jinja2Templates:
    environment = Environment(loader=FileSystemLoader(HERE / "templates"),
                              autoescape=select_autoescape(default=True))
    environment.filters["uk"] = uk_time
    environment.filters["uk_minutes"] = lambda moment: uk_time(moment, seconds=False)
    return Jinja2Templates(env=environment)


class RequireOperator(BaseHTTPMiddleware):
    """No page without sign-in; none without the operator role."""

    def __init__(self, app: object, settings: ConsoleSettings, render: Jinja2Templates
                 ) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.settings = settings
        self.render = render

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint
                       ) -> Response:
        if request.url.path.startswith(PUBLIC):
            return await call_next(request)
        operator = operator_of(request, self.settings)
        if operator is None:
            asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{request.url_for('login')}?{urlencode({'next': asked})}",
                                    status_code=303)
        if self.settings.operator_role not in operator.roles:
            return self.render.TemplateResponse(request, "refused.html", {
                "title": "Not allowed", "operator": None, "who": operator.username,
                "role": self.settings.operator_role}, status_code=403)
        request.state.operator = operator
        return await call_next(request)


def secure_headers(headers: dict[str, str]
                   ) -> Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(headers)
        return response

    return dispatch


def page(console: pages.Console, render: Jinja2Templates, template: str, title: str,
         build: Build) -> Callable[[Request], Response]:
    """A page endpoint: bad input is a message on the page (400), any other failure a
    short apology with a reference that the log holds the details of (500)."""

    def endpoint(request: Request) -> Response:
        operator: Operator = request.state.operator
        status, context = 200, {}
        try:
            context = build(console, operator, request)
        except forms.BadInput as error:
            status, context = 400, {"error": str(error)}
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("console page %s failed", request.url.path,
                          extra={"reference": reference})
            status, context = 500, {"error": "The page could not be built. Quote reference "
                                             f"{reference} to the CP-IS service team."}
        return render.TemplateResponse(request, template, {
            "title": title, "operator": operator, "params": request.query_params,
            "auditor": console.settings.console.auditor_role in operator.roles, **context},
            status_code=status)

    return endpoint


def home(request: Request) -> Response:
    return RedirectResponse(request.url_for("record_search"), status_code=303)


def signed_out(request: Request) -> Response:
    return PlainTextResponse("Signed out of the CP-IS operator console. Sign in again at "
                             "/login.")


def console_app(settings: Settings, app: CpisApplication,
                clock: Callable[[], datetime]) -> Starlette:
    config = settings.require_oidc()
    render = templates()
    sign_in = SignIn(config)
    console = pages.Console(settings, app, clock)
    routes = [
        Route("/", home, name="home"),
        Route("/login", sign_in.login, name="login"),
        Route("/auth", sign_in.signed_in, name="signed_in"),
        Route("/logout", sign_in.logout, name="logout", methods=["POST"]),
        Route("/signed-out", signed_out, name="signed_out"),
        Route("/health", lambda request: PlainTextResponse("ok"), name="health"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    for path, name, template, title, build in PAGES:
        routes.append(Route(path, page(console, render, template, title, build), name=name))
    return Starlette(routes=routes, middleware=[
        Middleware(BaseHTTPMiddleware, dispatch=secure_headers(security_headers(config.issuer))),
        Middleware(SessionMiddleware, secret_key=config.secret_key,
                   session_cookie="cpis_console", max_age=config.session_minutes * 60,
                   same_site="lax", https_only=config.https_only),
        Middleware(RequireOperator, settings=config, render=render)])


def record_search(console: pages.Console, operator: Operator, request: Request
                  ) -> pages.Context:
    if request.query_params.get("nhs"):
        return pages.record_page(console, operator, request)
    return {}


PAGES: list[tuple[str, str, str, str, Build]] = [
    ("/record", "record_search", "record.html", "A child's record", record_search),
    ("/query", "query", "query.html", "One query", pages.query_page),
    ("/accesses", "accesses", "accesses.html", "Accesses by organisation",
     pages.accesses_page),
    ("/uploads", "uploads", "uploads.html", "Local authority uploads", pages.uploads_page),
    ("/outbox", "outbox", "outbox.html", "LA notification outbox", pages.outbox_page),
    ("/dead-letters", "dead_letters", "dead_letters.html",
     "Dead letters and quarantined MESH files", pages.dead_letters_page),
    ("/status", "status", "status.html", "Pipeline status", pages.status_page),
]
