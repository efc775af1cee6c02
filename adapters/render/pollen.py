"""Pollen values rendered as Open-Meteo hourly arrays, FIWARE AeroAllergenObserved and Atmo pollen indices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adapters.render._json import date_prop, dumps, entity, geo_point

RISKS = ("none", "low", "moderate", "high", "veryHigh")
POLLEN_LABELS = (
    "Indisponible",
    "Très faible",
    "Faible",
    "Modéré",
    "Élevé",
    "Très élevé",
    "Extrêmement élevé",
)


def openmeteo(
    lat: float, lon: float, timezone: str, first_hour: datetime, hourly: Mapping[str, Sequence[float | None]]
) -> bytes:
    """``hourly`` maps ``birch_pollen``… to hourly values from ``first_hour``; times are sent naive, local
    to ``timezone``, as the API does."""
    length = max((len(v) for v in hourly.values()), default=0)
    local = first_hour.astimezone(ZoneInfo(timezone)) if first_hour.tzinfo else first_hour
    start = local.replace(tzinfo=None, minute=0, second=0, microsecond=0)
    times = [(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M") for h in range(length)]
    units = {"time": "iso8601"} | {key: "grains/m³" for key in hourly}
    return dumps(
        {
            "latitude": lat,
            "longitude": lon,
            "timezone": timezone,
            "hourly_units": units,
            "hourly": {"time": times, **{k: list(v) for k, v in hourly.items()}},
        }
    )


def aero_allergen(
    ident: str, risk: str, observed_at: datetime, lat: float, lon: float, *, key_values: bool = False
) -> bytes:
    if risk not in RISKS:
        raise ValueError(f"risk must be one of {RISKS}")
    attrs: dict[str, Any] = {
        "allergenRisk": {"type": "Property", "value": risk},
        "dateObserved": date_prop(observed_at),
        "location": {"type": "GeoProperty", "value": geo_point(lat, lon)},
    }
    return dumps(entity("AeroAllergenObserved", ident, attrs, key_values=key_values))


@dataclass(frozen=True)
class AtmoPollen:
    code_zone: str
    lib_zone: str
    day: date
    code_qual: int  # 0-6
    taxa: Mapping[str, int] = field(default_factory=dict)  # "code_boul" -> 0-6
    responsible: str | None = None
    lat: float | None = None
    lon: float | None = None


def atmo_pollen(items: Sequence[AtmoPollen], *, published: datetime) -> bytes:
    features = []
    for item in items:
        props: dict[str, Any] = {
            "date_maj": published.isoformat(),
            "date_ech": item.day.isoformat(),
            "code_zone": item.code_zone,
            "lib_zone": item.lib_zone,
            "type_zone": "commune",
            "code_qual": item.code_qual,
            "lib_qual": POLLEN_LABELS[item.code_qual],
            "pollen_resp": item.responsible,
            **item.taxa,
        }
        geometry = geo_point(item.lat, item.lon) if item.lat is not None and item.lon is not None else None
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return dumps({"type": "FeatureCollection", "features": features})
