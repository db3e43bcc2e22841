import pytest
from django.core.exceptions import ValidationError

from organizations.validators import (
    credit_code_check_character,
    normalize_credit_code,
    validate_credit_code,
)


def test_check_character_matches_the_standard_example():
    # GB 32100-2015 example body "91350100M000100Y4" has check character "3".
    assert credit_code_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    "code", ["91350100M000100Y43", " 91350100m000100y43 ", "913501 00M0001 00Y43"]
)
def test_valid_codes_pass_after_normalising(code):
    validate_credit_code(code)
    assert normalize_credit_code(code) == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000100Y44", "check"),
        ("91350100M0001O0Y43", "character"),  # letter O is not allowed
        ("9135010IM000100Y43", "character"),  # letter I is not allowed
        ("", "length"),
    ],
)
def test_invalid_codes_are_rejected_with_a_reason(code, error_code):
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code)
    assert excinfo.value.code == error_code
    assert excinfo.value.messages[0]
