"""Local authority: who holds a plan and how an emergency department reaches them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.model.errors import InvalidLocalAuthorityError

_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


@dataclass(frozen=True)
class LocalAuthority:
    """ODS code, name, office-hours (WP) and emergency-duty (EC) phone numbers."""

    ods_code: str
    name: str
    office_hours_phone: str
    emergency_duty_phone: str

    def __post_init__(self) -> None:
        if not _ODS_CODE.match(self.ods_code):
            raise InvalidLocalAuthorityError(
                f"local authority ODS code must be 3-10 upper-case letters or digits, "
                f"got {self.ods_code!r}"
            )
        if not self.name.strip():
            raise InvalidLocalAuthorityError(f"local authority {self.ods_code} has no name")
        for label, phone in (
            ("office-hours", self.office_hours_phone),
            ("emergency-duty", self.emergency_duty_phone),
        ):
            if not _PHONE.match(phone):
                raise InvalidLocalAuthorityError(
                    f"local authority {self.ods_code} {label} phone must be digits "
                    f"(optionally a leading +), got {phone!r}"
                )
