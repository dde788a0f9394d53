"""Record events <-> Avro records: one codec per event type (the wiring table below).

encode_event(event, position) gives (Avro full name, record); decode_event reverses it.
Every record event type must appear in CODECS; a test checks that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from domain.model.access import Access
from domain.model.authors import Author, PersonAuthor, PersonName, SystemAuthor
from domain.model.event_id_claims import EventIdClaim
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue, NotificationKind
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import Refusal, RefusalReason, UnnumberedRefusal
from domain.model.upload_ledger import UploadLedger
from domain.model.uploads import FileCode, RecordCode, RecordOutcome, UploadOutcome

NS = "uk.nhs.cpis.events"
AvroRecord = dict[str, Any]
# NHS numbers read back, checked once each: a replay meets the same child's number again and
# again (NhsNumber is immutable, so one instance serves them all)
nhs_number = lru_cache(maxsize=1 << 16)(NhsNumber)


def provenance_out(p: Provenance) -> AvroRecord:
    return {"channel": p.channel.value, "message_id": p.message_id,
            "file_sequence": p.file_sequence, "asid": p.asid}


def provenance_in(r: AvroRecord) -> Provenance:
    return Provenance(CHANNELS[r["channel"]], r["message_id"], r["file_sequence"], r["asid"])


CHANNELS = {channel.value: channel for channel in Channel}


def plan_out(plan: Plan) -> AvroRecord:
    la, d, s = plan.local_authority, plan.dates, plan.subject
    return {
        "plan_type": plan.plan_type.value,
        "local_authority": {"ods_code": la.ods_code, "name": la.name,
                            "office_hours_phone": la.office_hours_phone,
                            "emergency_duty_phone": la.emergency_duty_phone},
        "start": d.start, "end": d.end, "delete": d.delete,
        "subject": {"given_name": s.given_name, "family_name": s.family_name,
                    "birth_date": s.birth_date, "local_id": s.local_id},
    }


# local authorities read back, built and checked once each: a replay meets the same few
# hundred again and again (immutable, so one instance serves them all)
local_authority = lru_cache(maxsize=1 << 12)(LocalAuthority)


def plan_in(r: AvroRecord) -> Plan:
    la, s = r["local_authority"], r["subject"]
    return Plan(
        PlanType(r["plan_type"]),
        local_authority(la["ods_code"], la["name"], la["office_hours_phone"],
                        la["emergency_duty_phone"]),
        PlanDates(r["start"], r["end"], r["delete"]),
        Subject(s["given_name"], s["family_name"], s["birth_date"], s["local_id"]),
    )


def author_out(author: Author) -> tuple[str, AvroRecord]:
    if isinstance(author, SystemAuthor):
        return (f"{NS}.SystemAuthor", {"asid": author.asid,
                                      "organisation_ods": author.organisation_ods,
                                      "organisation_name": author.organisation_name})
    return (f"{NS}.PersonAuthor", {
        "sds_user_id": author.sds_user_id, "role_profile_id": author.role_profile_id,
        "job_role_code": author.job_role_code, "job_role_name": author.job_role_name,
        "name_prefix": author.name.prefix, "given_name": author.name.given,
        "family_name": author.name.family, "organisation_ods": author.organisation_ods,
        "organisation_name": author.organisation_name})


def author_in(r: AvroRecord) -> Author:
    return _author_in(tuple(r.items()))


# authors read back, built and checked once each: a replay meets the same clinicians and
# systems again and again (authors are immutable, so one instance serves them all)
@lru_cache(maxsize=1 << 14)
def _author_in(items: tuple[tuple[str, Any], ...]) -> Author:
    r = dict(items)
    if "asid" in r:
        return SystemAuthor(r["asid"], r["organisation_ods"], r["organisation_name"])
    return PersonAuthor(
        sds_user_id=r["sds_user_id"], job_role_code=r["job_role_code"],
        job_role_name=r["job_role_name"],
        name=PersonName(r["given_name"], r["family_name"], r["name_prefix"]),
        organisation_ods=r["organisation_ods"], organisation_name=r["organisation_name"],
        role_profile_id=r["role_profile_id"])


def access_out(a: Access) -> AvroRecord:
    return {"access_id": a.access_id, "accessed_at": a.accessed_at, "author": author_out(a.author)}


def access_in(r: AvroRecord) -> Access:
    return Access(r["access_id"], r["accessed_at"], author_in(r["author"]))


def refusal_out(r: Refusal) -> AvroRecord:
    return {"reason": r.reason.name, "detail": r.detail, "received_at": r.received_at,
            "access_id": r.access_id,
            "author": author_out(r.author) if r.author is not None else None,
            "organisation_ods": r.organisation_ods}


def refusal_in(r: AvroRecord) -> Refusal:
    return Refusal(RefusalReason[r["reason"]], r["detail"], r["received_at"], r["access_id"],
                   author_in(r["author"]) if r["author"] is not None else None,
                   r["organisation_ods"])


@dataclass(frozen=True)
class Codec:
    full_name: str
    fields_out: Callable[[Any], AvroRecord]
    fields_in: Callable[[AvroRecord], dict[str, Any]]


def _no_fields(_: Any) -> AvroRecord:
    return {}


CODECS: dict[type[Any], Codec] = {
    Record.Opened: Codec(f"{NS}.RecordOpened", _no_fields, lambda r: {}),
    Record.PlanRegistered: Codec(
        f"{NS}.PlanRegistered", lambda e: {"plan": plan_out(e.plan)},
        lambda r: {"plan": plan_in(r["plan"])}),
    Record.PlanUpdated: Codec(
        f"{NS}.PlanUpdated", lambda e: {"plan": plan_out(e.plan)},
        lambda r: {"plan": plan_in(r["plan"])}),
    Record.PlanEnded: Codec(
        f"{NS}.PlanEnded",
        lambda e: {"ods_code": e.ods_code, "plan_type": e.plan_type.value, "end": e.end},
        lambda r: {"ods_code": r["ods_code"], "plan_type": PlanType(r["plan_type"]),
                   "end": r["end"]}),
    Record.PlanDeleted: Codec(
        f"{NS}.PlanDeleted",
        lambda e: {"ods_code": e.ods_code, "plan_type": e.plan_type.value, "delete": e.delete},
        lambda r: {"ods_code": r["ods_code"], "plan_type": PlanType(r["plan_type"]),
                   "delete": r["delete"]}),
    Record.InformationAccessed: Codec(
        f"{NS}.InformationAccessed",
        lambda e: {"access": access_out(e.access), "notify": list(e.notify)},
        lambda r: {"access": access_in(r["access"]), "notify": list(r["notify"])}),
    Record.InformationReadSilently: Codec(
        f"{NS}.InformationReadSilently", lambda e: {"access": access_out(e.access)},
        lambda r: {"access": access_in(r["access"])}),
    Record.NoRecordsFoundAnswered: Codec(
        f"{NS}.NoRecordsFoundAnswered", lambda e: {"access": access_out(e.access)},
        lambda r: {"access": access_in(r["access"])}),
    Record.QueryRefused: Codec(
        f"{NS}.QueryRefused", lambda e: {"refusal": refusal_out(e.refusal)},
        lambda r: {"refusal": refusal_in(r["refusal"])}),
    Record.NhsNumberSuperseded: Codec(
        f"{NS}.NhsNumberSuperseded",
        lambda e: {"replacement": e.replacement.value, "notify": list(e.notify)},
        lambda r: {"replacement": nhs_number(r["replacement"]), "notify": list(r["notify"])}),
    Record.RecordMergedIn: Codec(
        f"{NS}.RecordMergedIn",
        lambda e: {"merged_from": e.merged_from.value, "plans": [plan_out(p) for p in e.plans],
                   "accesses": [access_out(a) for a in e.accesses],
                   "replaces_held": e.replaces_held},
        lambda r: {"merged_from": nhs_number(r["merged_from"]),
                   "plans": [plan_in(p) for p in r["plans"]],
                   "accesses": [access_in(a) for a in r["accesses"]],
                   "replaces_held": r["replaces_held"]}),
    Record.NhsNumberMarkedInactive: Codec(
        f"{NS}.NhsNumberMarkedInactive", lambda e: {"notify": list(e.notify)},
        lambda r: {"notify": list(r["notify"])}),
}


def outcome_out(o: UploadOutcome) -> AvroRecord:
    return {"sequence": o.sequence, "file_code": o.file_code.name, "detail": o.detail,
            "records": [{"index": r.index, "code": r.code.name, "location": r.location,
                         "detail": r.detail} for r in o.records]}


def outcome_in(r: AvroRecord) -> UploadOutcome:
    return UploadOutcome(r["sequence"], FileCode[r["file_code"]], tuple(
        RecordOutcome(x["index"], RecordCode[x["code"]], x["location"], x["detail"])
        for x in r["records"]), r["detail"])


CODECS.update({
    UploadLedger.Opened: Codec(f"{NS}.UploadLedgerOpened", _no_fields, lambda r: {}),
    UploadLedger.UploadProcessed: Codec(
        f"{NS}.UploadProcessed",
        lambda e: {"mesh_message_id": e.mesh_message_id, **outcome_out(e.outcome)},
        lambda r: {"mesh_message_id": r["mesh_message_id"], "outcome": outcome_in(r)}),
    UploadLedger.FileResponseSent: Codec(
        f"{NS}.FileResponseSent",
        lambda e: {"mesh_message_id": e.mesh_message_id,
                   "response_message_id": e.response_message_id},
        lambda r: {"mesh_message_id": r["mesh_message_id"],
                   "response_message_id": r["response_message_id"]}),
})
CODECS.update({
    EventIdClaim.Claimed: Codec(
        f"{NS}.EventIdClaimed",
        lambda e: {"event_id": e.event_id, "author_identity": e.author_identity,
                   "organisation_ods": e.organisation_ods},
        lambda r: {"event_id": r["event_id"], "author_identity": r["author_identity"],
                   "organisation_ods": r["organisation_ods"]}),
    UnnumberedRefusal.Recorded: Codec(
        f"{NS}.UnnumberedQueryRefused",
        lambda e: {"nhs_number_sent": e.nhs_number_sent, "refusal": refusal_out(e.refusal),
                   "provenance": provenance_out(e.provenance)},
        lambda r: {"nhs_number_sent": r["nhs_number_sent"], "refusal": refusal_in(r["refusal"]),
                   "provenance": provenance_in(r["provenance"])}),
})
BY_NAME = {codec.full_name: (cls, codec) for cls, codec in CODECS.items()}
OPERATOR = Provenance(Channel.OPERATOR)
UNKNOWN_SENDER = "unknown"


@dataclass(frozen=True)
class Envelope:
    """The fields every event of one aggregate type begins with: its id, version and
    position, then its Kafka key, then when it was stored."""

    id_field: str
    key_field: str
    key_of: Callable[[Any], str]
    created: type[Any]  # the aggregate's created event, which names the aggregate's topic
    fields_in: Callable[[AvroRecord], dict[str, Any]]


def _sender(event: Any) -> str:
    return str(event.provenance.asid or UNKNOWN_SENDER)


ENVELOPES: dict[type[Any], Envelope] = {
    Record.Event: Envelope("record_id", "nhs_number", lambda e: e.nhs_number.value,
                           Record.Opened, lambda r: {"nhs_number": nhs_number(r["nhs_number"])}),
    UploadLedger.Event: Envelope("ledger_id", "ods_code", lambda e: str(e.ods_code),
                                 UploadLedger.Opened, lambda r: {"ods_code": r["ods_code"]}),
    EventIdClaim.Event: Envelope("claim_id", "nhs_number", lambda e: e.nhs_number.value,
                                 EventIdClaim.Claimed,
                                 lambda r: {"nhs_number": nhs_number(r["nhs_number"])}),
    UnnumberedRefusal.Event: Envelope("refusal_id", "sender_asid", _sender,
                                      UnnumberedRefusal.Recorded, lambda r: {}),
}
ENVELOPE_OF = {cls: envelope for cls in CODECS for base, envelope in ENVELOPES.items()
               if issubclass(cls, base)}


class UnknownEventError(ValueError):
    """An event type with no Avro codec, or an Avro record of no known event."""


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else _uuid_of(value)


# record ids read back (as text), built and checked once each: a replay meets each record's
# id once per event of it
_uuid_of = lru_cache(maxsize=1 << 16)(UUID)


def is_ledger_event(event: Any) -> bool:
    return isinstance(event, UploadLedger.Event)


def message_key(event: Any) -> str:
    """The Kafka key: the NHS number of a record or claim event, the ODS code of a ledger
    event, the sender's ASID of a refusal that named no NHS number."""
    envelope = ENVELOPE_OF.get(type(event))
    if envelope is None:
        raise UnknownEventError(f"no Avro codec for {type(event).__name__}")
    return envelope.key_of(event)


