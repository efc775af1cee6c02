"""TALQ 2.7 log reports (outdoor-lighting CMS ↔ gateway REST/JSON): lamp monitor and actuator values."""

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
    integer,
    join,
    load_json,
    need,
    number,
    text,
    timestamp,
)
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

KIND = "talq"
# TALQ attribute -> (unit, lower bound, upper bound); lampFailure is a boolean read as 0/1.
ATTRIBUTES: dict[str, tuple[str, float | None, float | None]] = {
    "activePower": ("W", 0, None),
    "activeEnergy": ("kWh", 0, None),
    "operatingHours": ("h", 0, None),
    "actualLightState": ("%", 0, 100),
    "supplyVoltage": ("V", 0, None),
    "supplyCurrent": ("A", 0, None),
    "powerFactor": ("", 0, 1),
    "lampFailure": ("", 0, 1),
}

__all__ = ["KIND", "fetch", "parse"]


def _device(address: str) -> str:
    return address.split("://", 1)[1] if "://" in address else address


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """``{address, entries[{data: {srcAddress, timestamp, attributeName, attributeValue}}]}``.

    Each entry becomes a reading of the function that logged it; attributes the control room
    does not watch (commands, configuration) are skipped, since they are valid TALQ.
    """
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.LIGHTING)
    doc = as_obj(load_json(payload), "")
    entries = as_list(need(doc, "entries", ""), "entries")
    logger = doc.get("address") if isinstance(doc.get("address"), str) else None

    def entry(raw: Any, path: str) -> list[Reading]:
        data = as_obj(need(as_obj(raw, path), "data", path), join(path, "data"))
        dpath = join(path, "data")
        name = text(need(data, "attributeName", dpath), join(dpath, "attributeName"))
        name = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1]  # "LampMonitor/activePower" forms too
        if name not in ATTRIBUTES:
            return []
        unit, lo, hi = ATTRIBUTES[name]
        raw_value = need(data, "attributeValue", dpath)
        where = join(dpath, "attributeValue")
        if name == "lampFailure" and isinstance(raw_value, bool):
            value = float(raw_value)
        elif name == "lampFailure":
            value = float(integer(raw_value, where, lo=0, hi=1))
        else:
            value = number(raw_value, where, lo=lo, hi=hi)
        address = text(need(data, "srcAddress", dpath), join(dpath, "srcAddress"), max_len=180)
        observed = timestamp(need(data, "timestamp", dpath), join(dpath, "timestamp"), tz=ctx.tz)
        attrs = {"talq_address": address[:200]} | ({"logger": logger[:200]} if logger else {})
        return [
            ctx.reading(
                entity=_device(address),
                metric=name,
                value=value,
                unit=unit,
                observed_at=observed,
                path=where,
                attrs=attrs,
            )
        ]

    return each(entries, "entries", rejects, entry)
