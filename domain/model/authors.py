"""Who accessed CP-IS: a person (SDS user in a role at an organisation) or a system."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domain.model.errors import InvalidAuthorError

_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


def _require(value: str | None, what: str) -> None:
    if value is None or not value.strip():
        raise InvalidAuthorError(f"access author is missing {what}")


def _require_ods(ods_code: str, what: str) -> None:
    _require(ods_code, what)
    if not _ODS_CODE.match(ods_code):
        raise InvalidAuthorError(
            f"{what} must be an ODS code of 3-10 upper-case letters or digits, got {ods_code!r}"
        )


@dataclass(frozen=True)
class PersonName:
    given: str
    family: str
    prefix: str | None = None
    use: str | None = None  # HL7 EntityNameUse as sent (L: legal), echoed back


    def __post_init__(self) -> None:
        _require(self.given, "the person's given name")
        _require(self.family, "the person's family name")

    def __str__(self) -> str:
        return " ".join(part for part in (self.prefix, self.given, self.family) if part)


@dataclass(frozen=True)
class PersonAuthor:
    """A clinician: SDS user id, optional role profile, job role, name and organisation."""

    sds_user_id: str
    job_role_code: str
    job_role_name: str
    name: PersonName
    organisation_ods: str
    organisation_name: str
    role_profile_id: str | None = None

    def __post_init__(self) -> None:
        _require(self.sds_user_id, "the SDS user id")
        _require(self.job_role_code, "the job role code")
        _require(self.job_role_name, "the job role name")
        _require_ods(self.organisation_ods, "the organisation ODS code")
        _require(self.organisation_name, "the organisation name")

    @property
    def identity(self) -> str:
        """Same identity means the same author for the 24-hour collapse."""
        return f"person:{self.sds_user_id}@{self.organisation_ods}"

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.job_role_name}, {self.organisation_name})"


@dataclass(frozen=True)
class NominatedPerson:
    """The person a system author acts for (HL7 indirectAuthority): a role, and a name
    where one was sent."""

    job_role_code: str
    job_role_name: str | None = None
    given: str | None = None
    family: str | None = None
    prefix: str | None = None

    def __str__(self) -> str:
        name = " ".join(part for part in (self.prefix, self.given, self.family) if part)
        role = self.job_role_name or self.job_role_code
        return f"{name} ({role})" if name else role


@dataclass(frozen=True)
class SystemAuthor:
    """A system: ASID, the organisation that maintains it, and the person it acts for."""

    asid: str
    organisation_ods: str
    organisation_name: str
    nominated: NominatedPerson | None = None

    def __post_init__(self) -> None:
        _require(self.asid, "the system ASID")
        if not self.asid.isdigit():
            raise InvalidAuthorError(f"system ASID must be digits, got {self.asid!r}")
        _require_ods(self.organisation_ods, "the maintaining organisation ODS code")
        _require(self.organisation_name, "the maintaining organisation name")

    @property
    def identity(self) -> str:
        return f"system:{self.asid}"

    @property
    def display_name(self) -> str:
        acting = f" for {self.nominated}" if self.nominated else ""
        return f"system {self.asid} ({self.organisation_name}){acting}"


Author = PersonAuthor | SystemAuthor


NOMINATED_FIELDS = {"nominated_job_role_code": "job_role_code",
                    "nominated_job_role_name": "job_role_name",
                    "nominated_name_prefix": "prefix", "nominated_given_name": "given",
                    "nominated_family_name": "family"}


def author_fields(author: Author) -> dict[str, str | None]:
    """The one flat form of an author, wherever one is written down (the Avro events and
    topics, the views, events stored as JSON)."""
    if isinstance(author, SystemAuthor):
        nominated = author.nominated
        return {"asid": author.asid, "organisation_ods": author.organisation_ods,
                "organisation_name": author.organisation_name,
                **{flat: getattr(nominated, name) if nominated else None
                   for flat, name in NOMINATED_FIELDS.items()}}
    return {"sds_user_id": author.sds_user_id, "role_profile_id": author.role_profile_id,
            "job_role_code": author.job_role_code, "job_role_name": author.job_role_name,
            "name_prefix": author.name.prefix, "given_name": author.name.given,
            "family_name": author.name.family, "name_use": author.name.use,
            "organisation_ods": author.organisation_ods,
            "organisation_name": author.organisation_name}


def author_from_fields(fields: dict[str, Any]) -> Author:
    """The author from its flat form; fields written before one existed read as absent."""
    if "asid" in fields:
        nominated = None
        if fields.get("nominated_job_role_code"):
            nominated = NominatedPerson(
                fields["nominated_job_role_code"], fields.get("nominated_job_role_name"),
                fields.get("nominated_given_name"), fields.get("nominated_family_name"),
                fields.get("nominated_name_prefix"))
        return SystemAuthor(fields["asid"], fields["organisation_ods"],
                            fields["organisation_name"], nominated)
    return PersonAuthor(
        sds_user_id=fields["sds_user_id"], job_role_code=fields["job_role_code"],
        job_role_name=fields["job_role_name"],
        name=PersonName(fields["given_name"], fields["family_name"], fields.get("name_prefix"),
                        fields.get("name_use")),
        organisation_ods=fields["organisation_ods"],
        organisation_name=fields["organisation_name"],
        role_profile_id=fields.get("role_profile_id"))
