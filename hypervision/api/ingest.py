"""Pushed readings: ``POST /api/ingest/readings`` takes a JSON list; bad items are named and dead-lettered."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse

from adapters import stock_csv
from adapters.errors import AdapterError
from adapters.source import SourceConfig
from hypervision import metrics
from hypervision.api.deps import CurrentPrincipal, Ingester, RuntimeDep
from hypervision.auth import Principal
from hypervision.ingest import validate_items
from hypervision.models.user import Role

router = APIRouter(prefix="/api/ingest", tags=["ingest"])

MAX_ITEMS = 10_000


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a 400 that says where it broke."""
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"invalid JSON at line {err.lineno} column {err.colno} (char {err.pos}): {err.msg}",
        ) from err


@router.post(
    "/readings",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        202: {"description": "every reading accepted"},
        422: {"description": "some items refused (named by index and field); the valid ones were accepted"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
        }
    },
)
async def ingest_readings(request: Request, runtime: RuntimeDep, principal: Ingester) -> JSONResponse:
    """Accept a JSON list of readings (see the domain contract); each valid item goes on the bus."""
    payload = await read_json(request)
    if not isinstance(payload, list):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the body must be a JSON list of readings")
    if len(payload) > MAX_ITEMS:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"at most {MAX_ITEMS} readings per request"
        )
    readings, rejected = validate_items(payload)
    if principal.source is not None:
        # A per-source key may only speak for its own source.
        foreign = [(i, r) for i, r in enumerate(readings) if r.source != principal.source]
        if foreign:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this key is for source {principal.source!r}, not {foreign[0][1].source!r}",
            )
    accepted = await runtime.ingestor.accept(readings)
    metrics.count_ingested("push", readings)
    if rejected:
        await runtime.ingestor.reject_many(
            [
                (principal.source or principal.name, f"item {e.index}: {e.field}: {e.reason}", raw)
                for e, raw in rejected
            ],
            at=runtime.clock(),
        )
        metrics.READINGS_REJECTED.labels(source_kind="push").inc(len(rejected))
        return JSONResponse(
            {"accepted": accepted, "rejected": [e.as_dict() for e, _ in rejected]},
            status_code=422,
        )
    return JSONResponse({"accepted": accepted, "rejected": []}, status_code=status.HTTP_202_ACCEPTED)


def _mask_drive_uploader(principal: CurrentPrincipal) -> Principal:
    """The mask-drive team uploads its own stock sheet; managers, admins and ingest keys may too."""
    allowed = principal.role in (Role.ADMIN, Role.MANAGER, Role.INGEST) or (
        principal.role == Role.TEAM and "mask_drive" in principal.teams
    )
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the mask-drive team, managers or a feed key")
    return principal


@router.post(
    "/mask-drive.csv",
    status_code=status.HTTP_202_ACCEPTED,
    responses={422: {"description": "some lines refused, each named by line and column"}},
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def ingest_mask_drive_csv(
    request: Request, runtime: RuntimeDep, principal: Annotated[Principal, Depends(_mask_drive_uploader)]
) -> JSONResponse:
    """The team's stock sheet: ``site, observed_at, on_hand[, distributed_per_hour, reserved,
    queue_wait_min, days_of_cover, name]``; bad lines are named (``line 3.on_hand``), good ones kept."""
    body = await request.body()
    now = runtime.clock()
    rejects: list[AdapterError] = []
    source = SourceConfig(id="mask_drive:upload", kind="stock_csv")
    try:
        readings = stock_csv.parse(body, received_at=now, source=source, rejects=rejects)
    except AdapterError as err:
        await runtime.ingestor.reject(source=source.id, reason=err.describe(), raw=body, at=now)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, err.describe()) from err
    accepted = await runtime.ingestor.accept(readings)
    metrics.count_ingested("upload", readings)
    errors = [{"field": e.field, "reason": e.reason} for e in rejects]
    if rejects:
        await runtime.ingestor.reject_many(
            [(f"{source.id} ({principal.name})", e.describe(), body) for e in rejects], at=now
        )
        metrics.READINGS_REJECTED.labels(source_kind="upload").inc(len(rejects))
    return JSONResponse({"accepted": accepted, "rejected": errors}, status_code=422 if rejects else 202)
