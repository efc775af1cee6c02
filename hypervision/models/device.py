"""The LoRaWAN device registry table: DevEUI → source, domain, place, decoder and its options."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class DeviceBase(SQLModel):
    source: str = Field(max_length=200, index=True)
    domain: str = Field(max_length=32)
    zone: str | None = Field(default=None, max_length=64)
    lat: float | None = None
    lon: float | None = None
    decoder: str = Field(default="object", max_length=64)


class Device(DeviceBase, table=True):
    """One registered device; `dev_eui` is 16 lower-case hex digits (validated by DeviceEntry)."""

    __tablename__ = "lorawan_device"

    dev_eui: str = Field(primary_key=True, max_length=16)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    updated_at: datetime


class DevicePublic(DeviceBase):
    dev_eui: str
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime
