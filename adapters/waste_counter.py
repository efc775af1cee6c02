"""Waste-centre crowding counters: a small JSON feed defined by this project (see docs/adapters.md).

No public format exists for déchetterie crowding, so gate counters and ANPR cameras are asked to
publish ``{"generatedAt", "sites": [{"id", "observedAt", "visitorsToday", "visitorsLastHour",
"vehiclesOnSite", "capacity", "queueLength", "queueWaitMinutes"}]}``; every counter is optional
but a site must carry at least one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import (
    Context,
    Payload,
    as_list,
    as_obj,
    each,
    join,
    load_json,
    need,
    number,
    text,
    timestamp,
)
from adapters.source import SourceConfig
from hypervision.domain import AttrValue, Domain, Reading

KIND = "waste_counter"
# field -> (metric, unit); counts are whole and non-negative
COUNTERS = {
    "visitorsToday": ("visitorsToday", "visitors"),
    "visitorsLastHour": ("visitorsLastHour", "visitors/h"),
    "vehiclesOnSite": ("vehiclesOnSite", "vehicles"),
    "queueLength": ("queueLength", "vehicles"),
    "queueWaitMinutes": ("queueWait", "min"),
}
MAX_COUNT = 1_000_000

__all__ = ["KIND", "fetch", "parse"]


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """Counters per site, plus ``occupancy`` (% of ``capacity`` on site) when the capacity is known."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.WASTE)
    doc = as_obj(load_json(payload), "")
    default_at = doc.get("generatedAt")
    sites = as_list(need(doc, "sites", ""), "sites")

    def site(raw: Any, path: str) -> list[Reading]:
        item = as_obj(raw, path)
        ident = text(need(item, "id", path), join(path, "id"), max_len=100)
        stamp = item.get("observedAt", default_at)
        if stamp is None:
            raise AdapterError("missing field (and no generatedAt)", field=join(path, "observedAt"))
        observed = timestamp(stamp, join(path, "observedAt"), tz=ctx.tz)
        attrs: dict[str, AttrValue] = (
            {"name": item["name"][:100]} if isinstance(item.get("name"), str) else {}
        )
        out: list[Reading] = []
        for field, (metric, unit) in COUNTERS.items():
            if item.get(field) is None:
                continue
            value = number(item[field], join(path, field), lo=0, hi=MAX_COUNT)
            out.append(
                ctx.reading(
                    entity=ident,
                    metric=metric,
                    value=value,
                    unit=unit,
                    observed_at=observed,
                    path=join(path, field),
                    attrs=attrs,
                )
            )
        if item.get("capacity") is not None and item.get("vehiclesOnSite") is not None:
            capacity = number(item["capacity"], join(path, "capacity"), lo=1, hi=MAX_COUNT)
            share = number(item["vehiclesOnSite"], join(path, "vehiclesOnSite"), lo=0) / capacity * 100
            out.append(
                ctx.reading(
                    entity=ident,
                    metric="occupancy",
                    value=round(share, 1),
                    unit="%",
                    observed_at=observed,
                    path=join(path, "capacity"),
                    attrs=attrs,
                )
            )
        if not out:
            raise AdapterError("the site carries no counter", field=path)
        return out

    return each(sites, "sites", rejects, site)
