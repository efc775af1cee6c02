"""Redis outages seen by the API: a 503 with a clear message and Retry-After instead of a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

BUS_UNAVAILABLE = "the message bus (Redis) is unavailable; retry shortly"
RETRY_AFTER_S = 5


async def bus_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # One line per refused request, without the body: it may hold what a caller sent.
    log.warning("%s %s refused: Redis unavailable (%s)", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": BUS_UNAVAILABLE}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
    )


def install(app: FastAPI) -> None:
    """Answer 503 for any route that hits a Redis outage (BusyLoadingError, while Redis replays
    its AOF after a restart, is a ConnectionError too)."""
    app.add_exception_handler(RedisConnectionError, bus_unavailable)
    app.add_exception_handler(RedisTimeoutError, bus_unavailable)
