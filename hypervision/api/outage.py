"""Failures of the stores behind the API answered clearly instead of a 500.

A Redis outage is a 503 with Retry-After; an integer too large for the database (an id of 40
digits in a path) is a 422, not a crash of the request.
"""

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


async def number_out_of_range(request: Request, exc: Exception) -> JSONResponse:
    if "too large to convert" not in str(exc):  # any other overflow is a bug: a 500 and its trace
        raise exc
    return JSONResponse({"detail": "a number in the request is out of range"}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer 503 for any route that hits a Redis outage (BusyLoadingError, while Redis replays
    its AOF after a restart, is a ConnectionError too)."""
    app.add_exception_handler(RedisConnectionError, bus_unavailable)
    app.add_exception_handler(RedisTimeoutError, bus_unavailable)
    # SQLite refuses integers past 64 bits with this OverflowError (PostgreSQL: see the report).
    app.add_exception_handler(OverflowError, number_out_of_range)
