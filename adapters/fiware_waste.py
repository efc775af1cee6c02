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
    emptied, _ = ngsi.attr(entity, "dateLastEmptying")
    extra: dict[str, AttrValue] = {"date_last_emptying": emptied[:40]} if isinstance(emptied, str) else {}
    out = ngsi.batch(ctx, entity, path, key, **extra)
    level, _ = ngsi.attr(entity, "fillingLevel")
    if level is not None:
        out.add("fillingLevel", number(level, join(path, "fillingLevel"), lo=0, hi=1), "")
    temperature, _ = ngsi.attr(entity, "temperature")
    if temperature is not None:
        out.add("temperature", number(temperature, join(path, "temperature"), lo=-60, hi=1000), "°C")
    status, _ = ngsi.attr(entity, "status")
    if status is not None:
        state = text(status, join(path, "status"))
        if state not in STATUSES:
            raise AdapterError(f"status must be one of {sorted(STATUSES)}", field=join(path, "status"))
        out.add("status", state, "")
    if not out.readings:
        raise AdapterError("the container carries no fillingLevel, temperature or status", field=path or None)
    return out.readings


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """One WasteContainer entity or an array of them; undated containers are dated at arrival."""
    return ngsi.parse_entities(
        payload,
        received_at=received_at,
        source=source,
        rejects=rejects,
        kind=KIND,
        domain=Domain.WASTE,
        types={"WasteContainer"},
        parse_entity=_entity,
    )
