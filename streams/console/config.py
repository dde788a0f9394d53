"""The operator console's settings (read from the environment by streams/settings.py)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConsoleSettings:
    issuer: str = ""  # an OpenID Connect issuer (its /.well-known/openid-configuration)
    client_id: str = "cpis-console"
    client_secret: str = ""
    host: str = "127.0.0.1"  # loopback unless configured otherwise
    port: int = 8090
    session_minutes: int = 30  # a sign-in lasts this long, then the operator signs in again
    # signs the session cookie; a fresh one at each start unless given (sessions then end
    # with the process, which is the safe default)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    operator_role: str = "cpis-operator"
    auditor_role: str = "cpis-auditor"
    roles_claim: str = "roles"  # the ID token claim holding the user's roles
    https_only: bool = False  # the session cookie only over HTTPS (set it behind TLS)
    # where the console itself reads the issuer's discovery document, where that differs from
    # the issuer browsers see (a container reaching Keycloak by its service name)
    metadata_url: str = ""

    @property
    def discovery_url(self) -> str:
        return self.metadata_url or f"{self.issuer}/.well-known/openid-configuration"


def console_from_env(env: Mapping[str, str]) -> ConsoleSettings:
    default = ConsoleSettings()
    return ConsoleSettings(
        issuer=env.get("CPIS_OIDC_ISSUER", "").rstrip("/"),
        client_id=env.get("CPIS_OIDC_CLIENT_ID", default.client_id),
        client_secret=env.get("CPIS_OIDC_CLIENT_SECRET", ""),
        host=env.get("CPIS_CONSOLE_HOST", default.host),
        port=int(env.get("CPIS_CONSOLE_PORT", default.port)),
        session_minutes=int(env.get("CPIS_CONSOLE_SESSION_MINUTES", default.session_minutes)),
        secret_key=env.get("CPIS_CONSOLE_SECRET_KEY", "") or default.secret_key,
        operator_role=env.get("CPIS_CONSOLE_OPERATOR_ROLE", default.operator_role),
        auditor_role=env.get("CPIS_CONSOLE_AUDITOR_ROLE", default.auditor_role),
        roles_claim=env.get("CPIS_OIDC_ROLES_CLAIM", default.roles_claim),
        https_only=env.get("CPIS_CONSOLE_HTTPS_ONLY", "false").lower() in ("1", "true", "yes"),
        metadata_url=env.get("CPIS_OIDC_METADATA_URL", ""),
    )
