"""The parts of the settings and how each is read from its environment variables; the
variables themselves are listed in streams/settings.py, which puts the parts together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.mesh.workflows import LaMailboxes
from domain.model.limits import AccessWindow, Limits


class SettingsError(ValueError):
    """A setting has a value CP-IS cannot use."""


@dataclass(frozen=True)
class PostgresSettings:
    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "cpis"
    user: str = "postgres"
    password: str = ""
    schema: str = ""

    def conninfo(self) -> str:
        parts = [f"host={self.host}", f"port={self.port}", f"dbname={self.dbname}",
                 f"user={self.user}"]
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)


@dataclass(frozen=True)
class HttpLimits:
    """Bounds on what one HTTP client may take of a `cpis serve` worker."""

    head_bytes: int = 16_384
    headers: int = 64
    head_seconds: float = 10.0
    body_seconds: float = 30.0
    idle_seconds: int = 5
    connections: int = 100


@dataclass(frozen=True)
class Tls:
    """The server's certificate and key, and the CA that signs client certificates."""

    certificate: Path
    key: Path
    client_ca: Path


def whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def postgres_from_env(environ: Mapping[str, str]) -> PostgresSettings:
    default = PostgresSettings()
    return PostgresSettings(
        host=environ.get("CPIS_POSTGRES_HOST", default.host),
        port=whole_number(environ, "CPIS_POSTGRES_PORT", default.port),
        dbname=environ.get("CPIS_POSTGRES_DBNAME", default.dbname),
        user=environ.get("CPIS_POSTGRES_USER", default.user),
        password=environ.get("CPIS_POSTGRES_PASSWORD", default.password),
        schema=environ.get("CPIS_POSTGRES_SCHEMA", default.schema),
    )


def path_or_none(environ: Mapping[str, str], name: str) -> Path | None:
    raw = environ.get(name, "")
    return Path(raw) if raw else None


def tls_from_env(environ: Mapping[str, str]) -> Tls | None:
    names = ("CPIS_TLS_CERT", "CPIS_TLS_KEY", "CPIS_TLS_CLIENT_CA")
    given = [environ.get(name, "") for name in names]
    if not any(given):
        return None
    if not all(given):
        missing = ", ".join(n for n, v in zip(names, given, strict=True) if not v)
        raise SettingsError(f"mutual TLS needs all of {', '.join(names)}; missing {missing}")
    for name, value in zip(names, given, strict=True):
        if not Path(value).is_file():
            raise SettingsError(f"{name}: no file at {value}")
    return Tls(Path(given[0]), Path(given[1]), Path(given[2]))


def positive(environ: Mapping[str, str], name: str, default: int) -> int:
    value = whole_number(environ, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be 1 or more, got {value}")
    return value


def http_limits_from_env(environ: Mapping[str, str]) -> HttpLimits:
    d = HttpLimits()
    return HttpLimits(
        head_bytes=positive(environ, "CPIS_HTTP_HEAD_BYTES", d.head_bytes),
        headers=positive(environ, "CPIS_HTTP_HEADERS", d.headers),
        head_seconds=float(positive(environ, "CPIS_HTTP_HEAD_SECONDS", int(d.head_seconds))),
        body_seconds=float(positive(environ, "CPIS_HTTP_BODY_SECONDS", int(d.body_seconds))),
        idle_seconds=positive(environ, "CPIS_HTTP_IDLE_SECONDS", d.idle_seconds),
        connections=positive(environ, "CPIS_HTTP_CONNECTIONS", d.connections))


def limits_from_env(environ: Mapping[str, str]) -> Limits:
    test_numbers = environ.get("CPIS_TEST_NHS_NUMBERS", "accept")
    if test_numbers not in ("accept", "refuse"):
        raise SettingsError(f"CPIS_TEST_NHS_NUMBERS must be accept or refuse, got "
                            f"{test_numbers!r}")
    try:
        window = AccessWindow(
            clock_skew=timedelta(seconds=positive(environ, "CPIS_CLOCK_SKEW_SECONDS", 300)),
            max_age=timedelta(hours=positive(environ, "CPIS_ACCESS_MAX_AGE_HOURS", 24)))
    except ValueError as error:
        raise SettingsError(f"CPIS_ACCESS_MAX_AGE_HOURS and CPIS_CLOCK_SKEW_SECONDS: {error}"
                            ) from None
    return Limits(window, test_nhs_numbers=test_numbers == "accept")


def la_mailboxes_from(text: str) -> LaMailboxes:
    try:
        return LaMailboxes.parse(text)
    except ValueError as error:
        raise SettingsError(f"CPIS_MESH_LA_MAILBOXES: {error}") from None
