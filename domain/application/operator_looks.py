"""Recording and reading operators' looks at a child's data (domain/model/operator_looks.py):
the console records one before it shows anything of the child."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.application import AggregateNotFoundError

from domain.application.store import RecordStore
from domain.model.nhs_number import NhsNumber
from domain.model.operator_looks import OperatorLookLog, look_log_id


@dataclass(frozen=True)
class Look:
    looked_at: datetime
    operator: str
    issuer: str
    viewed: str


class OperatorLooks(RecordStore):
    def record_look(self, nhs_number: NhsNumber, operator: str, issuer: str,
                    viewed: str) -> None:
        """Append a look to the number's log (opened at the first), retried on a race."""

        def attempt() -> None:
            try:
                log: object = self.repository.get(look_log_id(nhs_number))
            except AggregateNotFoundError:
                log = OperatorLookLog(nhs_number=nhs_number)
            assert isinstance(log, OperatorLookLog)
            log.looked(operator, issuer, viewed)
            self.save(log)

        self._retrying(attempt, look_log_id(nhs_number))

    def looks_at(self, nhs_number: NhsNumber) -> list[Look]:
        """Every recorded look at the number's data, newest first."""
        events = self.events.get(look_log_id(nhs_number))
        return [Look(e.timestamp, e.operator, e.issuer, e.viewed)
                for e in reversed(list(events)) if isinstance(e, OperatorLookLog.Looked)]
