from datetime import datetime

import pytest

from domain.model.errors import InvalidLocalAuthorityError, InvalidPlanError
from domain.model.local_authority import LocalAuthority
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from tests.builders import LA_A, plan


def test_plan_types_carry_their_snomed_codes() -> None:
    assert PlanType.CHILD_PROTECTION_PLAN.snomed_code == "342191000000101"
    assert PlanType.LOOKED_AFTER_CHILD.snomed_code == "764841000000100"
    assert PlanType.UNBORN_CHILD_PROTECTION_PLAN.snomed_code == "818901000000100"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("CPP", PlanType.CHILD_PROTECTION_PLAN), ("764841000000100", PlanType.LOOKED_AFTER_CHILD),
     ("UCP", PlanType.UNBORN_CHILD_PROTECTION_PLAN)],
)
def test_plan_type_from_short_or_snomed_code(code: str, expected: PlanType) -> None:
    assert PlanType.from_code(code) is expected


def test_unknown_plan_type_is_refused_by_name() -> None:
    with pytest.raises(InvalidPlanError, match="unknown plan type 'XYZ'"):
        PlanType.from_code("XYZ")


def test_only_the_unborn_child_plan_is_keyed_by_the_mother() -> None:
    assert [t for t in PlanType if t.keyed_by_mother] == [PlanType.UNBORN_CHILD_PROTECTION_PLAN]


def test_end_date_before_start_date_is_refused() -> None:
    with pytest.raises(InvalidPlanError, match="end date 2024-12-31 09:00 is before its start"):
        PlanDates(datetime(2025, 1, 1, 9, 0), datetime(2024, 12, 31, 9, 0))


def test_end_date_equal_to_start_is_allowed() -> None:
    at = datetime(2025, 1, 1, 9, 0)
    assert PlanDates(at, at).end == at


def test_unborn_child_plan_needs_an_end_date() -> None:
    needs_end = r"Unborn Child Protection Plan \(UCP\) needs an end"
    with pytest.raises(InvalidPlanError, match=needs_end):
        Plan(PlanType.UNBORN_CHILD_PROTECTION_PLAN, LA_A, PlanDates(datetime(2025, 1, 1)),
             Subject("Carla", "Mother"))


def test_unborn_child_plan_with_an_end_date_is_accepted() -> None:
    ucp = plan(PlanType.UNBORN_CHILD_PROTECTION_PLAN, end=datetime(2025, 6, 1, 9, 0))
    assert ucp.dates.end == datetime(2025, 6, 1, 9, 0)


@pytest.mark.parametrize("plan_type", [PlanType.CHILD_PROTECTION_PLAN, PlanType.LOOKED_AFTER_CHILD])
def test_child_plans_may_be_open_ended(plan_type: PlanType) -> None:
    assert plan(plan_type).dates.end is None


def test_subject_needs_given_and_family_name() -> None:
    with pytest.raises(InvalidPlanError, match="given name and a family name"):
        Subject("", "Example")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ods_code": "x26"}, "ODS code"),
        ({"name": " "}, "has no name"),
        ({"office_hours_phone": "call us"}, "office-hours phone"),
        ({"emergency_duty_phone": ""}, "emergency-duty phone"),
    ],
)
def test_local_authority_needs_ods_name_and_phones(kwargs: dict[str, str], message: str) -> None:
    fields = {"ods_code": "X26", "name": "Northtown", "office_hours_phone": "01632960001",
              "emergency_duty_phone": "01632960999"} | kwargs
    with pytest.raises(InvalidLocalAuthorityError, match=message):
        LocalAuthority(**fields)


def test_plan_dates_are_uk_wall_clock_times() -> None:
    from datetime import UTC

    summer = PlanDates(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    assert summer.start == datetime(2026, 7, 1, 9, 0)  # BST
    winter = PlanDates(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert winter.start == datetime(2026, 12, 1, 9, 0)


def test_a_plan_is_deleted_from_its_uk_local_delete_time() -> None:
    from datetime import UTC

    deleted = plan()
    deleted = Plan(deleted.plan_type, deleted.local_authority,
                   deleted.dates.deleted_at(datetime(2026, 7, 1, 9, 0)), deleted.subject)
    assert not deleted.is_deleted(datetime(2026, 7, 1, 7, 59, tzinfo=UTC))
    assert deleted.is_deleted(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
