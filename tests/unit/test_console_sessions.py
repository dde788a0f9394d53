"""The console's session: a sign-in older than CPIS_CONSOLE_SESSION_MINUTES counts for
nothing, a session without the operator role sees nothing, and sign-in returns to the page
first asked for (never to another site)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from streams.bootstrap import build_application
from streams.cli.console import check_host
from streams.console.app import console_app
from streams.console.auth import SESSION_KEY, safe_next
from streams.console.config import ConsoleSettings
from streams.settings import Settings, SettingsError

KEY = "test-signing-key"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(event_store="memory", data_dir=tmp_path, console=ConsoleSettings(
        issuer="http://127.0.0.1:9/realms/none", client_secret="s", session_minutes=1,
        secret_key=KEY))
    app = build_application(settings)
    with TestClient(console_app(settings, app, app.clock)) as web:
        yield web
    app.close()


def session(signed_in_at: float, roles: list[str]) -> str:
    data = {SESSION_KEY: {"subject": "s", "username": "olivia", "name": "Olivia",
                          "roles": roles, "signed_in_at": signed_in_at}}
    return TimestampSigner(KEY).sign(base64.b64encode(json.dumps(data).encode())).decode()


def status_of(client: TestClient, cookie: str | None) -> int:
    client.cookies.clear()
    if cookie:
        client.cookies.set("cpis_console", cookie)
    return client.get("/accesses", follow_redirects=False).status_code


def test_a_fresh_sign_in_with_the_role_sees_the_page(client: TestClient) -> None:
    assert status_of(client, session(time.time() - 30, ["cpis-operator"])) == 200


def test_a_sign_in_older_than_the_session_time_is_sent_to_sign_in_again(
        client: TestClient) -> None:
    assert status_of(client, session(time.time() - 61, ["cpis-operator"])) == 303


def test_without_the_operator_role_nothing_is_shown(client: TestClient) -> None:
    assert status_of(client, session(time.time(), ["cpis-auditor"])) == 403


def test_without_a_session_every_page_redirects_to_sign_in(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/record?nhs=9990000018", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/login?next=%2Frecord%3Fnhs%3D9990000018")


def test_pages_are_never_cached_framed_or_given_scripts_from_elsewhere(
        client: TestClient) -> None:
    client.cookies.set("cpis_console", session(time.time(), ["cpis-operator"]))
    headers = client.get("/accesses").headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:9" in headers["content-security-policy"]


@pytest.mark.parametrize(("asked", "kept"), [
    ("/record?nhs=1", "/record?nhs=1"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/"), (None, "/")])
def test_sign_in_returns_only_to_a_page_of_the_console(asked: str | None, kept: str) -> None:
    assert safe_next(asked) == kept


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_the_console_listens_on_loopback_without_asking(host: str) -> None:
    check_host(host, allow_remote=False)


def test_another_address_needs_the_operator_to_ask_for_it() -> None:
    with pytest.raises(SettingsError, match="loopback only"):
        check_host("0.0.0.0", allow_remote=False)  # noqa: S104 - the address refused
    check_host("0.0.0.0", allow_remote=True)  # noqa: S104


def test_the_console_will_not_start_without_an_issuer(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CPIS_OIDC_ISSUER"):
        Settings(data_dir=tmp_path).require_oidc()
