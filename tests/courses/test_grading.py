import pytest
from django.core.exceptions import ValidationError

from courses.grading import is_correct, numeric_is_correct, parse_answer
from courses.units import UnitError, compatible_units, convert

NUMERIC = {
    "answer": 250.0,
    "unit": "kPa",
    "tolerance_absolute": 1.0,
    "tolerance_relative": None,
    "allow_unit_conversion": True,
}


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (0.25, "MPa", "kPa", 250),
        (1, "bar", "kPa", 100),
        (1, "kgf/cm2", "kPa", 98.0665),
        (25, "°C", "K", 298.15),
        (300, "K", "°C", 26.85),
        (212, "°F", "°C", 100),
        (0.1, "mm", "μm", 100),
        (3600, "kJ", "kWh", 1),
        (1, "tCO2e", "kgCO2e", 1000),
    ],
)
def test_convert(value, source, target, expected):
    assert convert(value, source, target) == pytest.approx(expected)


def test_convert_refuses_other_quantities():
    with pytest.raises(UnitError):
        convert(1, "MPa", "mm")


def test_aliases_and_compatible_units():
    assert convert(1, "um", "nm") == pytest.approx(1000)
    assert convert(20, "℃", "K") == pytest.approx(293.15)
    assert compatible_units("kPa")[0] == "kPa"
    assert "MPa" in compatible_units("kPa")
    assert "mm" not in compatible_units("kPa")


@pytest.mark.parametrize(
    ("raw", "correct"),
    [
        ({"value": "250", "unit": "kPa"}, True),
        ({"value": "250.9", "unit": "kPa"}, True),
        ({"value": "251.5", "unit": "kPa"}, False),
        ({"value": "0.25", "unit": "MPa"}, True),
        ({"value": "0,2505", "unit": "MPa"}, True),
        ({"value": "2.5", "unit": "bar"}, True),
        ({"value": "2.5e2", "unit": ""}, True),  # no unit: the question's unit
        ({"value": "25", "unit": "kPa"}, False),
    ],
)
def test_numeric_tolerance_and_units(raw, correct):
    answer = parse_answer("numeric", NUMERIC, raw, number=1)
    assert numeric_is_correct(NUMERIC, answer) is correct


def test_relative_tolerance():
    value = {**NUMERIC, "tolerance_absolute": None, "tolerance_relative": 1}
    assert is_correct("numeric", value, {"value": 252.4, "unit": "kPa"})
    assert not is_correct("numeric", value, {"value": 253, "unit": "kPa"})


def test_exact_answer_without_tolerance():
    value = {**NUMERIC, "tolerance_absolute": None}
    assert is_correct("numeric", value, {"value": 250.0, "unit": "kPa"})
    assert not is_correct("numeric", value, {"value": 250.001, "unit": "kPa"})


def test_unit_conversion_can_be_switched_off():
    value = {**NUMERIC, "allow_unit_conversion": False}
    with pytest.raises(ValidationError, match="cannot be used"):
        parse_answer("numeric", value, {"value": "0.25", "unit": "MPa"}, number=2)


@pytest.mark.parametrize(
    "raw",
    [
        {"value": "abc", "unit": "kPa"},
        {"value": "nan", "unit": "kPa"},
        {"value": "inf", "unit": "kPa"},
        {"value": "1", "unit": "mm"},
        {"value": "1", "unit": "furlong"},
        "250",
    ],
)
def test_numeric_bad_input_is_rejected(raw):
    with pytest.raises(ValidationError):
        parse_answer("numeric", NUMERIC, raw, number=3)


CHOICES = {"options": [{"text": "a", "correct": False}, {"text": "b", "correct": True}]}


@pytest.mark.parametrize("raw", ["2", "-1", "x", ["0", "9"]])
def test_choice_out_of_range_is_rejected(raw):
    kind = "multiple_choice" if isinstance(raw, list) else "single_choice"
    with pytest.raises(ValidationError, match="offered options"):
        parse_answer(kind, CHOICES, raw, number=1)


def test_choices_and_true_false():
    assert is_correct(
        "single_choice", CHOICES, parse_answer("single_choice", CHOICES, "1", number=1)
    )
    assert not is_correct("single_choice", CHOICES, 0)
    assert is_correct(
        "multiple_choice",
        CHOICES,
        parse_answer("multiple_choice", CHOICES, ["1"], number=1),
    )
    assert not is_correct("multiple_choice", CHOICES, [0, 1])
    assert is_correct(
        "true_false",
        {"correct": False},
        parse_answer("true_false", {}, "false", number=1),
    )
    with pytest.raises(ValidationError):
        parse_answer("true_false", {}, "maybe", number=1)
    assert not is_correct("single_choice", CHOICES, None)
