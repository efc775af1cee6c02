"""``GET /api/history``: the downsampled history of one series, for sparklines and backtests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from hypervision.api.deps import RuntimeDep, Viewer
from hypervision.history import read_history

router = APIRouter(prefix="/api", tags=["history"])


@router.get("/history")
async def get_history(
    runtime: RuntimeDep,
    _: Viewer,
    series: Annotated[str, Query(max_length=300, description="`source|metric`, as in the picture")],
    hours: Annotated[float, Query(gt=0, description="how far back; at most HV_HISTORY_HOURS")] = 24,
) -> dict[str, Any]:
    settings = runtime.settings
    if "|" not in series:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "series must be `source|metric`")
    if hours > settings.history_hours:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"history is kept for {settings.history_hours} h (HV_HISTORY_HOURS)",
        )
    points = await read_history(
        runtime.redis, series, now=runtime.clock(), hours=hours, bucket_s=settings.history_bucket_s
    )
    return {"series": series, "bucket_s": settings.history_bucket_s, "hours": hours, "points": points}
