"""Shared helpers for the pure parsers: strict field access, numbers, timestamps, reading building.

Every helper raises only ``AdapterError`` naming the dotted field path, so a parser written with
them cannot let a ``KeyError``, ``TypeError`` or ``ValidationError`` escape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
from pydantic import ValidationError

from adapters.errors import AdapterError
from hypervision.domain import MAX_TEXT_VALUE, TERRITORY_TZ, AttrValue, Domain, Reading

if TYPE_CHECKING:
    from adapters.source import SourceConfig

Payload = bytes | str
T = TypeVar("T")

# Timestamps outside this window are feed errors, and refusing them keeps date arithmetic safe.
MIN_YEAR, MAX_YEAR = 1970, 2200
_ENTITY_BAD = re.compile(r"[^A-Za-z0-9_.:\-/@]+")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def load_json(payload: Payload) -> Any:
    """Decode a JSON document (bytes or text); NaN, Infinity and absurd nesting are refused."""
    if not isinstance(payload, bytes | str):
        raise AdapterError("payload must be bytes or text")
    try:
        return orjson.loads(payload)
    except (orjson.JSONDecodeError, ValueError, TypeError, RecursionError) as err:
        raise AdapterError(f"malformed JSON: {err}") from err


def decode_text(payload: Payload) -> str:
    if isinstance(payload, str):
        return payload
    if not isinstance(payload, bytes):
        raise AdapterError("payload must be bytes or text")
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise AdapterError(f"not UTF-8 text: {err.reason} at byte {err.start}") from err


def as_obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AdapterError(f"expected an object, got {type_name(value)}", field=path or None)
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise AdapterError(f"expected an array, got {type_name(value)}", field=path or None)
    return value


def need(mapping: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in mapping or mapping[key] is None:
        raise AdapterError("missing field", field=join(path, key))
    return mapping[key]


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def number(
    value: Any, path: str, *, lo: float | None = None, hi: float | None = None, text_ok: bool = False
) -> float:
    """A finite number within [lo, hi]; numeric text only when ``text_ok`` (CSV, some JSON feeds)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AdapterError(f"expected a number, got {type_name(value)}", field=path)
    if isinstance(value, str) and not text_ok:
        raise AdapterError("expected a number, got text", field=path)
    try:
        result = float(value.strip().replace(",", ".") if isinstance(value, str) else value)
    except (ValueError, OverflowError) as err:
        raise AdapterError(f"not a number: {str(value)[:40]!r}", field=path) from err
    if not math.isfinite(result):
        raise AdapterError("not a finite number", field=path)
    if lo is not None and result < lo:
        raise AdapterError(f"{result:g} is below the minimum {lo:g}", field=path)
    if hi is not None and result > hi:
        raise AdapterError(f"{result:g} is above the maximum {hi:g}", field=path)
    return result


def integer(
    value: Any, path: str, *, lo: int | None = None, hi: int | None = None, text_ok: bool = False
) -> int:
    result = number(value, path, lo=lo, hi=hi, text_ok=text_ok)
    if not result.is_integer():
        raise AdapterError(f"expected a whole number, got {result:g}", field=path)
    return int(result)


def text(value: Any, path: str, *, max_len: int = MAX_TEXT_VALUE) -> str:
    if not isinstance(value, str):
        raise AdapterError(f"expected text, got {type_name(value)}", field=path)
    value = value.strip()
    if not value or len(value) > max_len:
        raise AdapterError(f"text must be 1-{max_len} characters", field=path)
    return value


def zone_info(name: Any, path: str) -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise AdapterError("expected a time-zone name", field=path)
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as err:
        raise AdapterError(f"unknown time zone {name!r}", field=path) from err


def _in_range(moment: datetime, path: str) -> datetime:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise AdapterError(f"timestamp year {moment.year} is out of range", field=path)
    return moment


