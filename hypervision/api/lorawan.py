"""LoRaWAN network-server pushes: ChirpStack v4 HTTP integration and The Things Stack webhook."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from adapters import chirpstack, ttn
from adapters.errors import AdapterError
from adapters.lorawan.uplink import Uplink
from hypervision.api.deps import Ingester, RuntimeDep
from hypervision.uplinks import handle_uplink

router = APIRouter(prefix="/api/ingest", tags=["ingest", "lorawan"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "acknowledged: readings accepted, or the uplink dead-lettered with a reason"},
    400: {"description": "the body is not a readable uplink; the message says where it broke"},
}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


async def _ingest(request: Request, runtime: RuntimeDep, principal: Ingester, parse: Any) -> JSONResponse:
    raw = await request.body()
    try:
        uplink: Uplink = parse(raw)
    except AdapterError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, err.describe()) from err
    outcome = await handle_uplink(
        runtime, uplink, raw, received_at=runtime.clock(), integration=principal.source
    )
    # 202 even for an unknown device: a network server retrying forever would not register it.
    return JSONResponse(outcome.as_dict(), status_code=status.HTTP_202_ACCEPTED)


@router.post("/chirpstack", responses={200: {"description": "a non-`up` event, ignored"}, **_RESPONSES},
             openapi_extra=_BODY)  # fmt: skip
async def chirpstack_event(
    request: Request,
    runtime: RuntimeDep,
    principal: Ingester,
    event: str = Query(description="ChirpStack's event type; only `up` carries measurements"),
) -> JSONResponse:
    """ChirpStack v4 HTTP integration (set its URL to this path; it adds `?event=…`)."""
    if event != chirpstack.UPLINK_EVENT:
        return JSONResponse({"status": "ignored", "event": event[:32]}, status_code=status.HTTP_200_OK)
    return await _ingest(request, runtime, principal, chirpstack.parse_up)


@router.post("/ttn", responses=_RESPONSES, openapi_extra=_BODY)
async def ttn_uplink(request: Request, runtime: RuntimeDep, principal: Ingester) -> JSONResponse:
    """The Things Stack webhook, uplink message (enable only "Uplink message" in the webhook)."""
    return await _ingest(request, runtime, principal, ttn.parse_uplink)
