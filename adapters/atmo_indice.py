"""Atmo France "indice ATMO" (arrêté of 10 July 2020): ``code_qual`` 0–7 and sub-indices per zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import atmo
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, integer, join, need
from adapters.source import SourceConfig
from hypervision.domain import AttrValue, Domain, Reading

KIND = "atmo_indice"
LABELS = {
    0: "Indisponible",
    1: "Bon",
    2: "Moyen",
    3: "Dégradé",
    4: "Mauvais",
    5: "Très mauvais",
    6: "Extrêmement mauvais",
    7: "Événement",
}
SUB_INDICES = {
    "code_no2": "atmoIndexNo2",
    "code_so2": "atmoIndexSo2",
    "code_o3": "atmoIndexO3",
    "code_pm10": "atmoIndexPm10",
    "code_pm25": "atmoIndexPm25",
}

__all__ = ["KIND", "fetch", "parse"]


def _feature(ctx: Context, due: datetime, props: dict[str, Any], geometry: Any, path: str) -> list[Reading]:
    zone = atmo.zone_code(props, path)
    code = integer(need(props, "code_qual", path), join(path, "code_qual"), lo=0, hi=7)
    if code == 0:
        return []  # "indisponible": no index today, which is not a good air day
    lat, lon = atmo.lat_lon(props, geometry, path)
    attrs: dict[str, AttrValue] = {"code_zone": zone, "label": LABELS[code]}
    if isinstance(props.get("lib_zone"), str):
        attrs["zone_name"] = props["lib_zone"][:100]
    out = [
        ctx.reading(
            entity=zone,
            metric="atmoIndex",
            value=code,
            unit="index",
            observed_at=due,
            path=join(path, "code_qual"),
            lat=lat,
            lon=lon,
            attrs=attrs,
        )
    ]
    for field, metric in SUB_INDICES.items():
        if props.get(field) is None:
            continue
        sub = integer(props[field], join(path, field), lo=0, hi=7)
        if sub:
            out.append(
                ctx.reading(
                    entity=zone,
                    metric=metric,
                    value=sub,
                    unit="index",
                    observed_at=due,
                    path=join(path, field),
                    lat=lat,
                    lon=lon,
                    attrs={"code_zone": zone},
                )
            )
    return out


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """Today's index per zone; ``date_ech`` is epoch ms (ArcGIS) or an ISO date (Atmo Data API)."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.AIR)
    return atmo.parse_today(payload, ctx=ctx, rejects=rejects, feature=_feature)
