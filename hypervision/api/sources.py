"""``GET /api/sources``: every configured source with its health (stale ones included)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from hypervision import bus
from hypervision.api.deps import Viewer
from hypervision.coordinator import Coordinator, mirrored_health

router = APIRouter(prefix="/api/sources", tags=["sources"])


class SourceHealthPublic(BaseModel):
    """A pulled source's health; pushed feeds (AMI, MQTT, queue_log) report the subset they know."""

    id: str
    kind: str = "push"
    domain: str | None = None
    zone: str | None = None
    interval_s: float = 0
    stale_after: int = 0
    ok: bool
    stale: bool = False
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    errors_total: int = 0
    polls_total: int = 0
    readings_total: int = 0
    last_readings: int = 0
    newest_observed_at: datetime | None = None
    fresh_at: datetime | None = None


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
