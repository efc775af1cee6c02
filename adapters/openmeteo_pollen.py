"""Open-Meteo air-quality API pollen: hourly parallel arrays per taxon, in grains/m³ (nulls allowed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import (
    Context,
    Payload,
    as_list,
    as_obj,
    join,
    keep_going,
    load_json,
    need,
    number,
    timestamp,
    zone_info,
)
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

KIND = "openmeteo_pollen"
TAXA = {
    "alder_pollen": "pollenAlder",
    "birch_pollen": "pollenBirch",
    "grass_pollen": "pollenGrass",
    "mugwort_pollen": "pollenMugwort",
    "olive_pollen": "pollenOlive",
    "ragweed_pollen": "pollenRagweed",
}
FORECAST_WINDOW = timedelta(hours=24)

__all__ = ["KIND", "fetch", "parse"]


def _units(doc: dict[str, Any]) -> dict[str, str]:
    raw = doc.get("hourly_units")
    if not isinstance(raw, dict):
        return {}
    return {k: v[:32] for k, v in raw.items() if isinstance(k, str) and isinstance(v, str) and v}


def _times(doc: dict[str, Any], hourly: dict[str, Any], ctx: Context) -> list[datetime]:
    tz = zone_info(doc["timezone"], "timezone") if "timezone" in doc else ctx.tz
    units = _units(doc)
    unixtime = units.get("time") == "unixtime"
    out = []
    for i, raw in enumerate(as_list(need(hourly, "time", "hourly"), "hourly.time")):
        if unixtime:  # ``timeformat=unixtime`` gives epoch seconds in UTC
            raw = number(raw, join("hourly.time", i)) * 1000
        out.append(timestamp(raw, join("hourly.time", i), tz=tz))
    return out


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """Per taxon, the latest non-null hour at or before ``received_at`` (the forecast hours after it
    are summarised in ``forecast_max_24h``)."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.POLLEN)
    doc = as_obj(load_json(payload), "")
    hourly = as_obj(need(doc, "hourly", ""), "hourly")
    times = _times(doc, hourly, ctx)
    lat = number(doc["latitude"], "latitude", lo=-90, hi=90) if doc.get("latitude") is not None else None
    lon = number(doc["longitude"], "longitude", lo=-180, hi=180) if doc.get("longitude") is not None else None
    units = _units(doc)
    present = [key for key in TAXA if key in hourly]
    if not present:
        raise AdapterError("no pollen series in the answer", field="hourly")

    def series(key: str) -> list[Reading]:
        path = join("hourly", key)
        values = as_list(hourly[key], path)
        if len(values) != len(times):
            raise AdapterError(f"{len(values)} values for {len(times)} times", field=path)
        latest: tuple[datetime, float] | None = None
        ahead: list[float] = []
        for i, (moment, raw) in enumerate(zip(times, values, strict=True)):
            if raw is None:
                continue  # Open-Meteo has no value for this hour (outside the model's domain or season)
            value = number(raw, join(path, i), lo=0)
            if moment <= received_at:
                latest = (moment, value)
            elif moment - received_at <= FORECAST_WINDOW:
                ahead.append(value)
        if latest is None:
            return []
        unit = units.get(key, "grains/m³")
        attrs = {"forecast_max_24h": max(ahead)} if ahead else {}
        return [
            ctx.reading(
                entity=None,
                metric=TAXA[key],
                value=latest[1],
                unit=unit,
                observed_at=latest[0],
                path=path,
                lat=lat,
                lon=lon,
                attrs=attrs,
            )
        ]

    out: list[Reading] = []
    for key in present:
        out.extend(keep_going(rejects, partial(series, key)))
    return out
