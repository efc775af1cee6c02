"""Schedules in the territory's time zone: hour spans, weekdays, night/day from the sun, OSM opening_hours."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import opening_hours
from astral import LocationInfo
from astral.sun import sun

from hypervision.domain import TERRITORY_TZ

TZ = ZoneInfo(TERRITORY_TZ)
# Dijon, the reference territory; a rule file may set `location:` for another one.
DEFAULT_LOCATION = (47.3220, 5.0415)
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
COUNTRY = "FR"


def check_opening_hours(text: str) -> None:
    try:
        opening_hours.validate(text)
        _opening(text)
    except Exception as err:  # the library raises its own ParserError type
        raise ValueError(f"opening_hours {text!r} does not parse: {err}") from err


@lru_cache(maxsize=64)
def _opening(text: str) -> opening_hours.OpeningHours:
    # The country gives `PH` (public holidays) its meaning; without it PH never matches.
    return opening_hours.OpeningHours(text, country=COUNTRY, auto_country=False, auto_timezone=False)


@lru_cache(maxsize=1024)
def sun_times(day: date, lat: float, lon: float) -> tuple[datetime, datetime]:
    """Sunrise and sunset of `day` at the location (aware datetimes)."""
    info = LocationInfo(latitude=lat, longitude=lon, timezone=TERRITORY_TZ)
    times = sun(info.observer, date=day, tzinfo=TZ)
    return times["sunrise"], times["sunset"]


def is_night(now: datetime, location: tuple[float, float] = DEFAULT_LOCATION) -> bool:
    local = now.astimezone(TZ)
    sunrise, sunset = sun_times(local.date(), *location)
    return not (sunrise <= local < sunset)


def _parse_span(span: str) -> tuple[time, time | None]:
    start, end = span.split("-")
    h1, m1 = (int(x) for x in start.split(":"))
    h2, m2 = (int(x) for x in end.split(":"))
    return time(h1 % 24, m1), (None if (h2, m2) == (24, 0) else time(h2, m2))


def in_hours(local: datetime, spans: list[str]) -> bool:
    """True if the local wall-clock time is in one of the HH:MM-HH:MM spans (end excluded)."""
    now = local.time().replace(tzinfo=None)
    for span in spans:
        start, end = _parse_span(span)
        if end is None:
            if now >= start:
                return True
        elif start <= end:
            if start <= now < end:
                return True
        elif now >= start or now < end:  # crosses midnight, e.g. 22:00-06:00
            return True
    return False


def schedule_holds(
    now: datetime,
    *,
    hours: list[str] | None = None,
    weekdays: list[str] | None = None,
    sun_phase: str | None = None,
    opening: str | None = None,
    location: tuple[float, float] = DEFAULT_LOCATION,
) -> bool:
    local = now.astimezone(TZ)
    if weekdays and WEEKDAYS[local.weekday()] not in weekdays:
        return False
    if hours and not in_hours(local, hours):
        return False
    if sun_phase is not None and is_night(local, location) != (sun_phase == "night"):
        return False
    # opening_hours works on naive local wall-clock time, like the OSM tag itself.
    return not (opening and not _opening(opening).is_open(local.replace(tzinfo=None)))
