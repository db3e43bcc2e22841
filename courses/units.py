"""Units of measurement for numeric quiz answers.

Each unit belongs to one dimension and converts to that dimension's base unit
by ``base = value * factor + offset`` (the offset is for temperatures).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: str
    factor: float
    offset: float = 0.0


_UNITS = [
    # pressure (base Pa)
    Unit("Pa", "pressure", 1.0),
    Unit("kPa", "pressure", 1e3),
    Unit("MPa", "pressure", 1e6),
    Unit("bar", "pressure", 1e5),
    Unit("mbar", "pressure", 1e2),
    Unit("psi", "pressure", 6894.757293168),
    Unit("mmHg", "pressure", 133.322387415),
    Unit("mmH2O", "pressure", 9.80665),
    Unit("kgf/cm2", "pressure", 98066.5),
    # length (base m)
    Unit("m", "length", 1.0),
    Unit("cm", "length", 1e-2),
    Unit("mm", "length", 1e-3),
    Unit("μm", "length", 1e-6),
    Unit("nm", "length", 1e-9),
    # temperature (base K)
    Unit("K", "temperature", 1.0),
    Unit("°C", "temperature", 1.0, 273.15),
    Unit("°F", "temperature", 5 / 9, 273.15 - 32 * 5 / 9),
    # mass (base kg)
    Unit("kg", "mass", 1.0),
    Unit("g", "mass", 1e-3),
    Unit("mg", "mass", 1e-6),
    Unit("t", "mass", 1e3),
    # energy (base J)
    Unit("J", "energy", 1.0),
    Unit("kJ", "energy", 1e3),
    Unit("MJ", "energy", 1e6),
    Unit("GJ", "energy", 1e9),
    Unit("kWh", "energy", 3.6e6),
    Unit("tce", "energy", 29.3076e9),  # tonne of standard coal equivalent
    # volume (base m3)
    Unit("m3", "volume", 1.0),
    Unit("L", "volume", 1e-3),
    Unit("mL", "volume", 1e-6),
    # mass of CO2 equivalent (base kg CO2e)
    Unit("kgCO2e", "co2", 1.0),
    Unit("tCO2e", "co2", 1e3),
    # ratios (base 1)
    Unit("%", "ratio", 1e-2),
    Unit("‰", "ratio", 1e-3),
    Unit("ppm", "ratio", 1e-6),
]

UNITS: dict[str, Unit] = {unit.symbol: unit for unit in _UNITS}
# Spellings learners type; normalised before lookup.
ALIASES = {
    "um": "μm",
    "µm": "μm",  # micro sign U+00B5
    "degC": "°C",
    "℃": "°C",
    "C": "°C",
    "degF": "°F",
    "m³": "m3",
    "l": "L",
    "ml": "mL",
}

UNIT_CHOICES = [("", "—")] + [(unit.symbol, unit.symbol) for unit in _UNITS]


class UnitError(ValueError):
    pass


def get_unit(symbol: str) -> Unit:
    symbol = (symbol or "").strip()
    symbol = ALIASES.get(symbol, symbol)
    try:
        return UNITS[symbol]
    except KeyError as error:
        raise UnitError(symbol) from error


def compatible_units(symbol: str) -> list[str]:
    """Every unit of the same dimension as ``symbol`` (itself first)."""
    if not symbol:
        return []
    unit = get_unit(symbol)
    others = [
        u.symbol
        for u in _UNITS
        if u.dimension == unit.dimension and u.symbol != unit.symbol
    ]
    return [unit.symbol, *others]


def convert(value: float, from_symbol: str, to_symbol: str) -> float:
    source, target = get_unit(from_symbol), get_unit(to_symbol)
    if source.dimension != target.dimension:
        raise UnitError(f"{source.symbol} → {target.symbol}")
    if source.symbol == target.symbol:
        return value
    base = value * source.factor + source.offset
    return (base - target.offset) / target.factor
