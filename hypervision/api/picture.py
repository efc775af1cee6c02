"""``GET /api/picture``: the consolidated picture of every domain, as the screens start from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hypervision.api.deps import RuntimeDep, Viewer
from hypervision.events import read_snapshot
from hypervision.picture import build_picture

router = APIRouter(prefix="/api", tags=["picture"])


@router.get("/picture")
async def get_picture(runtime: RuntimeDep, _: Viewer) -> dict[str, Any]:
    snapshot = await read_snapshot(runtime.redis)
    stale = [s["id"] for s in snapshot.sources if s.get("stale")]
    picture = build_picture(snapshot.picture, snapshot.alerts, runtime.clock(), stale)
    picture["cursor"] = snapshot.cursor
    return picture
