"""The operator console in a real browser (Debian's chromium, headless, driven by
Playwright), signed in through a real Keycloak: a record with history, a merged number and
the point-in-time view, checked against the events; every look recorded; a signed-out user,
a user without the operator role and bad input refused. Screenshots of the main pages go to
.artefacts/console/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from adapters.mesh.la_file import parse_la_file
from adapters.pds.synthetic import SyntheticPds
from bench.ingest import synthetic_file
from domain.application import audit
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.provenance import Channel, Provenance
from streams.bootstrap import build_application
from streams.cli.output import UK
from streams.console.app import console_app
from streams.console.config import ConsoleSettings
from streams.settings import Settings
from tests.builders import LA_B, UPLOAD, person, plan, synthetic_nhs_numbers

OLD, NEW = synthetic_nhs_numbers(2, start=900)
ARTEFACTS = Path(__file__).resolve().parents[2] / ".artefacts" / "console"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Clock:
    """CP-IS's clock: now, so the events' recorded times and the queries' agree."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def console(keycloak: tuple[str, str], tmp_path: Path
            ) -> Iterator[tuple[str, CpisApplication, datetime]]:
    """The console on a fresh SQLite store holding OLD's record merged into NEW; gives its
    URL, the application and a moment between NEW's first plan and the merge."""
    issuer, secret = keycloak
    settings = Settings(event_store="sqlite", data_dir=tmp_path, console=ConsoleSettings(
        issuer=issuer, client_secret=secret))
    app = build_application(settings, clock=Clock())
    between = history_with_a_merge(app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(console_app(settings, app, app.clock),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app, between
    finally:
        server.should_exit = True
        thread.join(10)
        app.close()


def history_with_a_merge(app: CpisApplication) -> datetime:
    now = datetime.now(UTC)
    app.upload_plan(OLD, plan(), UPLOAD)
    app.query(QueryRequest(OLD, person("1"), datetime.now(UTC), "Q-OLD",
                           Provenance(Channel.HL7V3, "M-OLD", asid="200000000001")))
    app.upload_plan(NEW, plan(la=LA_B), UPLOAD)
    time.sleep(1.2)  # the point-in-time control has a resolution of one second
    between = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.2)
    app.merge(OLD, NEW, Provenance(Channel.PDS, message_id="PDS-FEED-1"))
    app.process_upload(parse_la_file(synthetic_file(3)), "MESH-UPLOAD-1", SyntheticPds.load())
    app.record_file_response("X26", "MESH-UPLOAD-1", "MESH-RESPONSE-1")
    assert between > now
    return between


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        yield launched
        launched.close()


def sign_in(browser: Browser, url: str, user: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url)
    page.fill("#username", user)
    page.fill("#password", f"{user}-local")
    page.click("#kc-login")
    page.wait_for_url(f"{url.split('?')[0]}**")
    return page


def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def test_an_auditor_sees_the_merged_record_its_timeline_and_the_record_at_a_moment(
        console: tuple[str, CpisApplication, datetime], browser: Browser) -> None:
    base, app, between = console
    page = sign_in(browser, f"{base}/record?nhs={NEW.value}", "olivia")
    expect(page).to_have_title("A child's record - CP-IS operator console")

    # current plans: what the events say NEW holds now (OLD's plan moved in by the merge)
    current = page.locator("table").first
    for shown in app.current_plans(NEW):
        expect(current).to_contain_text(shown.local_authority.name)
        expect(current).to_contain_text(shown.local_authority.emergency_duty_phone)
    expect(page.get_by_role("link", name=OLD.spaced())).to_be_visible()

    # the timeline: every event of both numbers, with provenance
    history = audit.full_history(app, NEW)
    rows = page.locator("table.timeline tbody tr")
    expect(rows).to_have_count(len(history))
    for row, entry in zip(rows.all(), history, strict=True):
        expect(row).to_contain_text(entry.event)
        expect(row).to_contain_text(entry.nhs_number)
    expect(page.locator("table.timeline")).to_contain_text("PDS-FEED-1")
    shot(page, "record")

    # the point-in-time control: NEW as it stood before the merge
    page.fill("#at", between.astimezone(UK).strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Show record").click()
    held = audit.record_at(app, NEW, between)
    assert held is not None
    section = page.locator("table.held-plans")
    expect(section.locator("tbody tr")).to_have_count(len(held.plans))
    expect(section).to_contain_text(LA_B.name)
    expect(section).not_to_contain_text("Northtown")  # OLD's plan had not moved in yet
    shot(page, "record-at-a-moment")

    # each look is an event naming the operator and what was shown, and the page lists them
    looks = app.looks_at(NEW)
    assert [look.viewed.split(" as at")[0] for look in looks] == ["record", "record"]
    assert all(look.operator.endswith("(olivia)") for look in looks)
    assert looks[0].viewed.startswith("record as at ")
    expect(page.locator("table.looks tbody tr")).to_have_count(2)
    expect(page.locator("table.looks")).to_contain_text("(olivia)")


def test_one_query_is_shown_as_answered_and_the_look_recorded(
        console: tuple[str, CpisApplication, datetime], browser: Browser) -> None:
    base, app, _ = console
    page = sign_in(browser, f"{base}/record?nhs={OLD.value}", "oscar")
    page.get_by_role("link", name="the query").first.click()
    expect(page).to_have_title("One query - CP-IS operator console")
    given = audit.query_given(app, OLD, "Q-OLD")
    assert given is not None
    assert given.answer is not None
    expect(page.locator(".outcome")).to_have_text(given.outcome)
    for shown in given.answer.plans:
        expect(page.locator("table.answer-plans")).to_contain_text(shown.local_authority.name)
    shot(page, "query")
    assert [look.viewed for look in app.looks_at(OLD)] == ["query Q-OLD", "record"]
    page.goto(f"{base}/record?nhs={OLD.value}")
    expect(page.get_by_text("Only auditors see who looked.")).to_be_visible()  # oscar


def test_bad_input_gets_a_message_on_the_page_and_no_look(
        console: tuple[str, CpisApplication, datetime], browser: Browser) -> None:
    base, app, _ = console
    page = sign_in(browser, f"{base}/record?nhs=12345", "olivia")
    expect(page.get_by_role("alert")).to_contain_text("not a valid NHS number")
    page.goto(f"{base}/record?nhs={NEW.value}&at=yesterday")
    expect(page.get_by_role("alert")).to_contain_text("such as 2026-11-01T12:00")
    page.goto(f"{base}/accesses?from=2026-13-01")
    expect(page.get_by_role("alert")).to_contain_text("must be a date")
    assert "Traceback" not in page.content()
    assert app.looks_at(NEW) == []


def test_a_user_without_the_operator_role_sees_nothing(
        console: tuple[str, CpisApplication, datetime], browser: Browser) -> None:
    base, app, _ = console
    page = sign_in(browser, f"{base}/record?nhs={NEW.value}", "nadia")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    assert NEW.value not in page.content()
    assert NEW.spaced() not in page.content()
    response = page.goto(f"{base}/status")
    assert response is not None
    assert response.status == 403
    assert app.looks_at(NEW) == []


def test_a_signed_out_user_is_sent_to_sign_in_for_every_page(
        console: tuple[str, CpisApplication, datetime], browser: Browser,
        keycloak: tuple[str, str]) -> None:
    base, _, _ = console
    for path in ("/", f"/record?nhs={NEW.value}", "/status", "/outbox", "/accesses"):
        response = httpx.get(f"{base}{path}", follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith(f"{base}/login"), path
    page = browser.new_page()
    page.goto(f"{base}/record?nhs={NEW.value}")
    assert page.url.startswith(keycloak[0])  # Keycloak's sign-in page, nothing of the child
    assert NEW.value not in page.content()

    signed_in = sign_in(browser, f"{base}/status", "olivia")
    expect(signed_in.locator("#figures")).to_contain_text("Dependencies")
    assert signed_in.evaluate("() => window.htmx !== undefined")  # refreshes the figures
    signed_in.get_by_role("button", name="Sign out").first.click()
    signed_in.wait_for_url(f"{base}/signed-out")
    signed_in.goto(f"{base}/record?nhs={NEW.value}")
    assert signed_in.url.startswith(keycloak[0])


def test_accesses_per_organisation_with_a_chart_and_an_las_uploads(
        console: tuple[str, CpisApplication, datetime], browser: Browser) -> None:
    base, app, _ = console
    page = sign_in(browser, f"{base}/accesses", "oscar")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)  # the one query, by its organisation
    expect(rows.first).to_contain_text(person("1").organisation_ods)
    expect(page.locator("canvas#accesses-chart")).to_be_visible()
    assert page.evaluate("() => window.Chart !== undefined")  # the vendored Chart.js ran
    shot(page, "accesses")

    page.goto(f"{base}/uploads?la=x26")
    upload = page.locator("table.uploads tbody tr").first
    for shown in ("CPF02", "3 of 3 accepted", "CPR06: 3", "MESH-RESPONSE-1", "MESH-UPLOAD-1"):
        expect(upload).to_contain_text(shown)
    shot(page, "uploads")
    assert app.looks_at(OLD) == []  # neither page shows a child's data


def test_the_record_search_works_with_the_keyboard_alone(
        console: tuple[str, CpisApplication, datetime], browser: Browser) -> None:
    base, _, _ = console
    page = sign_in(browser, f"{base}/record", "oscar")
    page.keyboard.press("Tab")  # the first stop is the skip link
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")  # to the page's content
    page.keyboard.press("Tab")
    expect(page.get_by_label("NHS number")).to_be_focused()
    page.keyboard.type(NEW.spaced())
    page.keyboard.press("Enter")  # submits the search form
    expect(page.get_by_role("heading", level=2).first).to_have_text(
        f"NHS number {NEW.spaced()}: current plans")
