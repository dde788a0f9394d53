"""Build the notifications CP-IS sends a local authority over MESH:
CP-ISAccessToServiceNotification (REPC_MT000004GB01) and
CP-ISInactiveNHSNumberNotification (REPC_MT000005GB01)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from adapters.hl7v3 import vocabulary as v
from adapters.hl7v3.elements import (
    MESSAGE,
    E,
    Element,
    author,
    content_id,
    ii,
    organisation_ids,
    value,
)
from adapters.hl7v3.timestamps import format_ts
from domain.model.notifications import NotificationDue, NotificationKind

RECIPIENT_TEMPLATE = "COCT_TP145103GB01#IntendedRecipient"


@dataclass(frozen=True)
class NotificationContext:
    """What the views know of the plan the LA holds: its name, local id and source file."""

    la_name: str
    local_id: str | None
    source_file: int | None


def message_uuid(notification_id: str) -> str:
    """A stable UUID per notification, so a resend carries the same id."""
    return str(uuid5(NAMESPACE_URL, f"cpis:notification:{notification_id}")).upper()


def _recipient(ods_code: str, name: str) -> Element:
    return E.primaryInformationRecipient(
        content_id(RECIPIENT_TEMPLATE),
        E("COCT_TP145103GB01.IntendedRecipient",
          E.representedSourceOrganization(*organisation_ids(ods_code, name))))


def _person_ids(n: NotificationDue, context: NotificationContext, tag: str) -> list[Element]:
    ids = [ii(v.NHS_NUMBER_ROOT, n.nhs_number.value, tag=tag)]
    if context.local_id:
        local = ii(v.LOCAL_PERSON_ROOT, context.local_id, tag=tag)
        local.set("assigningAuthorityName", n.ods_code)
        ids.append(local)
    return ids


def _file(context: NotificationContext) -> str:
    return str(context.source_file if context.source_file is not None else -1)


def access_notification(n: NotificationDue, context: NotificationContext,
                        now: datetime) -> Element:
    assert n.kind is NotificationKind.ACCESS
    assert n.access is not None
    query = E("pertinentCP-ISNHSQuery",
              E.effectiveTime(value=format_ts(n.access.accessed_at)), ii(n.access.access_id),
              author(n.access.author),
              E.queryByParameter(E("person.id", *_person_ids(n, context, "value"))))
    return MESSAGE("CP-ISAccessToServiceNotification",
             E.effectiveTime(value=format_ts(now)), ii(message_uuid(n.notification_id)),
             E.pertinentInformation(E.pertinentTotalReturnedRecords(value(1))),
             E.pertinentInformation1(E("pertinentCP-ISRecordAccess",
                 E.pertinentInformation2(query),
                 E.reference(E.referredToLAUploadFile(E.value(extension=_file(context)))))),
             _recipient(n.ods_code, context.la_name))


def inactive_notification(n: NotificationDue, context: NotificationContext,
                          now: datetime) -> Element:
    assert n.kind is NotificationKind.INACTIVE_NHS_NUMBER
    patient = [*_person_ids(n, context, "id")]
    if n.replacement is not None:
        patient.append(E.replacedBy(E.newVersion(E.id(extension=n.replacement.value))))
    patient.append(E.subjectOf(E.lAUploadFile(E.value(extension=_file(context)))))
    return MESSAGE("CP-ISInactiveNHSNumberNotification",
             E.effectiveTime(value=format_ts(now)), ii(message_uuid(n.notification_id)),
             _recipient(n.ods_code, context.la_name),
             E.subject(E.pDSInactivePatient(*patient)))


def notification_message(n: NotificationDue, context: NotificationContext,
                         now: datetime) -> Element:
    if n.kind is NotificationKind.ACCESS:
        return access_notification(n, context, now)
    return inactive_notification(n, context, now)
