"""Reading FIWARE NGSI entities in either representation: normalized (NGSI-LD or v2) or keyValues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.errors import AdapterError
from adapters.payload import Batch, Context, Payload, as_obj, each, join, load_json, point, timestamp
from hypervision.domain import AttrValue, Domain, Reading

if TYPE_CHECKING:
    from adapters.source import SourceConfig

# Attributes that say when an observation was made, in the order they are trusted.
TIME_ATTRS = ("dateObserved", "observationDateTime", "dateModified")


def attr(entity: dict[str, Any], name: str) -> tuple[Any, str | None]:
    """(value, unitCode) of an attribute; (None, None) when absent.

    Normalized attributes are ``{"type": "Property", "value": ..., "unitCode": ...}`` (NGSI-LD)
    or ``{"type": "Number", "value": ..., "metadata": {"unitCode": {"value": ...}}}`` (NGSI v2);
    a keyValues attribute is the bare value. A GeoJSON object has ``coordinates``, never ``value``.
    """
    raw = entity.get(name)
    if isinstance(raw, dict) and "type" in raw and ("value" in raw or "object" in raw):
        value = raw.get("value", raw.get("object"))
        unit = raw.get("unitCode")
        meta = raw.get("metadata")
        if unit is None and isinstance(meta, dict) and isinstance(meta.get("unitCode"), dict):
            unit = meta["unitCode"].get("value")
        # NGSI-LD typed literal: {"@type": "DateTime", "@value": "..."}
        if isinstance(value, dict) and "@value" in value:
            value = value["@value"]
        return value, unit if isinstance(unit, str) else None
    return raw, None


def short_id(entity: dict[str, Any], path: str) -> str:
    """The entity id without its ``urn:ngsi-ld:<Type>:`` prefix."""
    raw = entity.get("id")
    if not isinstance(raw, str) or not raw.strip():
        raise AdapterError("missing entity id", field=join(path, "id"))
    kind = entity.get("type")
    prefix = f"urn:ngsi-ld:{kind}:"
    return raw[len(prefix) :] if isinstance(kind, str) and raw.startswith(prefix) else raw


def observed_at(entity: dict[str, Any], path: str, ctx: Context) -> tuple[datetime, str]:
    """When the entity was observed, and which attribute said so (``received`` when none did)."""
    for name in TIME_ATTRS:
        value, _ = attr(entity, name)
        if value is not None:
            return timestamp(value, join(path, name), tz=ctx.tz), name
    return ctx.received_at, "received"


def location(entity: dict[str, Any], path: str) -> tuple[float | None, float | None]:
    value, _ = attr(entity, "location")
    if isinstance(value, dict) and value.get("type") == "Point":
        return point(value, join(path, "location"))
    return None, None  # lines and polygons (a street, a group) have no single point


EntityParser = Callable[[Context, dict[str, Any], str, str | None], list[Reading]]


def parse_entities(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None,
    rejects: list[AdapterError] | None,
    kind: str,
    domain: Domain,
    types: set[str],
    parse_entity: EntityParser,
) -> list[Reading]:
    """Parse one entity or an array of them; an array labels each reading with the entity id.

    ``parse_entity(ctx, entity, path, key)`` reads one entity; ``key`` is None for a lone entity.
    """
    ctx = Context.of(source, received_at=received_at, default_prefix=kind, default_domain=domain)
    doc = load_json(payload)
    single = isinstance(doc, dict)
    items = [doc] if single else doc
    if not isinstance(items, list):
        raise AdapterError("expected an entity or an array of entities")

    def one(raw: Any, path: str) -> list[Reading]:
        entity = as_obj(raw, path)
        kind = entity.get("type")
        if not isinstance(kind, str) or kind not in types:
            raise AdapterError(f"entity type must be one of {sorted(types)}", field=join(path, "type"))
        return parse_entity(ctx, entity, path, None if single else short_id(entity, path))

    if single:
        return one(doc, "")
    return each(items, "", rejects, one)


def batch(ctx: Context, entity: dict[str, Any], path: str, key: str | None, **attrs: AttrValue) -> Batch:
    """A batch for one entity: dated by its observation attribute and placed at its point."""
    observed, time_attr = observed_at(entity, path, ctx)
    lat, lon = location(entity, path)
    return Batch(ctx, key, observed, path, lat, lon, {"time_from": time_attr, **attrs})
