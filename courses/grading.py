"""Server-side parsing and grading of quiz answers.

The browser only ever sends raw form values; every value is parsed and checked
here, and the score is computed from the question blocks, never taken from
the client.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .units import UnitError, compatible_units, convert, get_unit

ANSWER_INVALID_CHOICE = _("Question %(number)s: choose one of the offered options.")
ANSWER_INVALID_NUMBER = _("Question %(number)s: enter a number, e.g. 0.25 or -1.5e-3.")
ANSWER_INVALID_UNIT = _(
    "Question %(number)s: the unit %(unit)s cannot be used for this answer."
)
ANSWER_INVALID_BOOL = _("Question %(number)s: answer true or false.")

# Two numbers this close count as equal when a question gives no tolerance.
_EPSILON = 1e-9


def _options_count(value) -> int:
    return len(value["options"])


def parse_answer(block_type: str, value, raw: Any, *, number: int) -> Any:
    """Return the normalised answer or raise ``ValidationError``.

    ``raw`` is what the view collected: a string for single choice and
    true/false, a list of strings for multiple choice, and a dict
    ``{"value": str, "unit": str}`` for numeric questions. ``None`` means
    unanswered (graded wrong).
    """
    params = {"number": number}
    if raw is None or raw == "" or raw == []:
        return None
    if block_type == "single_choice":
        try:
            index = int(raw)
        except (TypeError, ValueError) as error:
            raise ValidationError(ANSWER_INVALID_CHOICE, params=params) from error
        if not 0 <= index < _options_count(value):
            raise ValidationError(ANSWER_INVALID_CHOICE, params=params)
        return index
    if block_type == "multiple_choice":
        if not isinstance(raw, list | tuple):
            raw = [raw]
        indexes = set()
        for item in raw:
            try:
                index = int(item)
            except (TypeError, ValueError) as error:
                raise ValidationError(ANSWER_INVALID_CHOICE, params=params) from error
            if not 0 <= index < _options_count(value):
                raise ValidationError(ANSWER_INVALID_CHOICE, params=params)
            indexes.add(index)
        return sorted(indexes)
    if block_type == "true_false":
        if raw in (True, "true", "True", "1"):
            return True
        if raw in (False, "false", "False", "0"):
            return False
        raise ValidationError(ANSWER_INVALID_BOOL, params=params)
    if block_type == "numeric":
        if not isinstance(raw, dict):
            raise ValidationError(ANSWER_INVALID_NUMBER, params=params)
        text = str(raw.get("value") or "").strip().replace(",", ".")
        text = text.replace("−", "-").replace("×10^", "e").replace("x10^", "e")
        if not text:
            return None
        try:
            number_value = float(text)
        except ValueError as error:
            raise ValidationError(ANSWER_INVALID_NUMBER, params=params) from error
        if not math.isfinite(number_value):
            raise ValidationError(ANSWER_INVALID_NUMBER, params=params)
        unit = (raw.get("unit") or "").strip()
        expected_unit = value.get("unit") or ""
        if expected_unit:
            unit = unit or expected_unit
            try:
                unit = get_unit(unit).symbol
            except UnitError as error:
                raise ValidationError(
                    ANSWER_INVALID_UNIT, params={**params, "unit": unit}
                ) from error
            allowed = (
                compatible_units(expected_unit)
                if value.get("allow_unit_conversion")
                else [get_unit(expected_unit).symbol]
            )
            if unit not in allowed:
                raise ValidationError(
                    ANSWER_INVALID_UNIT, params={**params, "unit": unit}
                )
        elif unit:
            raise ValidationError(ANSWER_INVALID_UNIT, params={**params, "unit": unit})
        return {"value": number_value, "unit": unit}
    raise ValidationError(ANSWER_INVALID_CHOICE, params=params)


def numeric_is_correct(value, answer: dict) -> bool:
    expected = float(value["answer"])
    given = answer["value"]
    expected_unit = value.get("unit") or ""
    if expected_unit and answer["unit"] and answer["unit"] != expected_unit:
        given = convert(given, answer["unit"], expected_unit)
    tolerance = max(
        float(value.get("tolerance_absolute") or 0),
        abs(expected) * float(value.get("tolerance_relative") or 0) / 100,
        _EPSILON * max(1.0, abs(expected)),
    )
    return abs(given - expected) <= tolerance


def is_correct(block_type: str, value, answer: Any) -> bool:
    if answer is None:
        return False
    if block_type == "single_choice":
        return bool(value["options"][answer]["correct"])
    if block_type == "multiple_choice":
        correct = {i for i, option in enumerate(value["options"]) if option["correct"]}
        return set(answer) == correct
    if block_type == "true_false":
        return bool(value["correct"]) is answer
    if block_type == "numeric":
        return numeric_is_correct(value, answer)
    return False
