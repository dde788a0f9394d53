"""The console's pages that read beside the event store, on the real services: the LA
notification outbox's delivery state (PostgreSQL), the dead-letter topic (Kafka) with its
keys masked, and the MESH quarantine (a folder)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from adapters.mesh.quarantine import Quarantine
from domain.application.app import CpisApplication
from streams.bootstrap import build_outbox, topics_of
from streams.console.app import console_app
from streams.console.auth import SESSION_KEY
from streams.console.config import ConsoleSettings
from streams.projection.projector import KafkaDeadLetters
from streams.projection.writer import Consumed
from streams.settings import Settings
from tests.builders import synthetic_nhs_numbers
from tests.integration.test_mesh import seed_outbox

KEY = "test-signing-key"
(CHILD,) = synthetic_nhs_numbers(1, start=950)


@pytest.fixture
def console(stream_settings: Settings, stream_app: CpisApplication, tmp_path: Path
            ) -> Iterator[tuple[TestClient, Settings]]:
    settings = replace(stream_settings, quarantine_dir=tmp_path / "quarantine",
                       console=ConsoleSettings(issuer="http://127.0.0.1:9/realms/none",
                                               client_secret="s", secret_key=KEY))
    with TestClient(console_app(settings, stream_app, stream_app.clock)) as web:
        web.cookies.set("cpis_console", operator_session())
        yield web, settings


def operator_session() -> str:
    data = {SESSION_KEY: {"subject": "s", "username": "oscar", "name": "Oscar",
                          "roles": ["cpis-operator"], "signed_in_at": time.time()}}
    return TimestampSigner(KEY).sign(base64.b64encode(json.dumps(data).encode())).decode()


def test_the_outbox_page_shows_counts_and_each_failed_notification(
        console: tuple[TestClient, Settings]) -> None:
    web, settings = console
    seed_outbox(settings)  # one notification due, not yet tried
    outbox = build_outbox(settings)
    outbox.setup()
    outbox.mark_sent("N-SENT", "MESH-1", attempts=1)
    outbox.mark_failed("N-FAILED", "MESH said 503", attempts=3, now=datetime.now(UTC))
    page = web.get("/outbox")
    assert page.status_code == 200
    assert "N-FAILED" in page.text
    assert "MESH said 503" in page.text
    assert "N-SENT" not in page.text  # only the troubled ones are listed
    assert "<dt>Failed</dt><dd>1</dd>" in page.text
    assert "<dt>Sent</dt><dd>1</dd>" in page.text
    assert "<dt>Pending (not yet tried)</dt><dd>1</dd>" in page.text


def test_dead_letters_show_reason_and_origin_with_the_nhs_number_masked(
        console: tuple[TestClient, Settings]) -> None:
    web, settings = console
    topics = topics_of(settings)
    dead_letters = KafkaDeadLetters(settings.require_kafka(), topics.dead_letter)
    dead_letters.send(Consumed(topics.plans, 2, 41, CHILD.value.encode(), b"\x00junk"),
                      "undecodable: unknown schema id 999")
    dead_letters.flush()
    page = web.get("/dead-letters")
    assert page.status_code == 200
    assert "undecodable: unknown schema id 999" in page.text
    assert f"{topics.plans}[2]@41" in page.text
    assert CHILD.value not in page.text
    assert "******" + CHILD.value[-4:] in page.text


def test_quarantined_mesh_messages_are_listed_with_their_reason(
        console: tuple[TestClient, Settings]) -> None:
    web, settings = console
    Quarantine(settings.quarantine).keep("MESH-BAD-1", "X26LA001", "read", "not XML",
                                         b"<oops", datetime.now(UTC))
    page = web.get("/dead-letters")
    assert page.status_code == 200
    for shown in ("MESH-BAD-1", "X26LA001", "not XML"):
        assert shown in page.text
