"""``GET /metrics``: the Prometheus exposition of this process, bus gauges refreshed from Redis first.

No user token applies here: Prometheus is not a person. When ``HV_METRICS_TOKEN`` is set the scrape
must carry ``Authorization: Bearer <token>`` (Prometheus' ``authorization`` block); when it is not,
the route is open and must only be reachable from the private network (docs/operations.md).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from redis.exceptions import RedisError

from hypervision import metrics
from hypervision.api.deps import RuntimeDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def get_metrics(runtime: RuntimeDep, request: Request) -> Response:
    expected = runtime.settings.metrics_token
    if expected is not None:
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), expected.get_secret_value().encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the metrics token is missing or wrong",
                {"WWW-Authenticate": "Bearer"},
            )
    try:
        await metrics.refresh_from_redis(runtime.redis, runtime.settings.reading_shards)
    except (RedisError, OSError) as err:
        # Still answer: this process's own counters are worth having while Redis is down (the
        # outage itself shows on /readyz and as Prometheus' `up` of the Redis exporter, if any).
        log.warning("metrics: bus gauges not refreshed: %s", err)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
