"""`cpis demo`: synthetic uploads, an emergency-department query and the recorded history."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from adapters.views.memory import InMemoryViews
from domain.application.answers import QueryAnswer
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.authors import PersonAuthor, PersonName
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Channel, Provenance
from streams.bootstrap import build_application
from streams.cli.commands import Commands, command
from streams.projection.follower import NotificationLogFollower
from streams.settings import Settings

NORTHTOWN = LocalAuthority("X26", "Northtown Borough Council", "01632960001", "01632960999")
SOUTHVALE = LocalAuthority("X27", "Southvale County Council", "01632961001", "01632961999")

# (NHS number, plan type, local authority, given, family, birth date, start, end)
SYNTHETIC_PLANS = (
    ("9990000018", PlanType.CHILD_PROTECTION_PLAN, NORTHTOWN, "Amy", "Example",
     date(2016, 3, 1), datetime(2025, 1, 6, 9, 0), None),
    ("9990000018", PlanType.LOOKED_AFTER_CHILD, SOUTHVALE, "Amy", "Example",
     date(2016, 3, 1), datetime(2025, 6, 2, 9, 0), None),
    ("9990000026", PlanType.LOOKED_AFTER_CHILD, NORTHTOWN, "Ben", "Sample",
     date(2012, 11, 20), datetime(2024, 9, 1, 10, 30), datetime(2026, 9, 1, 10, 30)),
    ("9990000034", PlanType.UNBORN_CHILD_PROTECTION_PLAN, SOUTHVALE, "Carla", "Mother",
     date(1998, 7, 14), datetime(2026, 8, 1, 9, 0), datetime(2027, 2, 1, 9, 0)),
)

EMERGENCY_DOCTOR = PersonAuthor(
    sds_user_id="555000000001", role_profile_id="555000000002", job_role_code="R8000",
    job_role_name="Clinical Practitioner Access Role",
    name=PersonName(given="Dana", family="Doctor", prefix="Dr"),
    organisation_ods="RXX01", organisation_name="Example General Hospital ED",
)

Print = Callable[[str], None]


def upload_synthetic_plans(app: CpisApplication, out: Print) -> None:
    for sequence, (nhs, plan_type, la, given, family, born, start, end) in enumerate(
        SYNTHETIC_PLANS, start=1
    ):
        plan = Plan(plan_type, la, PlanDates(start, end), Subject(given, family, born))
        provenance = Provenance(Channel.MESH, message_id=f"demo-{la.ods_code}-{sequence}",
                                file_sequence=sequence)
        change = app.upload_plan(NhsNumber(nhs), plan, provenance)
        out(f"  upload {la.ods_code} file #{sequence}: {plan_type.value} for NHS number "
            f"{NhsNumber(nhs).spaced()} -> {change.value}")


def emergency_query(app: CpisApplication, nhs: NhsNumber, at: datetime) -> QueryAnswer:
    request = QueryRequest(
        nhs_number=nhs, author=EMERGENCY_DOCTOR, accessed_at=at, access_id=str(uuid4()).upper(),
        provenance=Provenance(Channel.HL7V3, message_id=str(uuid4()).upper(), asid="200000000001"),
    )
    return app.query(request)


def print_answer(answer: QueryAnswer, out: Print) -> None:
    out(f"CP-IS information for NHS number {answer.nhs_number.spaced()}:")
    for plan in answer.plans:
        la = plan.local_authority
        end = f"{plan.end:%Y-%m-%d}" if plan.end else "open"
        out(f"  {plan.plan_type.label} ({plan.plan_type.value}, SNOMED "
            f"{plan.plan_type.snomed_code}) from {plan.start:%Y-%m-%d} to {end}")
        out(f"    responsible LA {la.ods_code} {la.name}: office hours {la.office_hours_phone}, "
            f"emergency duty {la.emergency_duty_phone}")
    out(f"  access history ({len(answer.history)} shown, newest first):")
    for access in answer.history:
        out(f"    {access.accessed_at:%Y-%m-%d %H:%M} {access.author.display_name}")


def run_demo(app: CpisApplication, out: Print = print) -> None:
    out("Uploading synthetic plans from two local authorities:")
    upload_synthetic_plans(app, out)
    child = NhsNumber("9990000018")
    now = datetime.now(UTC).replace(microsecond=0)
    out("")
    out("Emergency department queries the first child (twice within an hour):")
    emergency_query(app, child, now - timedelta(minutes=50))
    answer = emergency_query(app, child, now)
    print_answer(answer, out)
    out("")
    out(f"Recorded history of NHS number {child.spaced()} (every stored event):")
    for entry in app.history(child):
        out(f"  v{entry.version:<3} {entry.recorded_at:%Y-%m-%d %H:%M:%S} {entry.event_name:<22} "
            f"{entry.summary}  [{entry.provenance}]")
    out("")
    print_views(app, out)


def print_views(app: CpisApplication, out: Print) -> None:
    """The projections, built by following the event store's notification log (no Kafka)."""
    views = InMemoryViews()
    applied = NotificationLogFollower(app, views).catch_up()
    out(f"Projections rebuilt from the notification log ({applied} events):")
    out(f"  current plans: {len(views.plans())} rows; access history: "
        f"{len(views.accesses())} rows")
    pending = views.notifications()
    out(f"  local-authority notification outbox: {len(pending)} pending")
    for row in pending[-4:]:
        n = row.notification
        out(f"    {n.kind.value:<19} to {n.ods_code} about NHS number {n.nhs_number.spaced()}")


def demo(settings: Settings, _: argparse.Namespace) -> int:
    app = build_application(settings)
    print(f"CP-IS demo on the {settings.event_store} event store"
          + (f" ({settings.sqlite_path})" if settings.event_store == "sqlite" else ""))
    try:
        run_demo(app)
    finally:
        app.close()
    return 0


def add_commands(commands: Commands) -> None:
    command(commands, "demo", "synthetic uploads, a query, the answer and the history",
            "Upload plans for synthetic children (NHS numbers 999 000 0018, 999 000 0026, "
            "999 000 0034), query the first as an emergency department twice within an "
            "hour, and print the answer, its recorded events and the views built from them. "
            "Runs on the embedded store: no servers needed.",
            ["CPIS_DATA_DIR (default ./.cpis)", "CPIS_EVENT_STORE (default sqlite)"], demo)
