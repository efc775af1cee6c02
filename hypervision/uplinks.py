"""One LoRaWAN uplink, by HTTP or MQTT: registry lookup, readings on the bus, or a dead letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool

from adapters.errors import AdapterError
from adapters.lorawan.metrics import readings_for
from adapters.lorawan.uplink import Uplink
from hypervision import devices, metrics
from hypervision.runtime import Runtime


@dataclass(frozen=True)
class Outcome:
    """What became of an uplink; every outcome is acknowledged so the network server never retries."""

    status: str  # accepted | unknown_device | refused
    dev_eui: str
    readings: int = 0
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "devEui": self.dev_eui, "readings": self.readings}
        if self.reason:
            out["reason"] = self.reason
        return out


def deadletter_source(uplink: Uplink) -> str:
    return f"lorawan:{uplink.network}:{uplink.dev_eui}"


async def handle_uplink(
    runtime: Runtime, uplink: Uplink, raw: bytes, *, received_at: datetime, integration: str | None = None
) -> Outcome:
    """Readings for a registered device go on the bus; anything else is dead-lettered with its reason.

    `integration` is the source named by the caller's per-source key: a device whose registry entry
    names another integration (`options.integration`) is refused, so one network server's key cannot
    speak for another network's devices.
    """
    device = await run_in_threadpool(devices.lookup, runtime.db, uplink.dev_eui)
    if device is None:
        status, reason = (
            "unknown_device",
            f"unknown devEui {uplink.dev_eui}: register it with `hypervision devices add`",
        )
    elif integration is not None and device.options.get("integration") not in (None, integration):
        status = "refused"
        owner = device.options["integration"]
        reason = f"device {uplink.dev_eui} belongs to integration {owner!r}, not {integration!r}"
    else:
        try:
            readings = readings_for(uplink, device, received_at=received_at)
        except AdapterError as err:
            status, reason = "refused", f"undecodable uplink: {err.describe()}"
        else:
            await runtime.ingestor.accept(readings)
            metrics.count_ingested("lorawan", readings)
            return Outcome("accepted", uplink.dev_eui, readings=len(readings))
    await runtime.ingestor.reject(source=deadletter_source(uplink), reason=reason, raw=raw, at=received_at)
    metrics.READINGS_REJECTED.labels(source_kind="lorawan").inc()
    return Outcome(status, uplink.dev_eui, reason=reason)
