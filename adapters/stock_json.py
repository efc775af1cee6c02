"""Mask-drive stock per distribution site: a JSON feed modelled on OpenLMIS stock-card summaries.

The page is OpenLMIS's ``StockCardSummaryV2`` page (``content[]`` with ``orderable``,
``stockOnHand``, ``canFulfillForMe[].{lot, stockOnHand, processedDate}``) with the extensions a
drive needs per summary: ``facility {id, name}``, ``occurredDate``, ``distributedPerHour``,
``reserved``, ``queueWaitMinutes`` and an optional ``daysOfCover``.
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

KIND = "stock_json"
MAX_UNITS = 100_000_000
DEFAULT_HOURS_PER_DAY = 10.0  # a drive's opening day, to turn an hourly rate into days of cover

__all__ = ["KIND", "SiteStock", "fetch", "parse", "site_readings"]


class SiteStock:
    """One site's figures, whichever format they came in."""

    def __init__(
        self,
        on_hand: float,
        per_hour: float | None,
        reserved: float | None,
        queue_wait: float | None,
        days_of_cover: float | None,
    ) -> None:
        self.on_hand = on_hand
        self.per_hour = per_hour
        self.reserved = reserved
        self.queue_wait = queue_wait
        self.days_of_cover = days_of_cover

    def cover(self, hours_per_day: float) -> float | None:
        """Days the free stock (on hand minus reserved) lasts at the current rate; None at no demand."""
        if self.days_of_cover is not None:
            return self.days_of_cover
        if not self.per_hour:
            return None
        free = max(self.on_hand - (self.reserved or 0.0), 0.0)
        return round(free / (self.per_hour * hours_per_day), 2)


def hours_per_day(source: SourceConfig | None) -> float:
    raw = source.option("hours_per_day", DEFAULT_HOURS_PER_DAY) if source else DEFAULT_HOURS_PER_DAY
    return number(raw, "options.hours_per_day", lo=0.5, hi=24)


def site_readings(
    ctx: Context,
    site: str,
    observed: datetime,
    stock: SiteStock,
    *,
    path: str,
    hours: float,
    attrs: dict[str, AttrValue],
) -> list[Reading]:
    figures: list[tuple[str, float | None, str]] = [
        ("stockOnHand", stock.on_hand, "masks"),
        ("distributedPerHour", stock.per_hour, "masks/h"),
        ("reserved", stock.reserved, "masks"),
        ("daysOfCover", stock.cover(hours), "d"),
        ("queueWait", stock.queue_wait, "min"),
    ]
    return [
        ctx.reading(
            entity=site, metric=metric, value=value, unit=unit, observed_at=observed, path=path, attrs=attrs
        )
        for metric, value, unit in figures
        if value is not None
    ]


def _optional(item: dict[str, Any], name: str, path: str, hi: float = MAX_UNITS) -> float | None:
    return None if item.get(name) is None else number(item[name], join(path, name), lo=0, hi=hi)


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.MASK_DRIVE)
    hours = hours_per_day(source)
    doc = as_obj(load_json(payload), "")
    content = as_list(need(doc, "content", ""), "content")

    def summary(raw: Any, path: str) -> list[Reading]:
        item = as_obj(raw, path)
        facility = as_obj(need(item, "facility", path), join(path, "facility"))
        site = text(need(facility, "id", join(path, "facility")), join(path, "facility.id"), max_len=100)
        on_hand = number(need(item, "stockOnHand", path), join(path, "stockOnHand"), lo=0, hi=MAX_UNITS)
        lots = as_list(item.get("canFulfillForMe") or [], join(path, "canFulfillForMe"))
        if item.get("occurredDate") is not None:
            observed = timestamp(item["occurredDate"], join(path, "occurredDate"), tz=ctx.tz)
        else:
            dates = [
                timestamp(
                    lot["processedDate"],
                    join(join(path, f"canFulfillForMe[{i}]"), "processedDate"),
                    tz=ctx.tz,
                )
                for i, lot in enumerate(lots)
                if isinstance(lot, dict) and lot.get("processedDate") is not None
            ]
            observed = max(dates) if dates else received_at
        stock = SiteStock(
            on_hand,
            _optional(item, "distributedPerHour", path),
            _optional(item, "reserved", path),
            _optional(item, "queueWaitMinutes", path, hi=24 * 60),
            _optional(item, "daysOfCover", path, hi=10_000),
        )
        attrs: dict[str, AttrValue] = {"lots": len(lots)}
        if isinstance(facility.get("name"), str):
            attrs["name"] = facility["name"][:100]
        orderable = item.get("orderable")
        if isinstance(orderable, dict) and isinstance(orderable.get("id"), str):
            attrs["orderable"] = orderable["id"][:100]
        return site_readings(ctx, site, observed, stock, path=path, hours=hours, attrs=attrs)

    return each(content, "content", rejects, summary)
