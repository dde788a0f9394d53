"""Domain values <-> the Avro records they are written as (avro/*.avsc), for the event
codecs (codec.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from domain.model.access import Access
from domain.model.authors import Author, SystemAuthor, author_fields, author_from_fields
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.notifications import NotificationDue, NotificationKind
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Channel, Provenance
from domain.model.refusals import Refusal, RefusalReason
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
    """The author as its Avro union branch: the record's name, and its fields."""
    kind = "SystemAuthor" if isinstance(author, SystemAuthor) else "PersonAuthor"
    return f"{NS}.{kind}", author_fields(author)


def author_in(r: AvroRecord) -> Author:
    return _author_in(tuple(r.items()))


# authors read back, built and checked once each: a replay meets the same clinicians and
# systems again and again (authors are immutable, so one instance serves them all)
@lru_cache(maxsize=1 << 14)
def _author_in(items: tuple[tuple[str, Any], ...]) -> Author:
    return author_from_fields(dict(items))


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


def outcome_out(o: UploadOutcome) -> AvroRecord:
    return {"sequence": o.sequence, "file_code": o.file_code.name, "detail": o.detail,
            "records": [{"index": r.index, "code": r.code.name, "location": r.location,
                         "detail": r.detail} for r in o.records]}


def outcome_in(r: AvroRecord) -> UploadOutcome:
    return UploadOutcome(r["sequence"], FileCode[r["file_code"]], tuple(
        RecordOutcome(x["index"], RecordCode[x["code"]], x["location"], x["detail"])
        for x in r["records"]), r["detail"])


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else _uuid_of(value)


# record ids read back (as text), built and checked once each: a replay meets each record's
# id once per event of it
_uuid_of = lru_cache(maxsize=1 << 16)(UUID)


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