def encode_event(event: Any, position: int) -> tuple[str, AvroRecord]:
    codec = CODECS.get(type(event))
    if codec is None:
        raise UnknownEventError(f"no Avro codec for {type(event).__name__}")
    envelope = ENVELOPE_OF[type(event)]
    record: AvroRecord = {
        envelope.id_field: str(event.originator_id), "version": event.originator_version,
        "position": position, envelope.key_field: envelope.key_of(event),
        "recorded_at": event.timestamp}
    if isinstance(event, Record.Event):
        record["provenance"] = provenance_out(getattr(event, "provenance", OPERATOR))
    record.update(codec.fields_out(event))
    return codec.full_name, record


def decode_event(full_name: str, record: AvroRecord) -> tuple[Any, int]:
    """(domain event, event store position)."""
    found = BY_NAME.get(full_name)
    if found is None:
        raise UnknownEventError(f"no record event is written as {full_name}")
    cls, codec = found
    envelope = ENVELOPE_OF[cls]
    fields: dict[str, Any] = {
        "originator_version": record["version"], "timestamp": record["recorded_at"],
        "originator_id": as_uuid(record[envelope.id_field]), **envelope.fields_in(record)}
    if cls is envelope.created:
        fields["originator_topic"] = _aggregate_topic(cls)
    if issubclass(cls, Record.Event) and cls is not Record.Opened:
        fields["provenance"] = provenance_in(record["provenance"])
    fields.update(codec.fields_in(record))
    return cls(**fields), record["position"]


