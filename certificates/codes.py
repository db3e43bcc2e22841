"""Human serials and verification codes.

A verification code is 12 random symbols (60 bits from ``secrets``) plus one
check symbol, shown as ``7K3F-9XQ2-HT6M-Q``. The alphabet is Crockford's
base 32 (no I, L, O, U), so a typed ``O`` is read as zero and ``I``/``L`` as
one; the check symbol (Luhn mod 32) catches every single-symbol typo and
every swap of two neighbours before any database lookup.
"""

from __future__ import annotations

import re
import secrets

from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)  # 32
PAYLOAD_LENGTH = 12  # 12 x 5 = 60 bits
CODE_LENGTH = PAYLOAD_LENGTH + 1
GROUP = 4

CODE_EMPTY = _("Please enter a verification code.")
CODE_WRONG_LENGTH = _(
    "A verification code has %(length)d characters (letters and digits); "
    "you entered %(count)d."
)
CODE_BAD_CHARACTER = _("“%(char)s” never appears in a verification code.")
CODE_CHECK_FAILED = _(
    "This code contains a typing error (its check character does not match). "
    "Please compare it with the certificate again."
)

_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·—–]+")


class CodeError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _check_symbol(payload: str) -> str:
    """Luhn mod N over the alphabet."""
    factor = 2
    total = 0
    for char in reversed(payload):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // BASE + addend % BASE
    return ALPHABET[(BASE - total % BASE) % BASE]


def generate_code() -> str:
    """A new code in canonical (ungrouped) form."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return payload + _check_symbol(payload)


def clean_code(raw: str) -> str:
    """What a person typed without separators, in upper case, with full-width
    characters folded and O/I/L read as 0/1; not checked."""
    text = _SEPARATORS.sub("", (raw or "").strip()).upper()
    # Full-width letters and digits typed with a Chinese input method.
    text = "".join(
        chr(ord(char) - 0xFEE0) if 0xFF01 <= ord(char) <= 0xFF5E else char
        for char in text
    ).upper()
    return text.translate(_TRANSLATE)


def normalize_code(raw: str) -> str:
    """Canonical form of what a person typed; raises CodeError when invalid."""
    text = clean_code(raw)
    if not text:
        raise CodeError(CODE_EMPTY)
    for char in text:
        if char not in ALPHABET:
            raise CodeError(CODE_BAD_CHARACTER % {"char": char})
    if len(text) != CODE_LENGTH:
        raise CodeError(CODE_WRONG_LENGTH % {"length": CODE_LENGTH, "count": len(text)})
    if _check_symbol(text[:-1]) != text[-1]:
        raise CodeError(CODE_CHECK_FAILED)
    return text


def is_valid_code(raw: str) -> bool:
    try:
        normalize_code(raw)
    except CodeError:
        return False
    return True


def format_code(code: str) -> str:
    """``7K3F9XQ2HT6MQ`` -> ``7K3F-9XQ2-HT6M-Q``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


SERIAL_RE = re.compile(r"^([A-Z]{2,10})-(\d{4})-(\d{6,})$")


def format_serial(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year:04d}-{number:06d}"


def normalize_serial(raw: str) -> str:
    text = _SEPARATORS.sub("-", (raw or "").strip().upper()).strip("-")
    return text


# --- lists of codes (bulk check) ---------------------------------------------------

_ITEM_SEPARATORS = re.compile(r"[\r\n,;，；、]+")


def split_codes(text: str) -> list[str]:
    """Codes as typed, from a pasted list: one per line, or separated by
    commas, semicolons or spaces. A piece that is one code written in groups
    (``7K3F 9XQ2 HT6M Q``) stays one code."""
    codes: list[str] = []
    for item in _ITEM_SEPARATORS.split(text or ""):
        item = item.strip()
        if not item:
            continue
        if len(_SEPARATORS.sub("", item)) == CODE_LENGTH or " " not in item:
            codes.append(item)
        else:
            codes.extend(part for part in item.split() if part)
    return codes
