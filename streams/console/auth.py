"""Sign-in for the operator console: OpenID Connect's authorization code flow (with PKCE)
against the configured issuer, through Authlib. A signed-in operator is kept in the signed
session cookie for `session_minutes` from sign-in, then must sign in again."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from streams.console.config import ConsoleSettings

SESSION_KEY = "operator"


@dataclass(frozen=True)
class Operator:
    subject: str
    username: str
    name: str
    roles: frozenset[str]
    signed_in_at: float

    @property
    def identity(self) -> str:
        """How a look names its operator: the issuer's subject and the user name."""
        return f"{self.subject} ({self.username})"


def operator_of(request: Request, settings: ConsoleSettings) -> Operator | None:
    """The signed-in operator, or None (never signed in, or the sign-in has expired)."""
    raw = request.session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return None
    operator = Operator(raw["subject"], raw["username"], raw["name"],
                        frozenset(raw["roles"]), float(raw["signed_in_at"]))
    if time.time() - operator.signed_in_at > settings.session_minutes * 60:
        request.session.clear()
        return None
    return operator


def roles_in(claims: dict[str, Any], claim: str) -> frozenset[str]:
    """The roles an ID token gives: the configured claim (a list), else Keycloak's
    realm_access.roles."""
    found = claims.get(claim)
    if found is None:
        found = (claims.get("realm_access") or {}).get("roles", [])
    return frozenset(str(role) for role in found) if isinstance(found, list) else frozenset()


def safe_next(path: str | None) -> str:
    """Where sign-in returns to: a path of the console, never another site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


class SignIn:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.oauth = OAuth()
        self.oauth.register(
            "issuer", client_id=settings.client_id, client_secret=settings.client_secret,
            server_metadata_url=settings.discovery_url,
            client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"})

    @property
    def client(self) -> Any:
        return self.oauth.create_client("issuer")

    async def login(self, request: Request) -> Response:
        request.session.clear()
        request.session["next"] = safe_next(request.query_params.get("next"))
        redirect: Response = await self.client.authorize_redirect(
            request, str(request.url_for("signed_in")))
        return redirect

    async def signed_in(self, request: Request) -> Response:
        """The issuer's redirect back: the code exchanged, the ID token checked (Authlib
        verifies its signature, issuer, audience and nonce), the operator kept."""
        try:
            token = await self.client.authorize_access_token(request)
        except OAuthError as error:
            return Response(f"Sign-in failed: {error.error}. Try again from /login.",
                            status_code=400, media_type="text/plain")
        claims = dict(token.get("userinfo") or {})
        back = safe_next(request.session.get("next"))
        request.session.clear()
        request.session[SESSION_KEY] = {
            "subject": str(claims.get("sub", "")),
            "username": str(claims.get("preferred_username") or claims.get("email") or ""),
            "name": str(claims.get("name") or claims.get("preferred_username") or ""),
            "roles": sorted(roles_in(claims, self.settings.roles_claim)),
            "signed_in_at": time.time()}
        request.session["id_token"] = token.get("id_token", "")
        return RedirectResponse(back, status_code=303)

    async def logout(self, request: Request) -> Response:
        """Ends the console's session, then the issuer's (its end-session endpoint)."""
        id_token = request.session.get("id_token", "")
        request.session.clear()
        metadata = await self.client.load_server_metadata()
        end = metadata.get("end_session_endpoint")
        if not end:
            return RedirectResponse(request.url_for("signed_out"), status_code=303)
        query = urlencode({"id_token_hint": id_token, "client_id": self.settings.client_id,
                           "post_logout_redirect_uri": str(request.url_for("signed_out"))})
        return RedirectResponse(f"{end}?{query}", status_code=303)
