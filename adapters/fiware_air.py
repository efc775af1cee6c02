"""FIWARE AirQualityObserved (smart-data-models dataModel.Environment), normalized or keyValues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import ngsi
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Batch, Context, Payload, join, number, text
from adapters.source import SourceConfig
from adapters.units import to_canonical
from hypervision.domain import Domain, Reading

KIND = "fiware_air"
POLLUTANTS = ("pm1", "pm10", "pm25", "no2", "no", "nox", "o3", "so2", "co", "nh3", "c6h6", "h2s")
# Non-pollutant numeric attributes kept, with their model units (relativeHumidity is 0-1).
OTHERS = {"airQualityIndex": "index", "temperature": "°C", "relativeHumidity": "", "windSpeed": "m/s"}
# keyValues drops unitCode: the model's documented default for concentrations is µg/m³ (GQ).
DEFAULT_UNIT_CODE = "GQ"

__all__ = ["KIND", "fetch", "parse"]


def _entity(ctx: Context, entity: dict[str, Any], path: str, key: str | None) -> Batch:
    out = ngsi.batch(ctx, entity, path, key)
    for name in POLLUTANTS:
        value, unit_code = ngsi.attr(entity, name)
        if value is None:
            continue
        where = join(path, name)
        code = unit_code or DEFAULT_UNIT_CODE
        converted, unit = to_canonical(name, number(value, where, lo=0), code, field=where)
        out.add(name, round(converted, 4), unit, extra={"unit_code": code})
    for name, unit in OTHERS.items():
        value, _ = ngsi.attr(entity, name)
        if value is not None:
            out.add(name, number(value, join(path, name)), unit)
    level, _ = ngsi.attr(entity, "airQualityLevel")
    if level is not None:
        out.add("airQualityLevel", text(level, join(path, "airQualityLevel")), "")
    return out


def _readings(ctx: Context, entity: dict[str, Any], path: str, key: str | None) -> list[Reading]:
    readings = _entity(ctx, entity, path, key).readings
    if not readings:
        raise AdapterError("the entity carries no air-quality measurement", field=path or None)
    return readings


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """One AirQualityObserved entity or an array of them (an NGSI-LD ``/entities`` query answer)."""
    return ngsi.parse_entities(
        payload,
        received_at=received_at,
        source=source,
        rejects=rejects,
        kind=KIND,
        domain=Domain.AIR,
        types={"AirQualityObserved"},
        parse_entity=_readings,
    )
