"""Waste-centre values rendered as an Overpass GeoJSON export, the counter feed and FIWARE WasteContainer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.render._json import date_prop, dumps, entity, geo_point, iso, prop


@dataclass(frozen=True)
class Centre:
    osm_id: str  # "way/231551023"
    name: str
    opening_hours: str
    lat: float
    lon: float


def overpass_centres(centres: Sequence[Centre], *, generated: datetime) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": c.osm_id,
            "geometry": geo_point(c.lat, c.lon),
            "properties": {
                "@id": c.osm_id,
                "amenity": "recycling",
                "recycling_type": "centre",
                "name": c.name,
                "opening_hours": c.opening_hours,
            },
        }
        for c in centres
    ]
    return dumps(
        {
            "type": "FeatureCollection",
            "generator": "overpass-ide",
            "timestamp": iso(generated),
            "features": features,
        }
    )


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    observed_at: datetime
    visitors_today: int | None = None
    visitors_last_hour: int | None = None
    vehicles_on_site: int | None = None
    capacity: int | None = None
    queue_length: int | None = None
    queue_wait_min: float | None = None


def counters(sites: Sequence[Counter], *, generated: datetime) -> bytes:
    out = []
    for s in sites:
        site: dict[str, Any] = {"id": s.id, "name": s.name, "observedAt": iso(s.observed_at)}
        for key, value in (
            ("visitorsToday", s.visitors_today),
            ("visitorsLastHour", s.visitors_last_hour),
            ("vehiclesOnSite", s.vehicles_on_site),
            ("capacity", s.capacity),
            ("queueLength", s.queue_length),
            ("queueWaitMinutes", s.queue_wait_min),
        ):
            if value is not None:
                site[key] = value
        out.append(site)
    return dumps({"generatedAt": iso(generated), "sites": out})


def waste_container(
    ident: str,
    filling_level: float,
    status: str,
    observed_at: datetime,
    lat: float,
    lon: float,
    *,
    key_values: bool = True,
) -> bytes:
    attrs = {
        "fillingLevel": prop(filling_level),
        "status": prop(status),
        "dateModified": date_prop(observed_at),
        "location": {"type": "GeoProperty", "value": geo_point(lat, lon)},
    }
    return dumps(entity("WasteContainer", ident, attrs, key_values=key_values))
