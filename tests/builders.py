"""Test data builders: valid domain values with one thing changed at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.model.access import Access
from domain.model.authors import PersonAuthor, PersonName, SystemAuthor
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Channel, Provenance

CHILD = NhsNumber("9998765439")
OTHER_CHILD = NhsNumber("9990000018")
MOTHER = NhsNumber("9990000026")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LA_A = LocalAuthority("X26", "Northtown Borough Council", "01632960001", "01632960999")
LA_B = LocalAuthority("X27", "Southvale County Council", "01632961001", "01632961999")
UPLOAD = Provenance(Channel.MESH, message_id="MSG-1", file_sequence=1)


def plan(
    plan_type: PlanType = PlanType.CHILD_PROTECTION_PLAN,
    la: LocalAuthority = LA_A,
    start: datetime = datetime(2025, 1, 6, 9, 0),
    end: datetime | None = None,
) -> Plan:
    if end is None and plan_type is PlanType.UNBORN_CHILD_PROTECTION_PLAN:
        end = start + timedelta(days=180)
    return Plan(plan_type, la, PlanDates(start, end), Subject("Amy", "Example", date(2016, 3, 1)))


def person(sds_user_id: str = "555000000001", ods: str = "RXX01") -> PersonAuthor:
    return PersonAuthor(
        sds_user_id=sds_user_id, job_role_code="R8000",
        job_role_name="Clinical Practitioner Access Role",
        name=PersonName("Dana", "Doctor", "Dr"), organisation_ods=ods,
        organisation_name="Example General Hospital ED", role_profile_id="555000000002",
    )


def system(asid: str = "200000000001") -> SystemAuthor:
    return SystemAuthor(asid=asid, organisation_ods="RXX01", organisation_name="Example Trust")


def access(
    minutes: float = 0, author: PersonAuthor | SystemAuthor | None = None, access_id: str = ""
) -> Access:
    at = T0 + timedelta(minutes=minutes)
    return Access(access_id or f"A-{minutes}-{(author or person()).identity}", at,
                  author or person())


def synthetic_nhs_numbers(count: int, start: int = 0) -> list[NhsNumber]:
    """Valid NHS numbers in the 999 test range."""
    from domain.model.nhs_number import check_digit

    found: list[NhsNumber] = []
    i = start
    while len(found) < count:
        base = f"999{i:06d}"
        digit = check_digit(base)
        if digit is not None:
            found.append(NhsNumber(base + str(digit)))
        i += 1
    return found


def populate(app: object, children: int, accesses_each: int = 2, start: int = 0
             ) -> list[NhsNumber]:
    """Plans from two LAs and some accesses for `children` synthetic NHS numbers (from the
    `start`th, for more children on a later call)."""
    from domain.application.app import CpisApplication
    from domain.application.queries import QueryRequest

    assert isinstance(app, CpisApplication)
    numbers = synthetic_nhs_numbers(children, start=start)
    for n, nhs in enumerate(numbers):
        app.upload_plan(nhs, plan(la=LA_A if n % 2 else LA_B), UPLOAD)
        for a in range(accesses_each):  # a minute apart, up to the app's clock
            at = app.clock() - timedelta(minutes=accesses_each - a)
            app.query(QueryRequest(nhs, person(str(a)), at, f"{nhs}-{a}",
                                   Provenance(Channel.HL7V3, f"M-{nhs}-{a}", asid="1")))
    return numbers


def asked(app: object, request: object) -> object:
    """app.query(request), the app's test clock first moved on to the query's time: a query
    is made now, and CP-IS refuses access times far from its clock."""
    from domain.application.app import CpisApplication
    from domain.application.queries import QueryRequest

    assert isinstance(app, CpisApplication)
    assert isinstance(request, QueryRequest)
    clock = app.clock
    if hasattr(clock, "now"):
        clock.now = max(clock.now, request.accessed_at)
    return app.query(request)
