"""Mask-drive stock rendered as the OpenLMIS-shaped JSON page and as the team's CSV upload."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.render._json import dumps, iso

MASK_ORDERABLE = "b3c5f2a0-0c1e-4c1b-9b7e-ffp2mask0001"


@dataclass(frozen=True)
class SiteFigures:
    site: str
    name: str
    observed_at: datetime
    on_hand: int
    per_hour: float | None = None
    reserved: int | None = None
    queue_wait_min: float | None = None
    days_of_cover: float | None = None


def stock_json(sites: Sequence[SiteFigures]) -> bytes:
    content = []
    for s in sites:
        item: dict[str, Any] = {
            "facility": {"id": s.site, "name": s.name},
            "orderable": {"id": MASK_ORDERABLE, "href": None},
            "stockOnHand": s.on_hand,
            "canFulfillForMe": [
                {
                    "orderable": {"id": MASK_ORDERABLE, "href": None},
                    "lot": {"id": f"lot-{s.observed_at:%Y-%m}", "href": None},
                    "stockOnHand": s.on_hand,
                    "processedDate": s.observed_at.date().isoformat(),
                }
            ],
            "occurredDate": iso(s.observed_at),
        }
        for key, value in (
            ("distributedPerHour", s.per_hour),
            ("reserved", s.reserved),
            ("queueWaitMinutes", s.queue_wait_min),
            ("daysOfCover", s.days_of_cover),
        ):
            if value is not None:
                item[key] = value
        content.append(item)
    return dumps(
        {
            "content": content,
            "totalPages": 1,
            "totalElements": len(content),
            "size": max(len(content), 1),
            "number": 0,
            "numberOfElements": len(content),
            "first": True,
            "last": True,
        }
    )


def stock_csv(sites: Sequence[SiteFigures], *, delimiter: str = ";") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(
        [
            "site",
            "observed_at",
            "on_hand",
            "distributed_per_hour",
            "reserved",
            "queue_wait_min",
            "days_of_cover",
            "name",
        ]
    )

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    for s in sites:
        writer.writerow(
            [
                s.site,
                iso(s.observed_at),
                s.on_hand,
                cell(s.per_hour),
                cell(s.reserved),
                cell(s.queue_wait_min),
                cell(s.days_of_cover),
                s.name,
            ]
        )
    return out.getvalue().encode()
