"""OpenAQ v3: a location's latest values joined with its sensors (which name the pollutant and unit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from adapters.errors import AdapterError
from adapters.http import fetch_bytes
from adapters.payload import (
    Context,
    Payload,
    as_list,
    as_obj,
    each,
    join,
    load_json,
    need,
    number,
    text,
    timestamp,
)
from adapters.source import SourceConfig
from adapters.units import MOLAR_MASS, to_canonical
from hypervision.domain import AttrValue, Domain, Reading

KIND = "openaq"
# OpenAQ parameter names that differ from the FIWARE AirQualityObserved attribute names.
_METRIC = {"relativehumidity": "relativeHumidity", "pm1": "pm1", "pm25": "pm25", "pm10": "pm10"}
_PARTICLES = {"pm1", "pm25", "pm10", "pm4"}


def _sensors(location: Any) -> tuple[dict[int, tuple[str, str]], int | None]:
    """sensor id -> (parameter name, units), and the location id."""
    doc = as_obj(location, "location")
    results = as_list(need(doc, "results", "location"), "location.results")
    if not results:
        raise AdapterError("the location document lists no location", field="location.results")
    loc = as_obj(results[0], "location.results[0]")
    loc_id = loc.get("id") if isinstance(loc.get("id"), int) else None
    sensors: dict[int, tuple[str, str]] = {}
    path = "location.results[0].sensors"
    for i, raw in enumerate(as_list(need(loc, "sensors", "location.results[0]"), path)):
        sensor = as_obj(raw, join(path, i))
        sid = need(sensor, "id", join(path, i))
        if not isinstance(sid, int) or isinstance(sid, bool):
            raise AdapterError("sensor id must be an integer", field=join(join(path, i), "id"))
        param = as_obj(need(sensor, "parameter", join(path, i)), join(join(path, i), "parameter"))
        ppath = join(join(path, i), "parameter")
        sensors[sid] = (
            text(need(param, "name", ppath), join(ppath, "name")).lower(),
            text(need(param, "units", ppath), join(ppath, "units"), max_len=20),
        )
    return sensors, loc_id


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    location: Payload | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """Parse ``/v3/locations/{id}/latest`` with ``location`` = ``/v3/locations/{id}``.

    Without ``location``, ``payload`` is the bundle ``{"latest": ..., "location": ...}`` that
    :func:`fetch` returns.
    """
    if location is None:
        bundle = as_obj(load_json(payload), "")
        latest_doc, location_doc = need(bundle, "latest", ""), need(bundle, "location", "")
    else:
        latest_doc, location_doc = load_json(payload), load_json(location)
    sensors, loc_id = _sensors(location_doc)
    ctx = Context.of(
        source, received_at=received_at, default_prefix=f"openaq:{loc_id}", default_domain=Domain.AIR
    )
    results = as_list(need(as_obj(latest_doc, "latest"), "results", ""), "results")

    def item(raw: Any, path: str) -> list[Reading]:
        row = as_obj(raw, path)
        sid = need(row, "sensorsId", path)
        if not isinstance(sid, int) or sid not in sensors:
            raise AdapterError("sensor not listed by the location", field=join(path, "sensorsId"))
        name, units = sensors[sid]
        stamp = as_obj(need(row, "datetime", path), join(path, "datetime"))
        # The local form carries the station's offset, which we keep; utc is the fallback.
        key = "local" if isinstance(stamp.get("local"), str) else "utc"
        observed = timestamp(
            need(stamp, key, join(path, "datetime")), join(path, f"datetime.{key}"), tz=ctx.tz
        )
        is_pollutant = name in MOLAR_MASS or name in _PARTICLES
        value = number(need(row, "value", path), join(path, "value"), lo=0 if is_pollutant else None)
        unit = units
        if is_pollutant:
            value, unit = to_canonical(name, value, units, field=join(path, "value"))
        lat = lon = None
        coords = row.get("coordinates")
        if isinstance(coords, dict):
            lat = number(
                need(coords, "latitude", join(path, "coordinates")), join(path, "coordinates.latitude")
            )
            lon = number(
                need(coords, "longitude", join(path, "coordinates")), join(path, "coordinates.longitude")
            )
        attrs: dict[str, AttrValue] = {"sensor_id": sid, "raw_unit": units}
        if isinstance(row.get("locationsId"), int):
            attrs["location_id"] = row["locationsId"]
        return [
            ctx.reading(
                entity=None,
                metric=_METRIC.get(name, name),
                value=round(value, 4),
                unit=unit,
                observed_at=observed,
                path=path,
                lat=lat,
                lon=lon,
                attrs=attrs,
            )
        ]

    return each(results, "results", rejects, item)


async def fetch(client: httpx.AsyncClient, source: SourceConfig) -> bytes:
    """GET the location and its latest values; ``url`` is ``.../v3/locations/{id}``."""
    base = source.url.rstrip("/")
    location = await fetch_bytes(client, base, source=source, credentials_header="X-API-Key")
    latest = await fetch_bytes(client, f"{base}/latest", source=source, credentials_header="X-API-Key")
    # Raw JSON is spliced, not re-encoded, so parse() and the dead-letter stream see the feed's bytes.
    return b'{"latest":' + latest + b',"location":' + location + b"}"
