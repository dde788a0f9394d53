"""Domain errors: every rule that refuses input raises one of these with a clear message."""


class DomainError(ValueError):
    """Input or a command that the CP-IS rules refuse."""


class InvalidNhsNumberError(DomainError):
    """Not a 10-digit NHS number with a valid Modulus 11 check digit."""


class InvalidPlanError(DomainError):
    """Plan dates or plan type that break a plan rule."""


class InvalidAuthorError(DomainError):
    """An access author without the details CP-IS needs to record who looked."""


class InvalidLocalAuthorityError(DomainError):
    """A local authority without ODS code, name or contact phone numbers."""


class PlanNotFoundError(DomainError):
    """A change to a plan that the NHS number does not hold."""


class NotResponsibleError(DomainError):
    """A local authority tried to change a plan that another local authority holds."""


class NoRecordFoundError(DomainError):
    """No CP-IS information is held for the NHS number."""


class IdentityError(DomainError):
    """An NHS-number merge or retirement that cannot be applied."""


class OutOfRangeError(DomainError):
    """A date, time, number or text outside the window CP-IS takes (domain/limits.py)."""


class QueryRefusedError(DomainError):
    """A query CP-IS will not answer; the refusal is recorded. `reason` names the rule."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
