"""Waste-centre (déchetterie) opening state computed from OpenStreetMap ``opening_hours``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, State

from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, as_list, as_obj, each, join, load_json, need, number, text
from adapters.source import SourceConfig
from hypervision.domain import AttrValue, Domain, Reading

KIND = "waste_centre"
# OSM caps tag values at 255 characters.
MAX_HOURS = 255
# Some recycling centres carry their hours in collection_times (the Grand Poitiers sample does).
HOURS_TAGS = ("opening_hours", "collection_times")

__all__ = ["KIND", "fetch", "opening_state", "parse"]


def opening_state(
    hours: str, at: datetime, *, tz: ZoneInfo, country: str, field: str
) -> tuple[str, datetime | None]:
    """("open" | "closed" | "unknown", next change or None) of an ``opening_hours`` value at ``at``."""
    if not hours.strip() or len(hours) > MAX_HOURS:
        raise AdapterError(f"opening hours must be 1-{MAX_HOURS} characters", field=field)
    local = at.astimezone(tz)  # the library wants a ZoneInfo-aware time
    try:
        schedule = OpeningHours(hours, timezone=tz, country=country, auto_country=False, auto_timezone=False)
        state, _comment = schedule.state(local)
        change = schedule.next_change(local)
    except Exception as err:  # the Rust parser raises its own error types; all mean a bad value
        raise AdapterError(
            f"unreadable opening_hours: {str(err).splitlines()[0][:120]}", field=field
        ) from err
    name = {State.OPEN: "open", State.CLOSED: "closed"}.get(state, "unknown")
    return name, change


def _centre(geometry: Any, path: str) -> tuple[float | None, float | None]:
    """A point's position, or the mean of a polygon's outer ring (good enough for a site marker)."""
    if not isinstance(geometry, dict):
        return None, None
    coords = geometry.get("coordinates")
    if geometry.get("type") == "Point":
        ring = [coords]
    elif geometry.get("type") == "Polygon" and isinstance(coords, list) and coords:
        ring = as_list(coords[0], join(path, "coordinates[0]"))
    else:
        return None, None
    if not ring:
        return None, None
    lons, lats = [], []
    for i, pos in enumerate(ring):
        pair = as_list(pos, join(path, f"coordinates[{i}]"))
        if len(pair) < 2:
            raise AdapterError("a position needs longitude and latitude", field=join(path, "coordinates"))
        lons.append(number(pair[0], join(path, "coordinates"), lo=-180, hi=180))
        lats.append(number(pair[1], join(path, "coordinates"), lo=-90, hi=90))
    return sum(lats) / len(lats), sum(lons) / len(lons)


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """An Overpass GeoJSON export of recycling centres: ``openingState`` (text) and ``isOpen`` (0/1)
    at ``received_at`` per centre that has hours; centres without hours are skipped."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.WASTE)
    tz = ctx.tz if isinstance(ctx.tz, ZoneInfo) else ZoneInfo("Europe/Paris")
    country = str(source.option("country", "FR")) if source else "FR"
    doc = as_obj(load_json(payload), "")
    features = as_list(need(doc, "features", ""), "features")

    def feature(raw: Any, path: str) -> list[Reading]:
        item = as_obj(raw, path)
        props = as_obj(need(item, "properties", path), join(path, "properties"))
        tag = next((t for t in HOURS_TAGS if props.get(t) is not None), None)
        if tag is None:
            return []
        where = join(join(path, "properties"), tag)
        hours = text(props[tag], where, max_len=MAX_HOURS)
        state, change = opening_state(hours, received_at, tz=tz, country=country, field=where)
        ident = item.get("id", props.get("@id"))
        entity = text(ident, join(path, "id"), max_len=100) if ident is not None else None
        lat, lon = _centre(item.get("geometry"), join(path, "geometry"))
        attrs: dict[str, AttrValue] = {"opening_hours": hours, "hours_tag": tag}
        if isinstance(props.get("name"), str):
            attrs["name"] = props["name"][:100]
        if change is not None:
            attrs["next_change"] = change.isoformat()
        values: list[tuple[str, float | str]] = [("openingState", state)]
        if state != "unknown":
            values.append(("isOpen", float(state == "open")))
        return [
            ctx.reading(
                entity=entity,
                metric=metric,
                value=value,
                unit="",
                observed_at=received_at,
                path=where,
                lat=lat,
                lon=lon,
                attrs=attrs,
            )
            for metric, value in values
        ]

    return each(features, "features", rejects, feature)
