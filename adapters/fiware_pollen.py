"""FIWARE AeroAllergenObserved: the allergen risk as text and as a 0–4 level, normalized or keyValues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters import ngsi
from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, join, text
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

KIND = "fiware_pollen"
RISK_LEVELS = {"none": 0, "low": 1, "moderate": 2, "high": 3, "veryHigh": 4}

__all__ = ["KIND", "fetch", "parse"]


def _entity(ctx: Context, entity: dict[str, Any], path: str, key: str | None) -> list[Reading]:
    value, _ = ngsi.attr(entity, "allergenRisk")
    where = join(path, "allergenRisk")
    if value is None:
        raise AdapterError("missing field", field=where)
    risk = text(value, where)
    if risk not in RISK_LEVELS:
        raise AdapterError(f"allergenRisk must be one of {list(RISK_LEVELS)}", field=where)
    out = ngsi.batch(ctx, entity, path, key)
    out.add("allergenRisk", risk, "")
    out.add("allergenRiskLevel", RISK_LEVELS[risk], "level")
    return out.readings


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """One AeroAllergenObserved entity or an array of them."""
    return ngsi.parse_entities(
        payload,
        received_at=received_at,
        source=source,
        rejects=rejects,
        kind=KIND,
        domain=Domain.POLLEN,
        types={"AeroAllergenObserved"},
        parse_entity=_entity,
    )