def _aggregate_topic(created: type[Any]) -> str:
    for aggregate in (Record, UploadLedger, EventIdClaim, UnnumberedRefusal):
        if issubclass(created, aggregate.Event):
            return str(aggregate.TOPIC)
    raise UnknownEventError(f"{created.__name__} belongs to no known aggregate")


NOTIFICATION_SCHEMA = "uk.nhs.cpis.notifications.LocalAuthorityNotificationDue"


def encode_notification(n: NotificationDue, position: int) -> tuple[str, AvroRecord]:
    return NOTIFICATION_SCHEMA, {
        "notification_id": n.notification_id, "kind": n.kind.value, "ods_code": n.ods_code,
        "nhs_number": n.nhs_number.value, "record_id": str(n.record_id), "version": n.version,
        "position": position, "occurred_at": n.occurred_at,
        "access": access_out(n.access) if n.access else None,
        "replacement": n.replacement.value if n.replacement else None,
    }


def decode_notification(record: AvroRecord) -> NotificationDue:
    return NotificationDue(
        notification_id=record["notification_id"], kind=NotificationKind(record["kind"]),
        ods_code=record["ods_code"], nhs_number=nhs_number(record["nhs_number"]),
        record_id=as_uuid(record["record_id"]), version=record["version"],
        occurred_at=record["occurred_at"],
        access=access_in(record["access"]) if record["access"] else None,
        replacement=nhs_number(record["replacement"]) if record["replacement"] else None,
    )
