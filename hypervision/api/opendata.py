"""Public open data: current readings as NGSI-LD entities and a daily CSV per domain (no token needed)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import ValidationError

from hypervision import bus, opendata
from hypervision.api.deps import RuntimeDep
from hypervision.domain import Reading
from hypervision.zones import load_zones

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/opendata", tags=["publishing"])

# How far past the end of a day its readings may still arrive (late feeds), and the page size of a scan.
LATE_ARRIVALS = timedelta(days=2)
EARLY_CLOCKS = timedelta(hours=1)
SCAN_PAGE = 5000


def _headers(runtime: RuntimeDep, **extra: str) -> dict[str, str]:
    settings = runtime.settings
    licence = settings.opendata_licence.replace('"', "'")
    return {
        # RFC 8288 link relation "license": the terms travel with every answer.
        "Link": f'<{settings.opendata_licence_url}>; rel="license"; title="{licence}"',
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
        **extra,
    }


def _model(domain: str) -> opendata.Model:
    model = opendata.MODELS.get(domain)
    if model is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no open data for {domain!r}; published domains: {', '.join(opendata.MODELS)}",
        )
    return model


@router.get("")
def opendata_index(request: Request, runtime: RuntimeDep) -> Response:
    """What is published, under which licence, and where."""
    settings = runtime.settings
    body = {
        "licence": {"name": settings.opendata_licence, "url": settings.opendata_licence_url},
        "publisher": settings.cap_sender_name,
        "datasets": [
            {
                "domain": name,
                "entity_type": model.entity_type,
                "context": model.context,
                "current": str(request.url_for("opendata_current", domain=name)),
                "daily_csv": str(request.url_for("opendata_daily_csv", domain=name)),
            }
            for name, model in opendata.MODELS.items()
        ],
    }
    return Response(bus.dumps(body), media_type="application/json", headers=_headers(runtime))


# Registered before "/{domain}", which would otherwise take "air.csv" for a domain name.
@router.get(
    "/{domain}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per measurement of the day"}},
)
async def opendata_daily_csv(
    domain: str,
    runtime: RuntimeDep,
    day: Annotated[
        date | None, Query(alias="date", description="local day, YYYY-MM-DD (default: today)")
    ] = None,
) -> Response:
    """The day's published measurements of one domain, from the readings the bus still holds."""
    _model(domain)
    tz = ZoneInfo(runtime.settings.territory_tz)
    day = day or runtime.clock().astimezone(tz).date()
    readings = await _readings_of_day(runtime, day, tz)
    body = opendata.daily_csv(domain, readings, day, tz)
    headers = _headers(
        runtime,
        **{
            "Content-Disposition": f'attachment; filename="{domain}-{day.isoformat()}.csv"',
            "Cache-Control": "public, max-age=300",
        },
    )
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/{domain}",
    response_class=Response,
    responses={200: {"content": {opendata.LD_MIME: {}}, "description": "NGSI-LD entities, normalized"}},
)
async def opendata_current(domain: str, runtime: RuntimeDep) -> Response:
    """The latest published readings of one domain as NGSI-LD entities (Smart Data Models)."""
    _model(domain)
    raw = await runtime.redis.hvals(bus.PICTURE_KEY)
    readings = [r for r in (_reading(bus.loads(v)) for v in raw) if r is not None]
    zones = {z.id: z.name for z in load_zones(runtime.settings.zones_file).values()}
    body = opendata.entities(domain, readings, zones)
    headers = _headers(runtime, **{"Cache-Control": "public, max-age=60"})
    return Response(bus.dumps(body), media_type=opendata.LD_MIME, headers=headers)


def _reading(entry: dict[str, Any]) -> Reading | None:
    """A picture entry back to a Reading (the mirror adds ``key`` and ``received_at``)."""
    try:
        return Reading.model_validate({k: v for k, v in entry.items() if k in Reading.model_fields})
    except ValidationError:
        return None


async def _readings_of_day(runtime: RuntimeDep, day: date, tz: ZoneInfo) -> list[Reading]:
    """Readings that reached the bus around ``day``; entry IDs are arrival times, so scan a margin."""
    start = datetime.combine(day, time.min, tz) - EARLY_CLOCKS
    end = datetime.combine(day + timedelta(days=1), time.min, tz) + LATE_ARRIVALS
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    out: list[Reading] = []
    for shard in range(runtime.settings.reading_shards):
        cursor = f"{lo}-0"
        while True:
            found = await runtime.redis.xrange(
                bus.readings_stream(shard), min=cursor, max=f"{hi}", count=SCAN_PAGE
            )
            page = cast(list[tuple[bytes, dict[bytes, bytes]]], found)
            for _entry_id, fields in page:
                raw = fields.get(bus.READING_FIELD)
                if raw is None:
                    continue
                try:
                    out.append(bus.decode_reading(raw))
                except ValidationError:
                    continue  # the worker dead-letters these; open data simply skips them
            if len(page) < SCAN_PAGE:
                break
            cursor = "(" + page[-1][0].decode()
    return out
