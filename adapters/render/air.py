"""Air-quality values rendered as OpenAQ v3, Atmo indice and episode layers, and FIWARE AirQualityObserved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from adapters.render._json import date_prop, dumps, entity, geo_point, iso, prop
from adapters.units import MG_M3, MOLAR_MASS, MOLAR_VOLUME_L, canonical_unit

_OPENAQ_PARAMETER_IDS = {"pm10": 1, "pm25": 2, "no2": 7, "co": 8, "so2": 9, "o3": 10, "no": 35}
EPISODE_TEXT = {0: "PAS DE DEPASSEMENT", 1: "INFORMATION ET RECOMMANDATION", 2: "ALERTE"}
EPISODE_CODES = {"so2": "1", "no2": "8", "pm10": "24", "o3": "7", "pm25": "39"}
ATMO_LABELS = (
    "Indisponible",
    "Bon",
    "Moyen",
    "Dégradé",
    "Mauvais",
    "Très mauvais",
    "Extrêmement mauvais",
    "Événement",
)


def to_ppm(pollutant: str, value: float) -> float:
    """Inverse of the parser's conversion: a canonical mass concentration back to ppm (20 °C, 1013 hPa)."""
    ug_m3 = value * 1000 if canonical_unit(pollutant) == MG_M3 else value
    return ug_m3 * MOLAR_VOLUME_L / MOLAR_MASS[pollutant] / 1000


def openaq(
    location_id: int, name: str, lat: float, lon: float, values: Mapping[str, float], observed_at: datetime
) -> tuple[bytes, bytes]:
    """(``/v3/locations/{id}/latest``, ``/v3/locations/{id}``): gases in ppm as OpenAQ sends them."""
    sensors: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    coords = {"latitude": lat, "longitude": lon}
    stamp = {"utc": observed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "local": iso(observed_at)}
    for index, (pollutant, value) in enumerate(values.items()):
        sensor_id = location_id * 100 + index
        gas = pollutant in MOLAR_MASS
        units = "ppm" if gas else "µg/m³"
        sensors.append(
            {
                "id": sensor_id,
                "name": f"{pollutant} {units}",
                "parameter": {
                    "id": _OPENAQ_PARAMETER_IDS.get(pollutant, 0),
                    "name": pollutant,
                    "units": units,
                    "displayName": pollutant.upper(),
                },
            }
        )
        shown = round(to_ppm(pollutant, value), 6) if gas else value
        results.append(
            {
                "datetime": stamp,
                "value": shown,
                "coordinates": coords,
                "sensorsId": sensor_id,
                "locationsId": location_id,
            }
        )
    meta = {"name": "openaq-api", "website": "/", "page": 1, "limit": 100}
    location = {
        "id": location_id,
        "name": name,
        "timezone": "Europe/Paris",
        "isMobile": False,
        "isMonitor": True,
        "sensors": sensors,
        "coordinates": coords,
    }
    return (
        dumps({"meta": meta | {"found": len(results)}, "results": results}),
        dumps({"meta": meta | {"found": 1}, "results": [location]}),
    )


def openaq_bundle(latest: bytes, location: bytes) -> bytes:
    return b'{"latest":' + latest + b',"location":' + location + b"}"


@dataclass(frozen=True)
class AtmoIndex:
    code_zone: str
    lib_zone: str
    day: date
    code_qual: int
    sub_indices: Mapping[str, int] = field(default_factory=dict)  # "no2" -> 1..6
    lat: float | None = None
    lon: float | None = None


def atmo_indice(items: Sequence[AtmoIndex], *, published: datetime) -> bytes:
    """A GeoJSON answer of the Atmo Data API (ISO dates), one feature per zone and day."""
    features = []
    for item in items:
        props: dict[str, Any] = {
            "date_ech": item.day.isoformat(),
            "date_dif": published.date().isoformat(),
            "code_qual": item.code_qual,
            "lib_qual": ATMO_LABELS[item.code_qual],
            "type_zone": "commune",
            "code_zone": item.code_zone,
            "lib_zone": item.lib_zone,
            "source": "Atmo simulée",
        }
        props |= {f"code_{pol}": code for pol, code in item.sub_indices.items()}
        if item.lat is not None and item.lon is not None:
            props |= {"x_wgs84": item.lon, "y_wgs84": item.lat}
        features.append({"type": "Feature", "properties": props, "geometry": None})
    return dumps({"type": "FeatureCollection", "features": features})


@dataclass(frozen=True)
class Episode:
    code_zone: str
    lib_zone: str
    due: datetime
    pollutant: str
    level: int  # 0 none, 1 information-recommendation, 2 alert


def atmo_episode(items: Sequence[Episode], *, published: datetime) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": f"alrt3j.{i}",
            "geometry": None,
            "properties": {
                "code_zone": e.code_zone,
                "lib_zone": e.lib_zone,
                "date_ech": iso(e.due),
                "date_dif": iso(published),
                "code_pol": EPISODE_CODES[e.pollutant],
                "lib_pol": e.pollutant.upper(),
                "etat": EPISODE_TEXT[e.level],
                "couleur": None,
                "com_court": None,
                "com_long": None,
            },
        }
        for i, e in enumerate(items)
    ]
    return dumps({"type": "FeatureCollection", "features": features})


def fiware_air(
    ident: str,
    values: Mapping[str, float],
    observed_at: datetime,
    lat: float,
    lon: float,
    *,
    key_values: bool = False,
) -> bytes:
    """One AirQualityObserved entity; unitCode GQ (µg/m³), or GP (mg/m³) for CO."""
    attrs: dict[str, Any] = {
        "dateObserved": date_prop(observed_at),
        "location": {"type": "GeoProperty", "value": geo_point(lat, lon)},
        "typeOfLocation": prop("outdoor"),
    }
    for pollutant, value in values.items():
        in_mg = canonical_unit(pollutant) == MG_M3
        if key_values and in_mg:
            # keyValues drops unitCode and readers assume µg/m³ (the model's unit): send CO in µg/m³
            attrs[pollutant] = prop(round(value * 1000, 3))
        else:
            attrs[pollutant] = prop(value, "GP" if in_mg else "GQ")
    return dumps(entity("AirQualityObserved", ident, attrs, key_values=key_values))
