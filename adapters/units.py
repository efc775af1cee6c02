"""Canonical air-pollutant units and the ppm/ppb to mass-concentration conversion.

Gases are converted at 20 °C and 1013 hPa (293.15 K, 101 325 Pa), the reference conditions of
the EU air-quality directive 2008/50/EC (annex VI) that French networks report in: a molar volume
of R·T/P = 24.055 L/mol. Particles are already mass concentrations and are never converted.
"""

from __future__ import annotations

from adapters.errors import AdapterError

GAS_CONSTANT = 8.314462618  # J/(mol·K)
REFERENCE_K = 293.15
REFERENCE_PA = 101_325.0
MOLAR_VOLUME_L = GAS_CONSTANT * REFERENCE_K / REFERENCE_PA * 1000  # ≈ 24.055 L/mol

# g/mol; NOx is expressed as NO2 by convention (directive 2008/50/EC, art. 2).
MOLAR_MASS = {
    "no2": 46.0055,
    "nox": 46.0055,
    "no": 30.0061,
    "o3": 47.9982,
    "so2": 64.066,
    "co": 28.0101,
    "nh3": 17.031,
    "h2s": 34.08,
    "c6h6": 78.11,
}

UG_M3 = "µg/m³"
MG_M3 = "mg/m³"
# CO is reported in mg/m³ by French and EU networks; everything else in µg/m³.
CANONICAL_UNIT = {"co": MG_M3}

_MASS_UNITS = {
    "µg/m³": 1.0,
    "μg/m³": 1.0,  # Greek mu, as some feeds spell it
    "ug/m3": 1.0,
    "µg/m3": 1.0,
    "mg/m³": 1000.0,
    "mg/m3": 1000.0,
    "GQ": 1.0,  # UN/CEFACT code used by FIWARE: microgram per cubic metre
    "GP": 1000.0,  # UN/CEFACT: milligram per cubic metre
}
_MIXING_UNITS = {"ppm": 1000.0, "ppb": 1.0, "59": 1000.0, "61": 1.0}  # 59/61: UN/CEFACT ppm/ppb


def canonical_unit(pollutant: str) -> str:
    return CANONICAL_UNIT.get(pollutant, UG_M3)


def to_canonical(pollutant: str, value: float, unit: str, *, field: str) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the pollutant's canonical mass concentration."""
    target = canonical_unit(pollutant)
    scale_out = 1000.0 if target == MG_M3 else 1.0
    if unit in _MASS_UNITS:
        return value * _MASS_UNITS[unit] / scale_out, target
    if unit in _MIXING_UNITS:
        mass = MOLAR_MASS.get(pollutant)
        if mass is None:
            raise AdapterError(f"cannot convert {unit} for {pollutant}: unknown molar mass", field=field)
        ppb = value * _MIXING_UNITS[unit]
        ug_m3 = ppb * mass / MOLAR_VOLUME_L
        return ug_m3 / scale_out, target
    raise AdapterError(f"unsupported unit {unit[:20]!r} for {pollutant}", field=field)
