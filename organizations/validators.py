"""Unified social credit code (统一社会信用代码, GB 32100-2015)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The code's alphabet leaves out I, O, S, V and Z.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

CREDIT_CODE_WRONG_LENGTH = _(
    "A unified social credit code has exactly 18 characters (you entered %(count)d)."
)
CREDIT_CODE_BAD_CHARACTER = _(
    "“%(char)s” cannot appear in a unified social credit code (I, O, S, V and Z "
    "are never used)."
)
CREDIT_CODE_BAD_CHECK = _(
    "This unified social credit code fails its check character: please check it "
    "for a typing mistake."
)


def normalize_credit_code(value: str) -> str:
    return "".join(value.split()).upper()


def credit_code_check_character(body: str) -> str:
    """The 18th character for the first 17 characters ``body``."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(body, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            CREDIT_CODE_WRONG_LENGTH, code="length", params={"count": len(code)}
        )
    for char in code:
        if char not in CREDIT_CODE_ALPHABET:
            raise ValidationError(
                CREDIT_CODE_BAD_CHARACTER, code="character", params={"char": char}
            )
    if credit_code_check_character(code[:17]) != code[17]:
        raise ValidationError(CREDIT_CODE_BAD_CHECK, code="check")
