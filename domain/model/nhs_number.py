"""NHS number value with the Modulus 11 check digit."""

from __future__ import annotations

from dataclasses import dataclass
from operator import mul

from domain.model.errors import InvalidNhsNumberError

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


# numbers issued to patients, as (first, last, by whom): NHS England, Wales and the Isle of
# Man, and the Scottish (CHI) and Northern Irish (H&C) numbers in the same format, which
# English care settings also meet. Anything else (0000000000, say) was never issued.
ISSUED_RANGES = (
    ("0101000000", "3999999999", "Scotland (CHI), England, Northern Ireland (H&C)"),
    ("4000000000", "4999999999", "England, Wales, Isle of Man"),
    ("6000000000", "7999999999", "England, Wales, Isle of Man"),
)
# reserved for test data, never issued to a patient: taken unless refused by configuration
TEST_RANGE = ("9990000000", "9999999999")


def is_test_number(nhs_number: NhsNumber) -> bool:
    return TEST_RANGE[0] <= nhs_number.value <= TEST_RANGE[1]


def check_issued(nhs_number: NhsNumber, test_numbers: bool = True) -> None:
    """Raise InvalidNhsNumberError unless the number lies in a range issued to patients (or,
    with `test_numbers`, in the test range)."""
    value = nhs_number.value
    if any(first <= value <= last for first, last, _ in ISSUED_RANGES):
        return
    if test_numbers and is_test_number(nhs_number):
        return
    raise InvalidNhsNumberError(
        f"NHS number {value} lies outside every range issued to patients"
        + ("" if test_numbers else " (test numbers 999 000 0000-999 999 9999 are refused here)"))
