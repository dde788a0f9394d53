"""Record events <-> Avro records: one codec per event type (the wiring table below).

encode_event(event, position) gives (Avro full name, record); decode_event reverses it.
Every record event type must appear in CODECS; a test checks that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.model.event_id_claims import EventIdClaim
from domain.model.operator_looks import OperatorLookLog
from domain.model.plans import PlanType
from domain.model.provenance import Channel, Provenance
from domain.model.record import ChildProtectionRecord as Record
from domain.model.refusals import UnnumberedRefusal
from domain.model.upload_ledger import UploadLedger
from streams.avro.values import (
    NS,
    AvroRecord,
    access_in,
    access_out,
    as_uuid,
    nhs_number,
    outcome_in,
    outcome_out,
    plan_in,
    plan_out,
    provenance_in,
    provenance_out,
    refusal_in,
    refusal_out,
)


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
CODECS.update({
    OperatorLookLog.Opened: Codec(f"{NS}.OperatorLookLogOpened", _no_fields, lambda r: {}),
    OperatorLookLog.Looked: Codec(
        f"{NS}.OperatorLooked",
        lambda e: {"operator": e.operator, "issuer": e.issuer, "viewed": e.viewed},
        lambda r: {"operator": r["operator"], "issuer": r["issuer"], "viewed": r["viewed"]}),
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
    OperatorLookLog.Event: Envelope("log_id", "nhs_number", lambda e: e.nhs_number.value,
                                    OperatorLookLog.Opened,
                                    lambda r: {"nhs_number": nhs_number(r["nhs_number"])}),
}
ENVELOPE_OF = {cls: envelope for cls in CODECS for base, envelope in ENVELOPES.items()
               if issubclass(cls, base)}


class UnknownEventError(ValueError):
    """An event type with no Avro codec, or an Avro record of no known event."""


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
    for aggregate in (Record, UploadLedger, EventIdClaim, UnnumberedRefusal, OperatorLookLog):
        if issubclass(created, aggregate.Event):
            return str(aggregate.TOPIC)
    raise UnknownEventError(f"{created.__name__} belongs to no known aggregate")


