"""``GET /api/sources``: every configured pulled source with its health (stale ones included)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from hypervision import bus
from hypervision.api.deps import Viewer
from hypervision.coordinator import Coordinator, mirrored_health

router = APIRouter(prefix="/api/sources", tags=["sources"])


class SourceHealthPublic(BaseModel):
    id: str
    kind: str
    domain: str
    zone: str | None
    interval_s: float
    stale_after: int
    ok: bool
    stale: bool
    last_poll: datetime | None
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    errors_total: int
    polls_total: int
    readings_total: int
    last_readings: int
    newest_observed_at: datetime | None
    fresh_at: datetime | None


@router.get("", response_model=list[SourceHealthPublic])
async def list_sources(request: Request, _viewer: Viewer) -> list[SourceHealthPublic]:
    """From the coordinator when it runs in this process, else from the health mirror in Redis that
    a ``hypervision poll`` process keeps (staleness re-evaluated now)."""
    coordinator: Coordinator | None = getattr(request.app.state, "coordinator", None)
    if coordinator is not None:
        rows = [h.as_dict() for h in coordinator.health()]
    else:
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is None:
            return []
        now = runtime.clock()
        rows = [
            mirrored_health(bus.loads(raw), now) for raw in await runtime.redis.hvals(bus.SOURCES_HEALTH_KEY)
        ]
    return [SourceHealthPublic.model_validate(row) for row in sorted(rows, key=lambda r: str(r["id"]))]
