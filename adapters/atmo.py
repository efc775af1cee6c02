"""Shared reading of Atmo France layers: ArcGIS ``attributes`` or GeoJSON ``properties`` features."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, tzinfo
from functools import partial
from typing import Any, TypeVar

from adapters.errors import AdapterError
from adapters.payload import (
    Context,
    Payload,
    as_list,
    as_obj,
    join,
    keep_going,
    load_json,
    need,
    number,
    point,
    timestamp,
)
from hypervision.domain import Reading

T = TypeVar("T")


def features(payload: Payload) -> list[tuple[dict[str, Any], dict[str, Any] | None, str]]:
    """(properties, geometry, properties path) per feature of an ArcGIS answer or GeoJSON."""
    doc = as_obj(load_json(payload), "")
    if doc.get("type") == "Feature":
        raws: list[Any] = [doc]
        paths = [""]
    else:
        raws = as_list(need(doc, "features", ""), "features")
        paths = [join("features", i) for i in range(len(raws))]
    out = []
    for raw, path in zip(raws, paths, strict=True):
        feature = as_obj(raw, path)
        key = "attributes" if "attributes" in feature else "properties"  # ArcGIS REST or GeoJSON
        props = as_obj(need(feature, key, path), join(path, key))
        geometry = feature.get("geometry")
        out.append((props, geometry if isinstance(geometry, dict) else None, join(path, key)))
    return out


def zone_code(props: dict[str, Any], path: str) -> str:
    """``code_zone`` (an INSEE commune code, a département or an EPCI), text or number in the wild."""
    raw = need(props, "code_zone", path)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, str) and raw.strip() and len(raw) <= 32:
        return raw.strip()
    raise AdapterError("code_zone must be a short code", field=join(path, "code_zone"))


def lat_lon(
    props: dict[str, Any], geometry: dict[str, Any] | None, path: str
) -> tuple[float | None, float | None]:
    if props.get("x_wgs84") is not None and props.get("y_wgs84") is not None:
        lon = number(props["x_wgs84"], join(path, "x_wgs84"), lo=-180, hi=180)
        lat = number(props["y_wgs84"], join(path, "y_wgs84"), lo=-90, hi=90)
        return lat, lon
    if geometry is not None and geometry.get("type") == "Point":
        return point(geometry, "geometry")
    return None, None


def current(dated: Iterable[tuple[datetime, T]], now: datetime, tz: tzinfo) -> list[tuple[datetime, T]]:
    """Among forecasts for several days, the latest one due on or before ``now``'s day (else the first).

    Atmo layers hold today and the next days (``date_ech`` is the day the value is for); the
    picture shows today's, so the later days are kept only as context.
    """
    items = sorted(dated, key=lambda pair: pair[0])
    if not items:
        return []
    today = now.astimezone(tz).date()  # days are the territory's days, not UTC's
    due = [pair for pair in items if pair[0].astimezone(tz).date() <= today]
    chosen = due[-1][0] if due else items[0][0]
    return [pair for pair in items if pair[0] == chosen]


Feature = tuple[datetime, dict[str, Any], dict[str, Any] | None, str]


def todays(
    payload: Payload,
    *,
    now: datetime,
    tz: tzinfo,
    key: Callable[[dict[str, Any], str], Hashable],
    rejects: list[AdapterError] | None,
    date_field: str = "date_ech",
) -> list[Feature]:
    """The features due today, one group per ``key`` (a zone, or a zone and a pollutant)."""
    groups: dict[Hashable, list[tuple[datetime, Feature]]] = defaultdict(list)
    for props, geometry, path in features(payload):

        def dated(props: dict[str, Any] = props, geometry: Any = geometry, path: str = path) -> list[None]:
            due = timestamp(need(props, date_field, path), join(path, date_field), tz=tz)
            groups[key(props, path)].append((due, (due, props, geometry, path)))
            return []

        keep_going(rejects, dated)
    return [feature for dated in groups.values() for _, feature in current(dated, now, tz)]


FeatureParser = Callable[[Context, datetime, dict[str, Any], dict[str, Any] | None, str], list[Reading]]


def parse_today(
    payload: Payload, *, ctx: Context, rejects: list[AdapterError] | None, feature: FeatureParser
) -> list[Reading]:
    """Read each zone's feature due today with ``feature(ctx, due, properties, geometry, path)``."""
    out: list[Reading] = []
    for due, props, geometry, path in todays(
        payload, now=ctx.received_at, tz=ctx.tz, key=zone_code, rejects=rejects
    ):
        out.extend(keep_going(rejects, partial(feature, ctx, due, props, geometry, path)))
    return out
