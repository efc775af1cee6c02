"""``GET /api/sources``: every configured pulled source with its health (stale ones included)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from hypervision.api.deps import Viewer
from hypervision.coordinator import Coordinator

router = APIRouter(prefix="/api/sources", tags=["sources"])


class SourceHealthPublic(BaseModel):
    id: str
    kind: str
    domain: str
    zone: str | None
    interval_s: float
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


def _coordinator(request: Request) -> Coordinator | None:
    # set by the app's lifespan when a sources file is configured; absent means no pulled feeds
    return getattr(request.app.state, "coordinator", None)


@router.get("", response_model=list[SourceHealthPublic])
def list_sources(request: Request, _viewer: Viewer) -> list[SourceHealthPublic]:
    coordinator = _coordinator(request)
    if coordinator is None:
        return []
    return [SourceHealthPublic.model_validate(h.as_dict()) for h in coordinator.health()]
