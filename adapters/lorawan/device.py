"""A device registry entry: which source, domain, place and codec a DevEUI stands for."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.errors import AdapterError
from adapters.lorawan.decoders import DECODERS
from adapters.lorawan.uplink import dev_eui as check_dev_eui
from hypervision.domain import Domain, SourceId, ZoneId

# "object" trusts the network server's own codec output and decodes nothing locally.
NETWORK_DECODED = "object"


class DeviceEntry(BaseModel):
    """What the control room knows about one LoRaWAN device (options: bin_depth_mm, full_distance_mm)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dev_eui: str
    source: SourceId
    domain: Domain
    zone: ZoneId | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    decoder: str = NETWORK_DECODED
    options: dict[str, float | int | str | bool] = Field(default_factory=dict)

    @field_validator("dev_eui")
    @classmethod
    def _dev_eui_is_hex(cls, value: str) -> str:
        try:
            return check_dev_eui(value, where="dev_eui")
        except AdapterError as err:
            raise ValueError(err.reason) from err

    @field_validator("decoder")
    @classmethod
    def _decoder_is_known(cls, value: str) -> str:
        if value != NETWORK_DECODED and value not in DECODERS:
            known = ", ".join([NETWORK_DECODED, *sorted(DECODERS)])
            raise ValueError(f"unknown decoder {value!r} (known: {known})")
        return value

    @field_validator("options")
    @classmethod
    def _depths_are_positive(cls, options: dict[str, Any]) -> dict[str, Any]:
        for key in ("bin_depth_mm", "full_distance_mm"):
            if key in options and (not isinstance(options[key], int | float) or options[key] < 0):
                raise ValueError(f"{key} must be a non-negative number of millimetres")
        depth, full = options.get("bin_depth_mm"), options.get("full_distance_mm", 0)
        if isinstance(depth, int | float) and isinstance(full, int | float) and depth <= full:
            raise ValueError("bin_depth_mm must be larger than full_distance_mm")
        return options
