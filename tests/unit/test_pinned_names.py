"""Persisted names: renaming any of these would orphan stored events. Change them never."""

from domain.application.app import CpisApplication
from domain.application.store import APPLICATION_NAME
from domain.model.record import ChildProtectionRecord as Record

PINNED_TOPICS = {
    Record: "cpis:ChildProtectionRecord",
    Record.Opened: "cpis:RecordOpened.v1",
    Record.PlanRegistered: "cpis:PlanRegistered.v1",
    Record.PlanUpdated: "cpis:PlanUpdated.v1",
    Record.PlanEnded: "cpis:PlanEnded.v1",
    Record.PlanDeleted: "cpis:PlanDeleted.v1",
    Record.InformationAccessed: "cpis:InformationAccessed.v1",
    Record.NhsNumberSuperseded: "cpis:NhsNumberSuperseded.v1",
    Record.NhsNumberMarkedInactive: "cpis:NhsNumberMarkedInactive.v1",
    Record.RecordMergedIn: "cpis:RecordMergedIn.v1",
    Record.InformationReadSilently: "cpis:InformationReadSilently.v1",
    Record.NoRecordsFoundAnswered: "cpis:NoRecordsFoundAnswered.v1",
    Record.QueryRefused: "cpis:QueryRefused.v1",
}


def test_application_name_is_pinned() -> None:
    assert APPLICATION_NAME == "CPIS"
    assert CpisApplication.name == "CPIS"


def test_every_record_event_has_its_pinned_topic() -> None:
    for cls, topic in PINNED_TOPICS.items():
        assert topic == getattr(cls, "TOPIC", None)


def test_no_record_event_is_left_unpinned() -> None:
    events = {
        value for value in vars(Record).values()
        if isinstance(value, type) and issubclass(value, Record.Event)
        and value not in (Record.Event, Record.Created)
    }
    assert events == set(PINNED_TOPICS) - {Record}


def test_upload_ledger_events_have_their_pinned_topics() -> None:
    from domain.model.upload_ledger import UploadLedger as Ledger

    pinned = {
        Ledger: "cpis:UploadLedger",
        Ledger.Opened: "cpis:UploadLedgerOpened.v1",
        Ledger.UploadProcessed: "cpis:UploadProcessed.v1",
        Ledger.FileResponseSent: "cpis:FileResponseSent.v1",
        Ledger.Snapshot: "cpis:UploadLedgerSnapshot.v1",
    }
    for cls, topic in pinned.items():
        assert topic == getattr(cls, "TOPIC", None)


def test_audit_aggregates_have_their_pinned_topics() -> None:
    from domain.model.event_id_claims import EventIdClaim
    from domain.model.refusals import UnnumberedRefusal

    pinned = {
        EventIdClaim: "cpis:EventIdClaim",
        EventIdClaim.Claimed: "cpis:EventIdClaimed.v1",
        UnnumberedRefusal: "cpis:UnnumberedRefusal",
        UnnumberedRefusal.Recorded: "cpis:UnnumberedQueryRefused.v1",
    }
    for cls, topic in pinned.items():
        assert topic == getattr(cls, "TOPIC", None)
