from datetime import timedelta

import pytest

from domain.model.access import Access, access_history, collapse_repeat_views
from domain.model.authors import PersonAuthor, PersonName, SystemAuthor
from domain.model.errors import DomainError, InvalidAuthorError
from tests.builders import T0, access, person, system


def test_history_is_newest_first() -> None:
    a, b, c = access(0, person("1")), access(60, person("2")), access(120, person("3"))
    assert access_history([a, c, b]) == [c, b, a]


def test_repeat_views_by_the_same_author_within_24_hours_show_once_as_the_first() -> None:
    first = access(0)
    repeats = [access(m) for m in (30, 600, 23 * 60 + 59)]
    assert access_history([first, *repeats]) == [first]


def test_a_view_24_hours_or_more_after_the_first_shows_again() -> None:
    first, again = access(0), access(24 * 60)
    assert access_history([first, again]) == [again, first]


def test_the_24_hour_window_runs_from_the_last_view_shown() -> None:
    shown, hidden, shown_again = access(0), access(20 * 60), access(25 * 60)
    assert collapse_repeat_views([shown, hidden, shown_again]) == [shown, shown_again]


def test_different_authors_are_not_collapsed() -> None:
    a, b = access(0, person("1")), access(1, person("2"))
    assert access_history([a, b]) == [b, a]


def test_same_user_at_another_organisation_is_another_author() -> None:
    a, b = access(0, person("1", "RXX01")), access(1, person("1", "RYY02"))
    assert len(access_history([a, b])) == 2


def test_systems_collapse_by_asid() -> None:
    a, b, c = access(0, system("1")), access(5, system("1")), access(6, system("2"))
    assert access_history([a, b, c]) == [c, a]


def test_history_is_capped_at_25() -> None:
    many = [access(i, person(str(i))) for i in range(40)]
    shown = access_history(many)
    assert len(shown) == 25
    assert shown[0] == many[39]
    assert shown[-1] == many[15]


def test_the_current_access_is_always_shown() -> None:
    current = access(100, person("current"))
    others = [access(i, person(str(i))) for i in range(30)]
    assert access_history([*others, current], current)[0] == current


def test_a_current_repeat_view_shows_as_the_authors_first_view_even_beyond_the_cap() -> None:
    me = person("me")
    my_first = access(0, me)
    others = [access(10 + i, person(str(i))) for i in range(30)]
    current = access(60, me)
    shown = access_history([my_first, *others, current], current)
    assert len(shown) == 25
    assert shown[-1] == my_first
    assert shown[:24] == list(reversed(others))[:24]


def test_access_time_must_carry_a_time_zone() -> None:
    with pytest.raises(DomainError, match="must carry a time zone"):
        Access("A1", T0.replace(tzinfo=None), person())


def test_access_needs_an_id() -> None:
    with pytest.raises(DomainError, match="needs an id"):
        Access(" ", T0 + timedelta(0), person())


@pytest.mark.parametrize(
    ("field", "message"),
    [("sds_user_id", "SDS user id"), ("job_role_code", "job role code"),
     ("organisation_ods", "organisation ODS code"), ("organisation_name", "organisation name")],
)
def test_person_author_needs_identity_role_and_organisation(field: str, message: str) -> None:
    fields = {"sds_user_id": "1", "job_role_code": "R8000", "job_role_name": "Doctor",
              "name": PersonName("Dana", "Doctor"), "organisation_ods": "RXX01",
              "organisation_name": "ED"} | {field: ""}
    with pytest.raises(InvalidAuthorError, match=message):
        PersonAuthor(**fields)  # type: ignore[arg-type]


def test_system_author_needs_a_numeric_asid() -> None:
    with pytest.raises(InvalidAuthorError, match="ASID must be digits"):
        SystemAuthor("abc", "RXX01", "Trust")
