"""One deterministic instance of every record event and of a notification, for codec tests
and the golden bytes in tests/fixtures/avro/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.model.access import Access
from domain.model.event_id_claims import EventIdClaim, claim_id
from domain.model.identity import ChangeKind, IdentityChange
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue, NotificationKind
from domain.model.operator_looks import OperatorLookLog, look_log_id
from domain.model.plans import PlanType
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.refusals import Refusal, RefusalReason, UnnumberedRefusal
from domain.model.upload_ledger import UploadLedger, ledger_id
from domain.model.uploads import FileCode, RecordCode, RecordOutcome, UploadOutcome
from streams.avro.schemas import AvroSchemas
from streams.avro.wire import WireFormat
from streams.kafka.topics import Topics
from tests.builders import OTHER_CHILD, UPLOAD, person, plan, system

AT = datetime(2026, 11, 1, 12, 30, 15, 123456, tzinfo=UTC)
# the number the golden bytes (tests/fixtures/avro) were written with: old bytes must decode
CHILD = NhsNumber("9434765919")
RID = record_id(CHILD)
Ledger: Any = UploadLedger
Record: Any = ChildProtectionRecord  # events are dataclasses made by a metaclass


def _common(version: int) -> dict[str, Any]:
    return {"originator_id": RID, "originator_version": version, "timestamp": AT,
            "nhs_number": CHILD}


def sample_events() -> dict[str, Any]:
    """Avro full name -> sample event (record and upload-ledger events)."""
    return {**sample_record_events(), **sample_ledger_events(), **sample_audit_events()}


def sample_record_events() -> dict[str, Any]:
    ns = "uk.nhs.cpis.events"
    person_access = Access("ACCESS-1", AT, person())
    return {
        f"{ns}.RecordOpened": Record.Opened(originator_topic=Record.TOPIC, **_common(1)),
        f"{ns}.PlanRegistered": Record.PlanRegistered(plan=plan(), provenance=UPLOAD,
                                                      **_common(2)),
        f"{ns}.PlanUpdated": Record.PlanUpdated(
            plan=plan(PlanType.UNBORN_CHILD_PROTECTION_PLAN), provenance=UPLOAD, **_common(3)),
        f"{ns}.PlanEnded": Record.PlanEnded(
            ods_code="X26", plan_type=PlanType.CHILD_PROTECTION_PLAN,
            end=datetime(2026, 2, 1, 9, 0), provenance=UPLOAD, **_common(4)),
        f"{ns}.PlanDeleted": Record.PlanDeleted(
            ods_code="X26", plan_type=PlanType.LOOKED_AFTER_CHILD,
            delete=datetime(2026, 3, 1, 0, 0), provenance=UPLOAD, **_common(5)),
        f"{ns}.InformationAccessed": Record.InformationAccessed(
            access=person_access, notify=["X26", "X27"], provenance=UPLOAD, **_common(6)),
        f"{ns}.InformationReadSilently": Record.InformationReadSilently(
            access=Access("ACCESS-3", AT, person()), provenance=QUERY, **_common(11)),
        f"{ns}.NoRecordsFoundAnswered": Record.NoRecordsFoundAnswered(
            access=Access("ACCESS-4", AT, system()), provenance=QUERY, **_common(12)),
        f"{ns}.QueryRefused": Record.QueryRefused(
            refusal=Refusal(RefusalReason.NOT_AUTHORISED, "job role R0000 is not allowed", AT,
                            "ACCESS-5", person()), provenance=QUERY, **_common(13)),
        f"{ns}.NhsNumberSuperseded": Record.NhsNumberSuperseded(
            replacement=OTHER_CHILD, notify=["X26"], provenance=UPLOAD, **_common(7)),
        f"{ns}.RecordMergedIn": Record.RecordMergedIn(
            merged_from=OTHER_CHILD, plans=[plan(), plan(PlanType.LOOKED_AFTER_CHILD)],
            accesses=[person_access], provenance=UPLOAD, **_common(10)),
        f"{ns}.NhsNumberMarkedInactive": Record.NhsNumberMarkedInactive(
            notify=[], provenance=UPLOAD, **_common(8)),
    }


def sample_ledger_events() -> dict[str, Any]:
    ns = "uk.nhs.cpis.events"
    lid = ledger_id("X26")
    common = {"originator_id": lid, "timestamp": AT, "ods_code": "X26"}
    outcome = UploadOutcome(42, FileCode.CPF03, (
        RecordOutcome(1, RecordCode.CPR06, "/File/record[1]"),
        RecordOutcome(2, RecordCode.CPR04, "/File/record[2]/CP-ISRecord/subject",
                      "NHS number must be 10 digits")))
    return {
        f"{ns}.UploadLedgerOpened": Ledger.Opened(originator_topic=Ledger.TOPIC,
                                                  originator_version=1, **common),
        f"{ns}.UploadProcessed": Ledger.UploadProcessed(
            originator_version=2, mesh_message_id="MESH-1", outcome=outcome, **common),
        f"{ns}.FileResponseSent": Ledger.FileResponseSent(
            originator_version=3, mesh_message_id="MESH-1", response_message_id="MESH-2",
            **common),
    }


QUERY = Provenance(Channel.HL7V3, "MESSAGE-1", asid="200000000001")
Claim: Any = EventIdClaim
Unnumbered: Any = UnnumberedRefusal
Looks: Any = OperatorLookLog


def sample_audit_events() -> dict[str, Any]:
    """The events of the aggregates that only serve the audit (claims, refusals, operators'
    looks)."""
    ns = "uk.nhs.cpis.events"
    return {
        f"{ns}.EventIdClaimed": Claim.Claimed(
            originator_id=claim_id("ACCESS-1"), originator_version=1, timestamp=AT,
            originator_topic=Claim.TOPIC, event_id="ACCESS-1", nhs_number=CHILD,
            author_identity=person().identity, organisation_ods="RXX01"),
        f"{ns}.UnnumberedQueryRefused": Unnumbered.Recorded(
            originator_id=UUID("6b1f7a38-0f5c-4a8e-9d5e-3b8d2f1c4a77"), originator_version=1,
            timestamp=AT, originator_topic=Unnumbered.TOPIC, nhs_number_sent="0000000000",
            refusal=Refusal(RefusalReason.MALFORMED, "NHS number must be 10 digits", AT,
                            organisation_ods="ZZZ999"), provenance=QUERY),
        f"{ns}.OperatorLookLogOpened": Looks.Opened(
            originator_id=look_log_id(CHILD), originator_version=1, timestamp=AT,
            originator_topic=Looks.TOPIC, nhs_number=CHILD),
        f"{ns}.OperatorLooked": Looks.Looked(
            originator_id=look_log_id(CHILD), originator_version=2, timestamp=AT,
            nhs_number=CHILD, operator="5f0c (olivia)", issuer="http://127.0.0.1/realms/cpis",
            viewed="record"),
    }


def system_access_event() -> Any:
    return Record.InformationAccessed(access=Access("ACCESS-2", AT, system()), notify=["X26"],
                                      provenance=UPLOAD, **_common(9))


def sample_notification() -> NotificationDue:
    return NotificationDue(
        notification_id=f"{RID}:6:X26", kind=NotificationKind.ACCESS, ods_code="X26",
        nhs_number=CHILD, record_id=UUID(str(RID)), version=6, occurred_at=AT,
        access=Access("ACCESS-1", AT, person()))


def sample_identity_change() -> IdentityChange:
    return IdentityChange("PDS-FEED-0001", ChangeKind.SUPERSEDED, CHILD, OTHER_CHILD)


class NumberedIds:
    """Schema ids as a registry gives them, numbered in the order asked, for unit tests with
    no registry (the integration tests use the real one)."""

    url = "memory:"

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], int] = {}
        self.texts: dict[int, str] = {}

    def id_of(self, subject: str, text: str) -> int:
        found = self.ids.setdefault((subject, text), len(self.ids) + 1)
        self.texts[found] = text
        return found

    def text_of(self, schema_id: int) -> str | None:
        return self.texts.get(schema_id)


def wire_format(topics: Topics) -> WireFormat:
    """Topic messages in Confluent's wire format, read back by the `schemas` it holds."""
    ids = NumberedIds()
    return WireFormat(AvroSchemas(registry=ids), topics, ids)
