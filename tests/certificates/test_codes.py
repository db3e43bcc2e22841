import itertools

import pytest

from certificates import codes
from certificates.codes import ALPHABET, CodeError, format_code, normalize_code


def test_generated_codes_are_valid_and_random():
    generated = {codes.generate_code() for _ in range(2000)}
    assert len(generated) == 2000
    for code in itertools.islice(generated, 200):
        assert len(code) == 13
        assert set(code) <= set(ALPHABET)
        assert normalize_code(code) == code


def test_alphabet_has_no_ambiguous_letters():
    assert not set("ILOU") & set(ALPHABET)
    assert len(ALPHABET) == 32  # 12 symbols x 5 bits = 60 bits


def test_format_groups_of_four():
    assert format_code("7K3F9XQ2HT6MQ") == "7K3F-9XQ2-HT6M-Q"


def test_input_is_normalised():
    code = codes.generate_code()
    shown = format_code(code)
    assert normalize_code(shown.lower()) == code
    assert normalize_code(" " + shown.replace("-", " ") + " ") == code
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert normalize_code(fullwidth) == code


def test_o_i_l_read_as_digits():
    payload = "0123456789AB"
    code = payload + codes._check_symbol(payload)
    typed = "O" + "I" + code[2:]
    assert normalize_code(typed) == code
    assert normalize_code("o" + "l" + code[2:]) == code


def test_every_single_substitution_is_caught():
    code = codes.generate_code()
    for position in range(len(code)):
        for char in ALPHABET:
            if char == code[position]:
                continue
            typo = code[:position] + char + code[position + 1 :]
            with pytest.raises(CodeError):
                normalize_code(typo)


def test_adjacent_transpositions_are_caught():
    caught = total = 0
    for _ in range(200):
        code = codes.generate_code()
        for i in range(len(code) - 1):
            if code[i] == code[i + 1]:
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            total += 1
            caught += not codes.is_valid_code(swapped)
    # Luhn mod N misses only one pair of symbols (0 and N-1 in some positions).
    assert caught / total > 0.99


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "enter"),
        ("ABC", "13"),
        ("7K3F-9XQ2-HT6M-Q-7", "13"),
        ("7K3F-9XQ2-HT6M-U", "never appears"),
        ("7K3F-9XQ2-HT6M-#", "never appears"),
    ],
)
def test_bad_input_has_clear_message(raw, fragment):
    with pytest.raises(CodeError) as caught:
        normalize_code(raw)
    assert fragment in str(caught.value.message)


def test_serial_format():
    assert codes.format_serial("MTA", 2026, 123) == "MTA-2026-000123"
    assert codes.normalize_serial(" mta 2026 000123 ") == "MTA-2026-000123"
