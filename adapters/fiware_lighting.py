"""FIWARE street lighting (dataModel.Streetlighting): Streetlight, StreetlightGroup and
StreetlightControlCabinet entities, normalized or keyValues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import ngsi
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, join, number, text
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

KIND = "fiware_lighting"
TYPES = {"Streetlight", "StreetlightGroup", "StreetlightControlCabinet"}
POWER_STATES = {"on", "off", "low", "bootingUp"}
LAMP_STATUSES = {"ok", "defectiveLamp", "columnIssue", "brokenLantern"}
# status values that mean the lamp itself gives no light (TALQ's lampFailure, as a 0/1 number)
LAMP_FAILED = {"defectiveLamp", "brokenLantern"}
# numeric attributes per entity type, with the model's units ("" = a 0–1 fraction)
NUMERIC = {
    "Streetlight": {"illuminanceLevel": "", "powerConsumption": "W", "current": "A", "voltage": "V"},
    "StreetlightGroup": {"illuminanceLevel": ""},
    "StreetlightControlCabinet": {
        "energyConsumed": "kWh",
        "intensityR": "A",
        "intensityS": "A",
        "intensityT": "A",
        "maximumPowerAvailable": "kW",
    },
}
BOUNDS = {"illuminanceLevel": (0.0, 1.0)}

__all__ = ["KIND", "fetch", "parse"]


def _enum(entity: dict[str, Any], name: str, allowed: set[str], path: str) -> str | None:
    value, _ = ngsi.attr(entity, name)
    if value is None:
        return None
    where = join(path, name)
    state = text(value, where)
    if state not in allowed:
        raise AdapterError(f"{name} must be one of {sorted(allowed)}", field=where)
    return state


def _entity(ctx: Context, entity: dict[str, Any], path: str, key: str | None) -> list[Reading]:
    kind = str(entity["type"])
    out = ngsi.batch(ctx, entity, path, key, entity_type=kind)
    if kind != "StreetlightControlCabinet":
        power = _enum(entity, "powerState", POWER_STATES, path)
        if power is not None:
            out.add("powerState", power, "")
    if kind == "Streetlight":
        status = _enum(entity, "status", LAMP_STATUSES, path)
        if status is not None:
            out.add("status", status, "")
            out.add("lampFailure", status in LAMP_FAILED, "")
    if kind == "StreetlightControlCabinet":
        mode, _ = ngsi.attr(entity, "workingMode")
        if mode is not None:
            out.add("workingMode", text(mode, join(path, "workingMode")), "")
    for name, unit in NUMERIC[kind].items():
        value, _ = ngsi.attr(entity, name)
        if value is not None:
            lo, hi = BOUNDS.get(name, (0.0, None))
            out.add(name, number(value, join(path, name), lo=lo, hi=hi), unit)
    if not out.readings:
        raise AdapterError(f"the {kind} carries no state or measurement", field=path or None)
    return out.readings


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """One entity or an array; a group or cabinet without a timestamp is dated ``received_at``."""
    return ngsi.parse_entities(
        payload,
        received_at=received_at,
        source=source,
        rejects=rejects,
        kind=KIND,
        domain=Domain.LIGHTING,
        types=TYPES,
        parse_entity=_entity,
    )
