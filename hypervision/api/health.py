"""``/healthz`` (the process lives) and ``/readyz`` (Redis and the database answer, backlog small)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hypervision import metrics
from hypervision.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: answers as long as the process serves requests (no dependency is checked)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Readiness: Redis and the database answer and the readings backlog is under HV_READY_MAX_LAG.

    The body says what is wrong (503) or that all is well (200), check by check.
    """
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(2):
            await runtime.redis.ping()
        checks["redis"] = "ok"
    except Exception as err:
        checks["redis"] = f"error: {err.__class__.__name__}: {err}"
    if checks["redis"] == "ok":
        checks["backlog"] = await _check_backlog(runtime)
    try:
        async with asyncio.timeout(5):
            await asyncio.to_thread(_ping_db, runtime)
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"error: {err.__class__.__name__}: {err}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


async def _check_backlog(runtime: Any) -> str:
    """Readings waiting for a worker (undelivered plus unacknowledged) against the threshold."""
    limit = runtime.settings.ready_max_lag
    try:
        async with asyncio.timeout(2):
            shards = await metrics.backlog(runtime.redis, runtime.settings.reading_shards)
    except Exception as err:
        return f"error: {err.__class__.__name__}: {err}"
    waiting = sum(s["lag"] + s["pending"] for s in shards.values())
    if limit and waiting > limit:
        return f"error: {waiting} readings wait for a worker (HV_READY_MAX_LAG={limit}); are workers running?"
    return "ok"


def _ping_db(runtime: Any) -> None:
    with runtime.db.connect() as conn:
        conn.execute(text("SELECT 1"))
