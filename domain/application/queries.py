"""The query use case: a care setting asks about an NHS number.

Every read leaves exactly one event on the number's record: an unscheduled access (shown
in the history, its local authorities notified), a silent read (scheduled care), a "no
records" answer, or a refusal; none but the access shows or notifies. A query's event id
is claimed in the same save (domain/model/event_id_claims.py), so the same id from another
query is refused, and the same query resent is answered again, recorded once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from domain.application.answers import QueryAnswer, answer_from
from domain.application.store import RecordStore
from domain.model.access import Access
from domain.model.authors import Author
from domain.model.errors import (
    InvalidNhsNumberError,
    NoRecordFoundError,
    OutOfRangeError,
    QueryRefusedError,
)
from domain.model.event_id_claims import EventIdClaim
from domain.model.nhs_number import NhsNumber
from domain.model.provenance import Provenance
from domain.model.record import ChildProtectionRecord, record_id
from domain.model.refusals import Refusal, RefusalReason, UnnumberedRefusal


@dataclass(frozen=True)
class QueryRequest:
    """A care setting asks about an NHS number; `silent` for a scheduled-care read."""

    nhs_number: NhsNumber
    author: Author
    accessed_at: datetime
    access_id: str
    provenance: Provenance
    silent: bool = False

    @property
    def access(self) -> Access:
        return Access(self.access_id, self.accessed_at, self.author)


class Queries(RecordStore):
    def query(self, request: QueryRequest) -> QueryAnswer:
        """Answer with every current plan and the access history, and record the read as one
        event: an unscheduled access (shown in the history, its local authorities
        notified), a silent read, or a "no records" answer. The same query resent (same
        event id, NHS number, author and organisation) is answered again, recorded once.

        Raises NoRecordFoundError where the number has no current plan, and
        QueryRefusedError where a value is out of its window or the event id belongs to
        another query; both are recorded first.
        """
        now = self.clock()
        self._check_query(request, now)
        tries = itertools.count()

        def attempt() -> QueryAnswer:
            record = self.find_record(request.nhs_number) or ChildProtectionRecord(
                nhs_number=request.nhs_number)
            if next(tries) > 0:  # a refused save: perhaps the event id was claimed before
                claim = self.find_claim(request.access_id)
                if claim is not None:
                    return self._answer_again(record, claim, request, now)
            answer = self._read(record, request, now)
            self.save(record, EventIdClaim.claim(request.access_id, request.nhs_number,
                                                 request.author))
            if answer is None:
                raise NoRecordFoundError(f"No Records Found for NHS number {request.nhs_number}")
            return answer

        return self._retrying(attempt, record_id(request.nhs_number))

    def _check_query(self, request: QueryRequest, now: datetime) -> None:
        """Refuse, and record the refusal, where a value lies outside its window."""
        try:
            self.limits.check_nhs_number(request.nhs_number)
            self.limits.access.check(request.accessed_at, now)
        except (InvalidNhsNumberError, OutOfRangeError) as error:
            refusal = Refusal(RefusalReason.OUT_OF_RANGE, str(error), now, request.access_id,
                              request.author)
            self.record_refusal(request.nhs_number.value, refusal, request.provenance)
            raise QueryRefusedError(refusal.reason.value, str(error)) from None

    @staticmethod
    def _read(record: ChildProtectionRecord, request: QueryRequest, now: datetime
              ) -> QueryAnswer | None:
        """Record the read on the record; the answer, or None for "no records"."""
        access = request.access
        if not record.is_active or not record.current_plans(now):
            record.answer_no_records(access, request.provenance)
            return None
        if request.silent:
            record.read_silently(access, request.provenance)
            return answer_from(record, now, None)
        record.record_access(access, request.provenance)
        return answer_from(record, now, access)

    def _answer_again(self, record: ChildProtectionRecord, claim: EventIdClaim,
                      request: QueryRequest, now: datetime) -> QueryAnswer:
        """A query whose event id was claimed: the same query resent is answered again;
        any other use of the id is refused, and the refusal recorded."""
        if not claim.belongs_to(request.nhs_number, request.author):
            detail = (f"event id {request.access_id} was already used for another query "
                      "(another NHS number, author or organisation)")
            record.refuse(Refusal(RefusalReason.EVENT_ID_REUSED, detail, now,
                                  request.access_id, request.author), request.provenance)
            self.save(record)
            raise QueryRefusedError(RefusalReason.EVENT_ID_REUSED.value, detail)
        if not record.is_active or not record.current_plans(now):
            raise NoRecordFoundError(f"No Records Found for NHS number {request.nhs_number}")
        return answer_from(record, now, None if request.silent else request.access)

    def record_refusal(self, nhs_number_sent: str | None, refusal: Refusal,
                       provenance: Provenance) -> None:
        """Record a refused query: on the record of the NHS number it named, where that is a
        number CP-IS takes; otherwise on its own."""
        number = self._number_taken(nhs_number_sent)
        if number is None:
            self.save(UnnumberedRefusal.record(nhs_number_sent, refusal, provenance))
            return

        def attempt() -> None:
            record = self.find_record(number) or ChildProtectionRecord(nhs_number=number)
            record.refuse(refusal, provenance)
            self.save(record)

        self._retrying(attempt, record_id(number))

    def _number_taken(self, sent: str | None) -> NhsNumber | None:
        if sent is None:
            return None
        try:
            number = NhsNumber.parse(sent)
            self.limits.check_nhs_number(number)
        except InvalidNhsNumberError:
            return None
        return number
