"""``/healthz`` (the process lives) and ``/readyz`` (Redis and the database answer) for orchestrators."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hypervision.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: answers as long as the process serves requests (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Readiness: Redis and the database answer; the body says what is wrong otherwise."""
    checks: dict[str, Any] = {}
    try:
        await asyncio.wait_for(runtime.redis.ping(), timeout=2)
        checks["redis"] = "ok"
    except Exception as err:
        checks["redis"] = f"error: {err.__class__.__name__}: {err}"
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping_db, runtime), timeout=5)
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"error: {err.__class__.__name__}: {err}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


def _ping_db(runtime: Any) -> None:
    with runtime.db.connect() as conn:
        conn.execute(text("SELECT 1"))
