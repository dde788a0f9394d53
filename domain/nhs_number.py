"""NHS number value with the Modulus 11 check digit."""

from __future__ import annotations

from dataclasses import dataclass
from operator import mul

from domain.errors import InvalidNhsNumberError

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit of nine digits; None where the check value is 10 (invalid)."""
    if len(first_nine) != len(_WEIGHTS):
        raise ValueError(f"a check digit needs nine digits, got {first_nine!r}")
    total = sum(map(mul, map(int, first_nine), _WEIGHTS))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


@dataclass(frozen=True, order=True)
class NhsNumber:
    """A valid NHS number, held as its 10 digits without spaces."""

    value: str

    def __post_init__(self) -> None:
        check_nhs_number(self.value)

    @classmethod
    def parse(cls, raw: str) -> NhsNumber:
        """Accept "9434765919" or "943 476 5919" (spaces or hyphens) and normalise."""
        if not isinstance(raw, str):
            raise InvalidNhsNumberError(f"NHS number must be text, got {type(raw).__name__}")
        return cls("".join(raw.split()).replace("-", ""))

    def __str__(self) -> str:
        return self.value

    def spaced(self) -> str:
        """The 3-3-4 form people read: "943 476 5919"."""
        return f"{self.value[:3]} {self.value[3:6]} {self.value[6:]}"


def check_nhs_number(digits: str) -> None:
    """Raise InvalidNhsNumberError unless digits is a valid 10-digit NHS number."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise InvalidNhsNumberError(f"NHS number must be 10 digits, got {digits!r}")
    expected = check_digit(digits[:9])
    if expected is None:
        raise InvalidNhsNumberError(
            f"NHS number {digits} is invalid: its Modulus 11 check value is 10"
        )
    if expected != int(digits[9]):
        raise InvalidNhsNumberError(
            f"NHS number {digits} fails the Modulus 11 check: "
            f"check digit should be {expected}, not {digits[9]}"
        )


def is_valid_nhs_number(raw: str) -> bool:
    """True where raw parses as a valid NHS number."""
    try:
        NhsNumber.parse(raw)
    except InvalidNhsNumberError:
        return False
    return True
