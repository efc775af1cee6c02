"""Atmo France pollen indices per zone: overall ``code_qual`` 0–6 and one index per taxon."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import atmo
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, integer, join, need
from adapters.source import SourceConfig
from hypervision.domain import AttrValue, Domain, Reading

KIND = "atmo_pollen"
LABELS = {
    0: "Indisponible",
    1: "Très faible",
    2: "Faible",
    3: "Modéré",
    4: "Élevé",
    5: "Très élevé",
    6: "Extrêmement élevé",
}
TAXA = {
    "code_aul": "Alder",
    "code_boul": "Birch",
    "code_oliv": "Olive",
    "code_gram": "Grass",
    "code_arm": "Mugwort",
    "code_ambr": "Ragweed",
}

__all__ = ["KIND", "fetch", "parse"]


def _feature(ctx: Context, due: datetime, props: dict[str, Any], geometry: Any, path: str) -> list[Reading]:
    zone = atmo.zone_code(props, path)
    lat, lon = atmo.lat_lon(props, geometry, path)
    code = integer(need(props, "code_qual", path), join(path, "code_qual"), lo=0, hi=6)
    attrs: dict[str, AttrValue] = {"code_zone": zone}
    if isinstance(props.get("lib_zone"), str):
        attrs["zone_name"] = props["lib_zone"][:100]
    out: list[Reading] = []
    if code:
        head: dict[str, AttrValue] = {"label": LABELS[code]}
        if isinstance(props.get("pollen_resp"), str):
            head["responsible_taxon"] = props["pollen_resp"][:64]
        out.append(
            ctx.reading(
                entity=zone,
                metric="pollenIndex",
                value=code,
                unit="index",
                observed_at=due,
                path=join(path, "code_qual"),
                lat=lat,
                lon=lon,
                attrs=attrs | head,
            )
        )
    for field, taxon in TAXA.items():
        if props.get(field) is None:
            continue  # taxon not monitored in this zone
        value = integer(props[field], join(path, field), lo=0, hi=6)
        out.append(
            ctx.reading(
                entity=zone,
                metric=f"pollenIndex{taxon}",
                value=value,
                unit="index",
                observed_at=due,
                path=join(path, field),
                lat=lat,
                lon=lon,
                attrs=attrs,
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
    """Today's indices per zone (the layer also holds the next days' forecasts)."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.POLLEN)
    return atmo.parse_today(payload, ctx=ctx, rejects=rejects, feature=_feature)
