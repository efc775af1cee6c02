"""FIWARE WasteContainer (dataModel.WasteManagement): fill level, temperature and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import ngsi
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, join, number, text
from adapters.source import SourceConfig
from hypervision.domain import AttrValue, Domain, Reading

KIND = "fiware_waste"
STATUSES = {"ok", "lidOpen", "dropped", "moved", "vandalized", "burning", "unknown"}

__all__ = ["KIND", "fetch", "parse"]


def _entity(ctx: Context, entity: dict[str, Any], path: str, key: str | None) -> list[Reading]:
    observed, time_attr = ngsi.observed_at(entity, path, ctx)
    lat, lon = ngsi.location(entity, path)
    attrs: dict[str, AttrValue] = {"time_from": time_attr}
    emptied, _ = ngsi.attr(entity, "dateLastEmptying")
    if isinstance(emptied, str):
        attrs["date_last_emptying"] = emptied[:40]
    out: list[Reading] = []

    def add(metric: str, value: float | str, unit: str) -> None:
        out.append(
            ctx.reading(
                entity=key,
                metric=metric,
                value=value,
                unit=unit,
                observed_at=observed,
                path=join(path, metric),
                lat=lat,
                lon=lon,
                attrs=attrs,
            )
        )

    level, _ = ngsi.attr(entity, "fillingLevel")
    if level is not None:
        add("fillingLevel", number(level, join(path, "fillingLevel"), lo=0, hi=1), "")
    temperature, _ = ngsi.attr(entity, "temperature")
    if temperature is not None:
        add("temperature", number(temperature, join(path, "temperature"), lo=-60, hi=1000), "°C")
    status, _ = ngsi.attr(entity, "status")
    if status is not None:
        state = text(status, join(path, "status"))
        if state not in STATUSES:
            raise AdapterError(f"status must be one of {sorted(STATUSES)}", field=join(path, "status"))
        add("status", state, "")
    if not out:
        raise AdapterError("the container carries no fillingLevel, temperature or status", field=path or None)
    return out


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.WASTE)
    return ngsi.parse_entities(
        payload,
        ctx=ctx,
        types={"WasteContainer"},
        rejects=rejects,
        parse_entity=lambda entity, path, key: _entity(ctx, entity, path, key),
    )
