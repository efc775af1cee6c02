"""FIWARE AirQualityObserved (smart-data-models dataModel.Environment), normalized or keyValues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import ngsi
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, join, number, text
from adapters.source import SourceConfig
from adapters.units import to_canonical
from hypervision.domain import AttrValue, Domain, Reading

KIND = "fiware_air"
POLLUTANTS = ("pm1", "pm10", "pm25", "no2", "no", "nox", "o3", "so2", "co", "nh3", "c6h6", "h2s")
# Non-pollutant numeric attributes kept, with their model units (relativeHumidity is 0-1).
OTHERS = {"airQualityIndex": "index", "temperature": "°C", "relativeHumidity": "", "windSpeed": "m/s"}
# keyValues drops unitCode: the model's documented default for concentrations is µg/m³ (GQ).
DEFAULT_UNIT_CODE = "GQ"

__all__ = ["KIND", "fetch", "parse"]


def _entity(ctx: Context, entity: dict[str, Any], path: str, key: str | None) -> list[Reading]:
    observed, time_attr = ngsi.observed_at(entity, path, ctx)
    lat, lon = ngsi.location(entity, path)
    attrs: dict[str, AttrValue] = {"time_from": time_attr}
    out: list[Reading] = []

    def add(metric: str, value: float | str, unit: str, where: str, extra: dict[str, AttrValue]) -> None:
        out.append(
            ctx.reading(
                entity=key,
                metric=metric,
                value=value,
                unit=unit,
                observed_at=observed,
                path=where,
                lat=lat,
                lon=lon,
                attrs=attrs | extra,
            )
        )

    for name in POLLUTANTS:
        value, unit_code = ngsi.attr(entity, name)
        if value is None:
            continue
        where = join(path, name)
        raw = number(value, where, lo=0)
        code = unit_code or DEFAULT_UNIT_CODE
        converted, unit = to_canonical(name, raw, code, field=where)
        add(name, round(converted, 4), unit, where, {"unit_code": code})
    for name, unit in OTHERS.items():
        value, _ = ngsi.attr(entity, name)
        if value is not None:
            add(name, number(value, join(path, name)), unit, join(path, name), {})
    level, _ = ngsi.attr(entity, "airQualityLevel")
    if level is not None:
        add(
            "airQualityLevel",
            text(level, join(path, "airQualityLevel")),
            "",
            join(path, "airQualityLevel"),
            {},
        )
    if not out:
        raise AdapterError("the entity carries no air-quality measurement", field=path or None)
    return out


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """One AirQualityObserved entity or an array of them (an NGSI-LD ``/entities`` query answer)."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.AIR)
    return ngsi.parse_entities(
        payload,
        ctx=ctx,
        types={"AirQualityObserved"},
        rejects=rejects,
        parse_entity=lambda entity, path, key: _entity(ctx, entity, path, key),
    )
