"""A merge never hides a live plan: a property over both records' plans (live, ended,
deleted, deleted in the future; per local authority and plan type), merges, chains and
later uploads, against a reference model written here. For each local authority and plan
type, at every moment after the merge: where one of the merged numbers' plans would be live
then (shown and not ended), the surviving number shows a live plan; where none would be
shown, it shows none; and at the merge it shows one wherever either showed one. Checked for
the query answer, the views and `audit at`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.views.memory import InMemoryViews
from domain.application import audit
from domain.application.answers import ShownPlan
from domain.application.app import CpisApplication
from domain.application.queries import QueryRequest
from domain.model.errors import NoRecordFoundError
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanDates, PlanKey, PlanType, Subject, local_plan_time
from domain.model.provenance import Channel, Provenance
from streams.projection.follower import NotificationLogFollower
from tests.builders import LA_A, LA_B, UPLOAD, person, synthetic_nhs_numbers

A, B, C = synthetic_nhs_numbers(3, start=900)
KEYS = [PlanKey(la.ods_code, kind) for la, kind in product(
    (LA_A, LA_B), (PlanType.CHILD_PROTECTION_PLAN, PlanType.LOOKED_AFTER_CHILD))]
LAS = {LA_A.ods_code: LA_A, LA_B.ods_code: LA_B}
STATES = ("absent", "live", "ended", "deleted", "deleted later")
PDS = Provenance(Channel.PDS, "PDS-1")


@dataclass(frozen=True)
class Held:
    """One number's plan for one key, in the model: shown from its start until deleted,
    live while shown and not ended."""

    end: datetime | None
    delete: datetime | None

    def shown(self, at: datetime) -> bool:
        return self.delete is None or self.delete > at

    def live(self, at: datetime) -> bool:
        return self.shown(at) and (self.end is None or self.end > at)


def held(state: str, now: datetime, days: int) -> Held | None:
    offset = timedelta(days=days, hours=1)
    return {"absent": None, "live": Held(None, None),
            "ended": Held(now - offset, None), "deleted": Held(None, now - offset),
            "deleted later": Held(None, now + offset)}[state]


def states() -> st.SearchStrategy[dict[PlanKey, tuple[str, int]]]:
    return st.fixed_dictionaries({k: st.tuples(st.sampled_from(STATES), st.integers(1, 30))
                                  for k in KEYS})


def upload(app: CpisApplication, number: NhsNumber, key: PlanKey, plan: Held,
           start: datetime) -> None:
    dates = PlanDates(start, plan.end, plan.delete)
    app.upload_plan(number, Plan(key.plan_type, LAS[key.ods_code], dates,
                                 Subject("Amy", "Example", date(2016, 3, 1))), UPLOAD)


@settings(max_examples=150, deadline=None)
@given(a=states(), b=states(), c=states(), chain=st.booleans(),
       later=st.one_of(st.none(), st.sampled_from(KEYS)))
def test_the_surviving_number_shows_every_plan_a_care_setting_must_see(
    a: dict[PlanKey, tuple[str, int]], b: dict[PlanKey, tuple[str, int]],
    c: dict[PlanKey, tuple[str, int]], chain: bool, later: PlanKey | None,
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = [now]
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                          clock=lambda: clock[0])
    numbers = [A, B, C] if chain else [A, B]
    model: dict[PlanKey, list[Held]] = {k: [] for k in KEYS}
    for number, chosen in zip(numbers, (a, b, c), strict=False):
        for key, (state, days) in chosen.items():
            plan = held(state, now, days)
            if plan is not None:
                upload(app, number, key, plan, now - timedelta(days=400 + days))
                model[key].append(plan)
    app.merge(A, B, PDS)
    if chain:
        app.merge(B, C, PDS)
    survivor = numbers[-1]
    if later is not None:  # the LA re-sends the plan under the surviving number
        upload(app, survivor, later, Held(None, None), now - timedelta(days=10))
        model[later] = [Held(None, None)]

    moments = sorted({now, now + timedelta(days=400)} | {
        h.delete + shift for plans in model.values() for h in plans if h.delete
        for shift in (timedelta(minutes=-1), timedelta(minutes=1)) if h.delete + shift >= now})
    views = InMemoryViews()
    NotificationLogFollower(app, views).catch_up()
    for n, at in enumerate(moments):
        clock[0] = at
        shown = shown_by_query(app, survivor, at, n)
        assert shown_in_views(views, survivor, at) == set(shown), at
        for key, plans in model.items():
            check_moment(key, plans, shown, at, first=at == now)
    clock[0] = now
    held_now = audit.record_at(app, survivor, datetime.now(UTC))
    assert held_now is not None
    assert {PlanKey(p.local_authority.ods_code, p.plan_type) for p in held_now.plans} == set(
        shown_by_query(app, survivor, now, len(moments)))


def check_moment(key: PlanKey, plans: list[Held], shown: dict[PlanKey, ShownPlan],
                 at: datetime, first: bool) -> None:
    """The model's promise for one local authority and plan type at one moment."""
    if any(h.live(at) for h in plans):
        assert key in shown, (key, at)
        assert is_live(shown[key], at), (key, at)
    if not any(h.shown(at) for h in plans):
        assert key not in shown, (key, at)
    if first and any(h.shown(at) for h in plans):
        assert key in shown, (key, at)


def shown_by_query(app: CpisApplication, number: NhsNumber, at: datetime, n: int
                   ) -> dict[PlanKey, ShownPlan]:
    try:
        answer = app.query(QueryRequest(number, person(), at, f"Q{n}",
                                        Provenance(Channel.HL7V3, f"M{n}", asid="1")))
    except NoRecordFoundError:
        return {}
    return {PlanKey(p.local_authority.ods_code, p.plan_type): p for p in answer.plans}


def shown_in_views(views: InMemoryViews, number: NhsNumber, at: datetime) -> set[PlanKey]:
    return {PlanKey(r.plan.local_authority.ods_code, r.plan.plan_type) for r in views.plans()
            if r.nhs_number == number.value and not r.plan.is_deleted(at)}


def is_live(plan: ShownPlan, at: datetime) -> bool:
    return plan.end is None or plan.end > local_plan_time(at)


def test_the_reported_case_a_live_plan_over_a_deleted_one() -> None:
    """A holds a live CPP from X26, B a deleted CPP from X26: B shows A's plan."""
    now = datetime.now(UTC)
    app = CpisApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: now)
    key = KEYS[0]
    upload(app, A, key, Held(None, None), now - timedelta(days=100))
    upload(app, B, key, Held(None, now - timedelta(days=1)), now - timedelta(days=200))
    app.merge(A, B, PDS)
    answer = app.query(QueryRequest(B, person(), now, "Q", Provenance(Channel.HL7V3, "M")))
    assert [p.plan_type for p in answer.plans] == [PlanType.CHILD_PROTECTION_PLAN]
