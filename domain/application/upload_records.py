"""Apply the records of a local authority's upload file: each record's checks and plans.

Record checks, in order: Modulus 11 (CPR04), PDS (CPR01/02/03/05), the plan rules (CPR07);
records that pass have their plans registered or updated (CPR06). Nothing a record does can
fail half-way: every plan is built and checked before any is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.application.pds import PdsPort, PdsStatus
from domain.model.errors import DomainError
from domain.model.limits import Limits, check_birth_date, check_plan_date, check_text
from domain.model.nhs_number import NhsNumber
from domain.model.plans import Plan, PlanDates, PlanType, Subject
from domain.model.provenance import Provenance
from domain.model.record import ChildProtectionRecord
from domain.model.uploads import LaUpload, PlanUpload, RecordCode, RecordOutcome, RecordUpload

PDS_CODES = {
    PdsStatus.UNKNOWN: RecordCode.CPR01,
    PdsStatus.SENSITIVE: RecordCode.CPR02,
    PdsStatus.NOT_VERIFIED: RecordCode.CPR03,
    PdsStatus.SUPERSEDED: RecordCode.CPR05,
}

RecordLoader = Callable[[NhsNumber], ChildProtectionRecord]


@dataclass
class UploadApplier:
    """Applies the records of one file to the records loaded by `load` (kept for saving)."""

    upload: LaUpload
    pds: PdsPort
    provenance: Provenance
    load: RecordLoader
    now: datetime
    limits: Limits = field(default_factory=Limits)

    def apply(self, record: RecordUpload) -> RecordOutcome:
        try:
            nhs_number = NhsNumber.parse(record.subject.nhs_number)
        except DomainError as error:
            return RecordOutcome(record.index, RecordCode.CPR04, record.subject.location,
                                 str(error))
        try:
            self.limits.check_nhs_number(nhs_number)
        except DomainError as error:  # never issued: PDS would find no match
            return RecordOutcome(record.index, RecordCode.CPR01, record.subject.location,
                                 str(error))
        status = self.pds.status(nhs_number, record.subject.birth_date)
        if status in PDS_CODES:
            return RecordOutcome(record.index, PDS_CODES[status], record.subject.location,
                                 f"NHS number {nhs_number}: PDS says {status.value}")
        if record.problem:
            return RecordOutcome(record.index, RecordCode.CPR07,
                                 record.problem_location or record.location, record.problem)
        where = record.location
        try:
            if not record.plans:
                raise DomainError("the record holds no plan")
            plans = []
            for sent in record.plans:
                where = sent.location or record.location
                plans.append(self._plan(record, sent))
            where = record.location
            aggregate = self.load(nhs_number)
            aggregate.check_active()
        except DomainError as error:
            return RecordOutcome(record.index, RecordCode.CPR07, where, str(error))
        for plan in plans:
            self._upsert(aggregate, plan)
        return RecordOutcome(record.index, RecordCode.CPR06, record.location)

    def _plan(self, record: RecordUpload, sent: PlanUpload) -> Plan:
        if sent.start is None:
            raise DomainError("the plan has no start date")
        plan_type = PlanType.from_code(sent.plan_type_code)
        for moment, what in ((sent.start, "start date"), (sent.end, "end date"),
                             (sent.delete, "delete date")):
            if moment is not None:
                check_plan_date(moment, f"the plan's {what}")
        subject = record.subject
        if subject.birth_date is not None:
            check_birth_date(subject.birth_date, self.now.date())
        for value, what in ((subject.given_name, "the given name"),
                            (subject.family_name, "the family name"),
                            (subject.local_id or "", "the local authority's id")):
            check_text(value, what)
        return Plan(plan_type, self.upload.local_authority,
                    PlanDates(sent.start, sent.end, sent.delete),
                    Subject(subject.given_name, subject.family_name, subject.birth_date,
                            subject.local_id))

    def _upsert(self, aggregate: ChildProtectionRecord, plan: Plan) -> None:
        held = aggregate.plans.get(plan.key)
        if held is None or held.is_deleted(self.now):
            aggregate.register_plan(plan, self.provenance, self.now)
        elif held != plan:
            aggregate.update_plan(plan, self.provenance, self.now)