def timestamp(value: Any, path: str, *, tz: tzinfo) -> datetime:
    """An ISO 8601 text (a naive one is read in ``tz``; a bare date is its midnight) or epoch ms.

    An explicit offset in the payload is kept as is: the territory's local time stays visible.
    """
    if isinstance(value, bool):
        raise AdapterError("expected a timestamp, got a boolean", field=path)
    if isinstance(value, int | float):
        try:
            moment = datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError) as err:
            raise AdapterError("epoch milliseconds out of range", field=path) from err
        return _in_range(moment, path)
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise AdapterError(f"expected a timestamp, got {type_name(value)}", field=path)
    raw = value.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            _in_range(datetime(day.year, 1, 1), path)
            return datetime(day.year, day.month, day.day, tzinfo=tz)
        moment = datetime.fromisoformat(raw)
    except ValueError as err:
        raise AdapterError(f"not an ISO 8601 timestamp: {raw[:40]!r}", field=path) from err
    _in_range(moment, path)
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def point(value: Any, path: str) -> tuple[float, float]:
    """(lat, lon) from a GeoJSON Point (``coordinates`` are lon, lat)."""
    geo = as_obj(value, path)
    coords = as_list(need(geo, "coordinates", path), join(path, "coordinates"))
    if len(coords) < 2:
        raise AdapterError("a point needs longitude and latitude", field=join(path, "coordinates"))
    lon = number(coords[0], join(path, "coordinates[0]"), lo=-180, hi=180)
    lat = number(coords[1], join(path, "coordinates[1]"), lo=-90, hi=90)
    return lat, lon


@dataclass(frozen=True)
class Context:
    """What a parser needs besides the payload: labels from the source config and the arrival time."""

    prefix: str
    domain: Domain
    received_at: datetime
    tz: tzinfo
    zone: str | None = None
    lat: float | None = None
    lon: float | None = None
    zones: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        source: SourceConfig | None,
        *,
        received_at: datetime,
        default_prefix: str,
        default_domain: Domain,
    ) -> Context:
        if received_at.tzinfo is None:
            raise ValueError("received_at must carry a time zone")
        if source is None:
            return cls(default_prefix, default_domain, received_at, ZoneInfo(TERRITORY_TZ))
        tz = zone_info(source.option("timezone", TERRITORY_TZ), "options.timezone")
        zones = source.option("zones", {})
        if not isinstance(zones, dict) or not all(isinstance(v, str) for v in zones.values()):
            raise AdapterError("options.zones must map entity ids to zone names", source=source.id)
        return cls(
            prefix=source.id,
            domain=source.domain or default_domain,
            received_at=received_at,
            tz=tz,
            zone=source.zone,
            lat=source.lat,
            lon=source.lon,
            zones={str(k): v for k, v in zones.items()},
        )

    def source_for(self, entity: str | None) -> str:
        """The reading's source id: the configured id, plus ``/entity`` for multi-entity feeds."""
        if entity is None:
            return self.prefix
        clean = _ENTITY_BAD.sub("-", entity.strip()).strip("-/")
        if not clean:
            raise AdapterError(f"unusable entity id {entity[:40]!r}")
        return f"{self.prefix}/{clean}"[:200]

    def reading(
        self,
        *,
        entity: str | None,
        metric: str,
        value: float | str,
        unit: str,
        observed_at: datetime,
        path: str,
        lat: float | None = None,
        lon: float | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Reading:
        zone = self.zones.get(entity, self.zone) if entity is not None else self.zone
        try:
            return Reading(
                source=self.source_for(entity),
                domain=self.domain,
                metric=metric,
                value=value,
                unit=unit,
                observed_at=observed_at,
                zone=zone,
                lat=self.lat if lat is None else lat,
                lon=self.lon if lon is None else lon,
                attrs=dict(attrs or {}),
            )
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise AdapterError(f"invalid reading ({where}): {first['msg']}", field=path) from err


@dataclass
class Batch:
    """Readings of one entity at one time: ``add`` only says what differs (metric, value, unit)."""

    ctx: Context
    entity: str | None
    observed_at: datetime
    path: str
    lat: float | None = None
    lon: float | None = None
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)

    def add(
        self, metric: str, value: float | str, unit: str, *, extra: Mapping[str, AttrValue] | None = None
    ) -> None:
        self.readings.append(
            self.ctx.reading(
                entity=self.entity,
                metric=metric,
                value=value,
                unit=unit,
                observed_at=self.observed_at,
                path=join(self.path, metric),
                lat=self.lat,
                lon=self.lon,
                attrs={**self.attrs, **(extra or {})},
            )
        )


def each(
    items: list[Any],
    path: str,
    rejects: list[AdapterError] | None,
    parse_item: Callable[[Any, str], list[Reading]],
) -> list[Reading]:
    """Parse every item; a bad item raises, or is set aside in ``rejects`` so the others flow."""
    out: list[Reading] = []
    for index, item in enumerate(items):
        out.extend(keep_going(rejects, partial(parse_item, item, join(path, index))))
    return out


def keep_going(rejects: list[AdapterError] | None, work: Callable[[], list[T]]) -> list[T]:
    """Run ``work``; when ``rejects`` is given, a bad item lands there instead of failing the lot."""
    try:
        return work()
    except AdapterError as err:
        if rejects is None:
            raise
        rejects.append(err)
        return []
