"""How domain values are written into stored events (eventsourcing JSON transcodings).

The composition root stores record and ledger events as their Avro messages instead
(streams/avro_mapper.py); these transcodings read events stored as JSON before that, and
serve applications built without that mapper (in-memory ones in unit tests).

Names are persisted: never rename one; add a new name and keep decoding the old.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.model.access import Access
from domain.model.authors import (
    PersonAuthor,
    PersonName,
    SystemAuthor,
    author_fields,
    author_from_fields,
)
from domain.model.local_authority import LocalAuthority
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Channel, Provenance
from domain.model.refusals import Refusal, RefusalReason
from domain.model.uploads import FileCode, RecordCode, RecordOutcome, UploadOutcome


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields (nested values are transcoded too)."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name
        self._fields = tuple(field.name for field in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: Any) -> Any:
        return self.type(**data)


class EnumAsValue(Transcoding):
    def __init__(self, cls: type[Enum], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> Any:
        return obj.value

    def decode(self, data: Any) -> Any:
        return self.type(data)


class EnumAsName(Transcoding):
    """By member name, so a member's description can change without touching stored events."""

    def __init__(self, cls: type[Enum], name: str) -> None:
        self.type = cls
        self.enum_cls = cls
        self.name = name

    def encode(self, obj: Any) -> Any:
        return obj.name

    def decode(self, data: Any) -> Any:
        return self.enum_cls[data]


class AuthorAsFields(Transcoding):
    """An author in its one flat form (domain/model/authors.py). Events stored before then
    hold a person's name as a nested PersonName, which still reads."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> dict[str, Any]:
        return author_fields(obj)

    def decode(self, data: Any) -> Any:
        return self.type(**data) if "name" in data else author_from_fields(data)


class NhsNumberAsStr(Transcoding):
    type = NhsNumber
    name = "nhs_number"

    def encode(self, obj: NhsNumber) -> str:
        return obj.value

    def decode(self, data: str) -> NhsNumber:
        return NhsNumber(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


DATACLASS_NAMES: dict[type[Any], str] = {
    LocalAuthority: "local_authority",
    PlanDates: "plan_dates",
    Subject: "subject",
    Plan: "plan",
    PersonName: "person_name",  # in events stored before authors had one form
    Access: "access",
    Provenance: "provenance",
    Refusal: "refusal",
    RecordOutcome: "record_outcome",
    UploadOutcome: "upload_outcome",
}
ENUM_NAMES: dict[type[Enum], str] = {PlanType: "plan_type", Channel: "channel"}
ENUMS_BY_NAME: dict[type[Enum], str] = {RecordCode: "record_code", FileCode: "file_code",
                                         RefusalReason: "refusal_reason"}


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(NhsNumberAsStr())
    transcoder.register(DateAsISO())
    for cls, name in DATACLASS_NAMES.items():
        transcoder.register(DataclassAsDict(cls, name))
    transcoder.register(AuthorAsFields(PersonAuthor, "person_author"))
    transcoder.register(AuthorAsFields(SystemAuthor, "system_author"))
    for enum_cls, name in ENUM_NAMES.items():
        transcoder.register(EnumAsValue(enum_cls, name))
    for enum_cls, name in ENUMS_BY_NAME.items():
        transcoder.register(EnumAsName(enum_cls, name))
