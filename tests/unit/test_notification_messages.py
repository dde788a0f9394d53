"""The notifications CP-IS sends an LA, as XML (no I/O)."""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from adapters.mesh.notification_writer import (
    NotificationContext,
    message_uuid,
    notification_message,
)
from adapters.mesh.workflows import LaMailboxes
from domain.model.authors import NominatedPerson, SystemAuthor
from domain.model.notifications import NotificationKind
from tests.avro_samples import sample_notification
from tests.builders import OTHER_CHILD, T0
from tests.hl7 import xp

CONTEXT = NotificationContext("Northtown Borough Council", "LA-001", 3)


def test_access_notification_names_the_clinician_the_child_and_the_source_file() -> None:
    n = sample_notification()
    message = notification_message(n, CONTEXT, T0)
    assert etree.QName(message).localname == "CP-ISAccessToServiceNotification"
    assert xp(message, "hl7:id/@root") == [message_uuid(n.notification_id)]
    query = "//hl7:pertinentCP-ISNHSQuery"
    assert xp(message, f"{query}/hl7:id/@root") == ["ACCESS-1"]
    assert xp(message, f"{query}//hl7:representedOrganization/hl7:id/@extension") == ["RXX01"]
    assert xp(message, f"{query}//hl7:person.id/hl7:value/@extension") == [
        "9434765919", "LA-001"]
    assert xp(message, "//hl7:referredToLAUploadFile/hl7:value/@extension") == ["3"]
    assert xp(message, "//hl7:representedSourceOrganization/hl7:id/@extension") == ["X26"]


def test_inactive_notification_names_the_replacement_number() -> None:
    n = replace(sample_notification(), kind=NotificationKind.INACTIVE_NHS_NUMBER, access=None,
                replacement=OTHER_CHILD)
    message = notification_message(n, CONTEXT, T0)
    assert etree.QName(message).localname == "CP-ISInactiveNHSNumberNotification"
    patient = "//hl7:pDSInactivePatient"
    assert xp(message, f"{patient}/hl7:id/@extension") == ["9434765919", "LA-001"]
    assert xp(message, f"{patient}/hl7:replacedBy/hl7:newVersion/hl7:id/@extension") == [
        "9990000018"]
    assert xp(message, f"{patient}/hl7:subjectOf/hl7:lAUploadFile/hl7:value/@extension") == [
        "3"]


def test_a_resent_notification_keeps_its_id() -> None:
    assert message_uuid("a:1:X26") == message_uuid("a:1:X26") != message_uuid("a:1:X27")


def test_la_mailboxes_are_ods_mailbox_pairs() -> None:
    boxes = LaMailboxes.parse("X26=X26LA001, X27=X27LA001")
    assert boxes.mailbox_of("X27") == "X27LA001"
    assert boxes.ods_of("X26LA001") == "X26"
    assert boxes.ods_of("NOBODY") is None


def test_an_access_notification_names_the_person_a_system_acted_for() -> None:
    system = SystemAuthor("200000000001", "RXX01", "Example Trust",
                          NominatedPerson("R8000", "Clinical Practitioner Access Role", "Nina",
                                          "Nominated"))
    n = sample_notification()
    assert n.access is not None
    n = replace(n, access=replace(n.access, author=system))
    message = notification_message(n, CONTEXT, T0)
    entity = "//hl7:COCT_TP145104GB01.System/hl7:indirectAuthority/hl7:superiorAssignedEntity"
    assert xp(message, f"{entity}/hl7:code/@code") == ["R8000"]
    assert xp(message, f"{entity}/hl7:assignedPerson/hl7:name/hl7:family/text()") == [
        "Nominated"]
