"""Silences set by managers: label matchers muting notifications and tasks for a while."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Silence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # [{"label": ..., "value": glob, "op": "=" | "!="}], as in alerts.schema.Matcher
    matchers: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    starts_at: datetime
    ends_at: datetime = Field(index=True)
    reason: str = Field(max_length=500)
    created_by: str = Field(max_length=128)
    created_at: datetime
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    expired_by: str | None = Field(default=None, max_length=128)


class SilencePublic(SQLModel):
    id: int
    matchers: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    alert_id: int | None
    expired_by: str | None
