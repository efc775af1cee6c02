"""Atmo France pollution-episode state (``etat``) per zone and pollutant, as a level 0/1/2 and its text."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import datetime
from functools import partial
from typing import Any

from adapters import atmo
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, join, keep_going, need, text
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

KIND = "atmo_episode"
# Atmo pollutant codes (``code_pol``): 3/8 and 5/24 are the older and newer codes of NO2 and PM10.
POLLUTANTS = {"1": "so2", "3": "no2", "8": "no2", "5": "pm10", "24": "pm10", "7": "o3", "39": "pm25"}
LEVEL_NONE, LEVEL_INFORMATION, LEVEL_ALERT = 0, 1, 2

__all__ = ["KIND", "fetch", "level_of", "parse"]


def level_of(etat: str, path: str) -> int:
    """0 no exceedance, 1 information-recommendation, 2 alert (any wording the networks use)."""
    plain = unicodedata.normalize("NFKD", etat).encode("ascii", "ignore").decode().upper()
    if "ALERTE" in plain:
        return LEVEL_ALERT
    if "INFORMATION" in plain or "RECOMMANDATION" in plain:
        return LEVEL_INFORMATION
    if plain.startswith("PAS DE DEPASSEMENT") or plain.startswith("AUCUN"):
        return LEVEL_NONE
    raise AdapterError(f"unknown episode state {etat[:40]!r}", field=path)


def _pollutant(props: dict[str, Any], path: str) -> str:
    raw = need(props, "code_pol", path)
    code = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not code.isdigit() or len(code) > 4:
        raise AdapterError("code_pol must be a pollutant code", field=join(path, "code_pol"))
    return POLLUTANTS.get(code, f"pol{code}")


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """Per zone: ``episodeLevel<Pol>`` and ``episodeState<Pol>`` for each pollutant, and the
    zone's worst ``episodeLevel`` over pollutants, for today's ``date_ech``."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.AIR)
    todays = atmo.todays(
        payload,
        now=received_at,
        tz=ctx.tz,
        key=lambda props, path: (atmo.zone_code(props, path), _pollutant(props, path)),
        rejects=rejects,
    )
    out: list[Reading] = []
    worst: dict[str, tuple[int, str, datetime]] = {}
    counts: dict[str, int] = defaultdict(int)

    def one(due: datetime, props: dict[str, Any], path: str) -> list[Reading]:
        zone, pol = atmo.zone_code(props, path), _pollutant(props, path)
        etat = text(need(props, "etat", path), join(path, "etat"))
        level = level_of(etat, join(path, "etat"))
        suffix = pol[:1].upper() + pol[1:]
        counts[zone] += 1
        if zone not in worst or level > worst[zone][0]:
            worst[zone] = (level, pol, due)
        attrs = {"code_zone": zone, "pollutant": pol}
        return [
            ctx.reading(
                entity=zone,
                metric=f"episodeLevel{suffix}",
                value=level,
                unit="level",
                observed_at=due,
                path=join(path, "etat"),
                attrs=attrs,
            ),
            ctx.reading(
                entity=zone,
                metric=f"episodeState{suffix}",
                value=etat,
                unit="",
                observed_at=due,
                path=join(path, "etat"),
                attrs=attrs,
            ),
        ]

    for due, props, _geometry, path in todays:
        out.extend(keep_going(rejects, partial(one, due, props, path)))
    for zone, (level, pol, due) in worst.items():
        out.append(
            ctx.reading(
                entity=zone,
                metric="episodeLevel",
                value=level,
                unit="level",
                observed_at=due,
                path="features",
                attrs={"code_zone": zone, "worst_pollutant": pol, "pollutants": counts[zone]},
            )
        )
    return out
