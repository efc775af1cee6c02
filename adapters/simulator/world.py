"""A made-up agglomeration and its plausible measurements over time, for the demo and the simulator (pure).

Values follow daily cycles (traffic peaks for NO2, afternoon ozone, lighting at night, helpline office
hours) with deterministic noise, and a scenario bends them (a pollution peak, a helpline surge...).
The format servers render these values into the real feed formats, so the demo runs the real parsers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from astral import LocationInfo
from astral.sun import sun

from hypervision.domain import Reading

TZ = ZoneInfo("Europe/Paris")

SCENARIOS = (
    "normal-day",
    "pollution-peak",
    "pollen-peak",
    "helpline-surge",
    "mask-shortage",
    "lighting-cabinet-failure",
    "covid-wave",
)


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    insee: str
    lat: float
    lon: float


# "Valmont Métropole": five zones around a made-up city on a river (coordinates near Dijon).
ZONES: tuple[Zone, ...] = (
    Zone("valmont-centre", "Valmont Centre", "21999", 47.322, 5.041),
    Zone("valmont-nord", "Valmont Nord", "21998", 47.345, 5.035),
    Zone("valmont-sud", "Valmont Sud", "21997", 47.300, 5.045),
    Zone("les-tilleuls", "Les Tilleuls", "21996", 47.325, 5.075),
    Zone("port-fluvial", "Port Fluvial", "21995", 47.318, 5.005),
)


@dataclass(frozen=True)
class Source:
    id: str
    domain: str
    zone: Zone
    metrics: tuple[str, ...]
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def lat(self) -> float:
        return self.zone.lat + (_noise(self.id, 0, "lat") - 0.5) * 0.01

    @property
    def lon(self) -> float:
        return self.zone.lon + (_noise(self.id, 0, "lon") - 0.5) * 0.01


def _zone(zone_id: str) -> Zone:
    return next(z for z in ZONES if z.id == zone_id)


SOURCES: tuple[Source, ...] = (
    Source("air:station:FR-VAL-01", "air", _zone("valmont-centre"), ("pm10", "pm25", "no2", "o3")),
    Source("air:station:FR-VAL-02", "air", _zone("port-fluvial"), ("pm10", "no2", "o3", "so2")),
    Source("air:atmo:21999", "air", _zone("valmont-centre"), ("atmoIndex",)),
    Source(
        "pollen:station:VAL", "pollen", _zone("valmont-nord"), ("allergenRisk", "pollenBirch", "pollenGrass")
    ),
    Source(
        "lighting:cabinet:C-CENTRE",
        "lighting",
        _zone("valmont-centre"),
        ("powerState", "activePower", "lampFailure"),
    ),
    Source(
        "lighting:cabinet:C-TILLEULS",
        "lighting",
        _zone("les-tilleuls"),
        ("powerState", "activePower", "lampFailure"),
    ),
    Source(
        "waste:centre:DECH-NORD",
        "waste",
        _zone("valmont-nord"),
        ("isOpen", "visitorsLastHour", "queueLength"),
    ),
    Source("waste:container:WC-PORT-07", "waste", _zone("port-fluvial"), ("fillingLevel",)),
    Source(
        "mask_drive:site:HOTEL-DE-VILLE",
        "mask_drive",
        _zone("valmont-centre"),
        ("stockOnHand", "distributedPerHour", "daysOfCover", "queueWait"),
    ),
    Source(
        "mask_drive:site:GYMNASE-SUD",
        "mask_drive",
        _zone("valmont-sud"),
        ("stockOnHand", "distributedPerHour", "daysOfCover", "queueWait"),
    ),
    Source(
        "call_line:queue:allo-mairie",
        "call_line",
        _zone("valmont-centre"),
        ("callersWaiting", "longestHoldTime", "agentsLoggedIn", "abandonRate"),
    ),
    Source(
        "hospital:site:CHU-VALMONT",
        "hospital",
        _zone("valmont-sud"),
        ("bedOccupancy", "icuOccupancy", "hospitalized", "intensiveCare"),
    ),
)

UNITS = {
    "pm10": "µg/m³",
    "pm25": "µg/m³",
    "no2": "µg/m³",
    "o3": "µg/m³",
    "so2": "µg/m³",
    "atmoIndex": "",
    "allergenRisk": "",
    "pollenBirch": "grains/m³",
    "pollenGrass": "grains/m³",
    "powerState": "",
    "activePower": "W",
    "lampFailure": "",
    "isOpen": "",
    "visitorsLastHour": "",
    "queueLength": "",
    "fillingLevel": "",
    "stockOnHand": "masks",
    "distributedPerHour": "masks/h",
    "daysOfCover": "d",
    "queueWait": "min",
    "callersWaiting": "",
    "longestHoldTime": "s",
    "agentsLoggedIn": "",
    "abandonRate": "",
    "bedOccupancy": "%",
    "icuOccupancy": "%",
    "hospitalized": "",
    "intensiveCare": "",
}


def _noise(source: str, bucket: int, salt: str = "") -> float:
    """Deterministic noise in [0, 1) for a source and a time bucket: replays give the same values."""
    digest = hashlib.blake2b(f"{source}|{bucket}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _ramp(elapsed: timedelta, minutes: float) -> float:
    """0 → 1 over ``minutes`` after the scenario starts: peaks build up instead of jumping."""
    return max(0.0, min(1.0, elapsed.total_seconds() / 60 / minutes))


def _bell(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


@lru_cache(maxsize=64)
def _sun(day: date) -> tuple[datetime, datetime]:
    centre = ZONES[0]
    times = sun(LocationInfo(latitude=centre.lat, longitude=centre.lon).observer, date=day, tzinfo=TZ)
    return times["sunrise"], times["sunset"]


def is_night(local: datetime) -> bool:
    """Between sunset and sunrise at the city centre: street lights follow the sun, not the clock."""
    sunrise, sunset = _sun(local.date())
    return not (sunrise <= local < sunset)


def metric_value(
    source: Source, metric: str, now: datetime, scenario: str, elapsed: timedelta
) -> float | str:
    """The value of one metric of one source at ``now`` under ``scenario`` (``elapsed`` since it began)."""
    local = now.astimezone(TZ)
    hour = local.hour + local.minute / 60
    bucket = int(now.timestamp() // 60)
    n = _noise(source.id, bucket, metric)
    surge = _ramp(elapsed, 3)
    pollution = surge if scenario in ("pollution-peak", "covid-wave") else 0.0
    match metric:
        case "pm10":
            return round(18 + 10 * _bell(hour, 8.5, 2) + 6 * n + 75 * pollution, 1)
        case "pm25":
            return round(10 + 6 * _bell(hour, 8.5, 2) + 4 * n + 40 * pollution, 1)
        case "no2":
            return round(
                25 + 35 * _bell(hour, 8, 1.5) + 30 * _bell(hour, 18, 1.5) + 10 * n + 220 * pollution, 1
            )
        case "o3":
            return round(40 + 50 * _bell(hour, 15, 3) + 10 * n + 110 * pollution, 1)
        case "so2":
            return round(3 + 4 * n, 1)
        case "atmoIndex":
            return float(min(6, 2 + round(n) + (3 if pollution > 0.5 else 0)))
        case "allergenRisk":
            peak = _ramp(elapsed, 3) if scenario in ("pollen-peak", "covid-wave") else 0.0
            return float(min(5, 1 + round(n) + round(3 * peak)))
        case "pollenBirch" | "pollenGrass":
            peak = _ramp(elapsed, 3) if scenario in ("pollen-peak", "covid-wave") else 0.0
            return round(5 + 20 * n + 180 * peak, 1)
        case "powerState":
            failed = (
                scenario == "lighting-cabinet-failure" and source.id.endswith("C-TILLEULS") and surge > 0.3
            )
            return "off" if failed or not is_night(local) else "on"
        case "activePower":
            on = metric_value(source, "powerState", now, scenario, elapsed) == "on"
            return round((4200 + 300 * n) if on else 15 * n, 1)
        case "lampFailure":
            return float(int(3 * n))
        case "isOpen":
            return 1.0 if (local.weekday() < 6 and (9 <= hour < 12 or 13 <= hour < 17)) else 0.0
        case "visitorsLastHour":
            return float(int((30 + 40 * n) * (1 if 9 <= hour < 17 else 0)))
        case "queueLength":
            return float(int((2 + 8 * n) * (1 if 9 <= hour < 17 else 0)))
        case "fillingLevel":
            return round(min(1.0, 0.2 + (now.timestamp() / 3600 % 48) / 60 + 0.05 * n), 2)
        case "stockOnHand":
            shortage = surge if scenario in ("mask-shortage", "covid-wave") else 0.0
            return float(int(42_000 * (1 - 0.9 * shortage) + 2_000 * n))
        case "distributedPerHour":
            return float(int(600 + 300 * _bell(hour, 11, 2) + 100 * n))
        case "daysOfCover":
            stock = float(metric_value(source, "stockOnHand", now, scenario, elapsed))
            rate = float(metric_value(source, "distributedPerHour", now, scenario, elapsed))
            return round(stock / (rate * 10), 1)
        case "queueWait":
            return round(5 + 10 * n + 40 * (surge if scenario == "mask-shortage" else 0), 1)
        case "callersWaiting":
            calls = surge if scenario in ("helpline-surge", "covid-wave") else 0.0
            return float(int(1 + 4 * n * _bell(hour, 10, 3) + 25 * calls))
        case "longestHoldTime":
            calls = surge if scenario in ("helpline-surge", "covid-wave") else 0.0
            return float(int(20 + 60 * n + 900 * calls))
        case "agentsLoggedIn":
            return float(6 if 8 <= hour < 19 else 2)
        case "abandonRate":
            calls = surge if scenario in ("helpline-surge", "covid-wave") else 0.0
            return round((3 + 4 * n + 30 * calls) / 100, 3)  # a fraction, as the AMI adapter reports it
        case "bedOccupancy":
            wave = _ramp(elapsed, 6) if scenario == "covid-wave" else 0.0
            return round(72 + 6 * n + 25 * wave, 1)
        case "icuOccupancy":
            wave = _ramp(elapsed, 6) if scenario == "covid-wave" else 0.0
            return round(65 + 8 * n + 34 * wave, 1)
        case "hospitalized":
            return float(int(140 + 20 * n + 300 * (_ramp(elapsed, 6) if scenario == "covid-wave" else 0)))
        case "intensiveCare":
            return float(int(18 + 4 * n + 40 * (_ramp(elapsed, 6) if scenario == "covid-wave" else 0)))
    raise KeyError(metric)


def world_readings(
    now: datetime,
    *,
    scenario: str = "normal-day",
    started_at: datetime | None = None,
    sources: tuple[Source, ...] = SOURCES,
) -> list[Reading]:
    """Every source's readings at ``now`` — the ground truth the format servers render."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    elapsed = now - (started_at or now)
    observed = now.astimezone(TZ).replace(microsecond=0)
    readings = []
    for source in sources:
        for metric in source.metrics:
            readings.append(
                Reading(
                    source=source.id,
                    domain=source.domain,
                    metric=metric,
                    value=metric_value(source, metric, now, scenario, elapsed),
                    unit=UNITS[metric],
                    observed_at=observed,
                    zone=source.zone.id,
                    lat=round(source.lat, 5),
                    lon=round(source.lon, 5),
                    attrs={"simulated": True},
                )
            )
    return readings
