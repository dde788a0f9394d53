"""Build the REPC_IN000007GB01 CP-IS NHS query response from a QueryAnswer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import (
    MESSAGE,
    E,
    Element,
    author,
    content_id,
    control_act_author,
    ii,
    local_authority,
    transmission_wrapper,
    value,
)
from adapters.hl7v3.timestamps import (
    format_creation_time,
    format_date,
    format_plan_date,
    format_response_time,
)
from domain.application.answers import QueryAnswer, ShownPlan
from domain.model.access import Access
from domain.model.nhs_number import NhsNumber


def new_id() -> str:
    return str(uuid.uuid4()).upper()


IdFactory = Callable[[], str]


def access_entry(access: Access, nhs_number: NhsNumber) -> Element:
    return E.pertinentInformation13(E("pertinentCP-ISNHSQuery",
        E.effectiveTime(value=format_response_time(access.accessed_at)), ii(access.access_id),
        author(access.author),
        E.queryByParameter(E("person.NHSnumber", E.value(extension=nhs_number.value)))))


def plan_information(plan: ShownPlan) -> Element:
    template, cls, prefix = v.RESPONSE_PLAN_TEMPLATES[plan.plan_type.value]
    parts = [E.component(E(f"{prefix}StartDate", value(format_plan_date(plan.start))))]
    if plan.end is not None:
        parts.append(E.component1(E(f"{prefix}EndDate", value(format_plan_date(plan.end)))))
    return E.pertinentInformation15(content_id(f"{template}#{cls}"),
                                    E(f"{template}.{cls}", *parts))


def subject(plan: ShownPlan, nhs_number: NhsNumber) -> Element:
    who = plan.subject
    person = [E.birthTime(value=format_date(who.birth_date))] if who.birth_date else []
    person.append(E.name(E.given(who.given_name), E.family(who.family_name)))
    ids = [ii(v.NHS_NUMBER_ROOT, nhs_number.value)]
    if who.local_id:
        ids.append(ii(v.LOCAL_PERSON_ROOT, who.local_id))
        ids[-1].set("assigningAuthorityName", plan.local_authority.ods_code)
    if plan.plan_type.keyed_by_mother:
        body = E("COCT_TP145100GB01.UnbornChild",
                 E.parentMotherPerson(*person, E.playedMother(*ids)))
        return E.subject(content_id(v.UNBORN_CHILD_TEMPLATE), body)
    body = E("COCT_TP145101GB01.Child", *ids, E.childPerson(*person))
    return E.subject(content_id(v.CHILD_TEMPLATE), body)


def record_control_act(plan: ShownPlan, nhs_number: NhsNumber) -> Element:
    return E.pertinentInformation14(E("pertinentCP-ISRecordControlAct", E.record(
        E.communicationFunctionSnd(local_authority(plan.local_authority)),
        E("CP-ISRecord", plan_information(plan), subject(plan, nhs_number)))))


def query_response(answer: QueryAnswer, now: datetime, ids: IdFactory = new_id,
                   root: Callable[..., Element] = E) -> Element:
    """The CP-ISNHSQueryResponse payload (REPC_MT000007GB01); `root` MESSAGE where it is a
    document's root (the ITK route's payload)."""
    return root("CP-ISNHSQueryResponse",
        E.effectiveTime(value=format_response_time(now)), ii(ids()),
        E.pertinentInformation11(E.pertinentTotalReturnedAccessRecords(
            value(len(answer.history)))),
        E.pertinentInformation12(E.pertinentTotalReturnedChildRecords(value(len(answer.plans)))),
        *(access_entry(a, answer.nhs_number) for a in answer.history),
        *(record_control_act(p, answer.nhs_number) for p in answer.plans))


def response_message(answer: QueryAnswer, now: datetime, to_asid: str, cpis_asid: str,
                     message_id: str, ids: IdFactory = new_id) -> Element:
    """The whole REPC_IN000007GB01 interaction (`message_id`: also the envelope's)."""
    return MESSAGE(v.RESPONSE,
        *transmission_wrapper(v.RESPONSE, message_id, format_creation_time(now), to_asid,
                              cpis_asid),
        E.ControlActEvent(
            control_act_author(cpis_asid),
            E.subject(query_response(answer, now, ids), typeCode="SUBJ"),
            E.queryAck(E.queryResponseCode(code="OK"), type="QueryAck"),
            classCode="CACT", moodCode="EVN"))

