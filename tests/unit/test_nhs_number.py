import pytest

from domain.model.errors import InvalidNhsNumberError
from domain.model.nhs_number import NhsNumber, check_digit, is_valid_nhs_number


@pytest.mark.parametrize("raw", ["9434765919", "4010232137", "9990000018", "9990000026"])
def test_known_valid_numbers_are_accepted(raw: str) -> None:
    assert NhsNumber.parse(raw).value == raw


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("943 476 5919", "9434765919"),
        (" 943-476-5919 ", "9434765919"),
        ("9434765919", "9434765919"),
    ],
)
def test_spaced_and_hyphenated_input_is_normalised(raw: str, normalised: str) -> None:
    assert NhsNumber.parse(raw) == NhsNumber(normalised)


def test_spaced_form_is_three_three_four() -> None:
    assert NhsNumber("9434765919").spaced() == "943 476 5919"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9434765918", "check digit should be 9, not 8"),
        ("1234567880", "check digit should be 1, not 0"),
        ("1234567890", "check value is 10"),
        ("943476591", "must be 10 digits"),
        ("94347659190", "must be 10 digits"),
        ("94347659A9", "must be 10 digits"),
        ("", "must be 10 digits"),
        ("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "must be 10 digits"),
    ],
)
def test_invalid_numbers_raise_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNhsNumberError, match=reason):
        NhsNumber.parse(raw)


def test_a_check_value_of_ten_makes_the_number_invalid() -> None:
    # 1000000010: weighted sum of the first nine digits = 10 + 2 = 12; 11 - 12 % 11 = 10
    assert check_digit("100000001") is None
    for last in "0123456789":
        with pytest.raises(InvalidNhsNumberError, match="check value is 10"):
            NhsNumber(f"100000001{last}")


def test_a_check_value_of_eleven_means_check_digit_zero() -> None:
    # 000000000 -> sum 0 -> 11 - 0 = 11 -> 0
    assert check_digit("000000000") == 0
    assert is_valid_nhs_number("0000000000")


def test_non_text_input_is_refused() -> None:
    with pytest.raises(InvalidNhsNumberError, match="must be text"):
        NhsNumber.parse(9434765919)  # type: ignore[arg-type]
