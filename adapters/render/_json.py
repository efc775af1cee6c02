"""Encoding shared by the renderers: compact UTF-8 JSON and NGSI-LD property wrappers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

NGSI_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/data-models/master/context.jsonld"


def dumps(doc: Any) -> bytes:
    return orjson.dumps(doc)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def prop(value: Any, unit_code: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if unit_code:
        out["unitCode"] = unit_code
    return out


def date_prop(moment: datetime) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": iso(moment)}}


def geo_point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def entity(kind: str, ident: str, attrs: dict[str, Any], *, key_values: bool) -> dict[str, Any]:
    """An NGSI-LD entity; ``attrs`` values are given normalized and flattened for keyValues."""
    if key_values:
        flat = {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in attrs.items()}
        flat = {k: (v["@value"] if isinstance(v, dict) and "@value" in v else v) for k, v in flat.items()}
        return {"id": ident, "type": kind, **flat}
    return {"id": f"urn:ngsi-ld:{kind}:{ident}", "type": kind, **attrs, "@context": [NGSI_CONTEXT]}
