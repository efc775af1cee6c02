"""Lighting values rendered as FIWARE Streetlighting entities and TALQ log reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.render._json import date_prop, dumps, entity, geo_point, iso, prop


def streetlight(
    ident: str,
    power_state: str,
    status: str,
    observed_at: datetime,
    lat: float,
    lon: float,
    *,
    power_w: float | None = None,
    illuminance: float | None = None,
) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "powerState": prop(power_state),
        "status": prop(status),
        "observationDateTime": date_prop(observed_at),
        "location": {"type": "GeoProperty", "value": geo_point(lat, lon)},
    }
    if power_w is not None:
        attrs["powerConsumption"] = prop(power_w)
    if illuminance is not None:
        attrs["illuminanceLevel"] = prop(illuminance)
    return entity("Streetlight", ident, attrs, key_values=False)


def streetlight_group(ident: str, power_state: str, observed_at: datetime, *, area: str) -> dict[str, Any]:
    attrs = {
        "powerState": prop(power_state),
        "areaServed": prop(area),
        "dateModified": date_prop(observed_at),
    }
    return entity("StreetlightGroup", ident, attrs, key_values=False)


def control_cabinet(
    ident: str,
    energy_kwh: float,
    intensities: tuple[float, float, float],
    working_mode: str,
    observed_at: datetime,
    lat: float,
    lon: float,
) -> dict[str, Any]:
    attrs = {
        "energyConsumed": prop(energy_kwh),
        "intensityR": prop(intensities[0]),
        "intensityS": prop(intensities[1]),
        "intensityT": prop(intensities[2]),
        "workingMode": prop(working_mode),
        "dateModified": date_prop(observed_at),
        "location": {"type": "GeoProperty", "value": geo_point(lat, lon)},
    }
    return entity("StreetlightControlCabinet", ident, attrs, key_values=False)


def entities(items: Sequence[dict[str, Any]]) -> bytes:
    """An NGSI-LD ``/entities`` query answer: a JSON array."""
    return dumps(list(items))


@dataclass(frozen=True)
class TalqEntry:
    address: str  # talq://gateway/lamp/0042/monitor
    timestamp: datetime
    name: str  # activePower, lampFailure, actualLightState…
    value: float | bool


def talq_log(logger: str, entries: Sequence[TalqEntry]) -> bytes:
    return dumps(
        {
            "address": logger,
            "entries": [
                {
                    "data": {
                        "srcAddress": e.address,
                        "timestamp": iso(e.timestamp),
                        "attributeName": e.name,
                        "attributeValue": e.value,
                    }
                }
                for e in entries
            ],
        }
    )
