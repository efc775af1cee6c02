"""Alert tables: one row per alert (at most one open per fingerprint) and its audit history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from hypervision.domain import AlertState, Severity


class AlertBase(SQLModel):
    fingerprint: str = Field(max_length=64, index=True)
    rule_id: str = Field(max_length=128)
    state: AlertState = Field(max_length=16)
    severity: Severity = Field(max_length=16)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=2000)
    domain: str | None = Field(default=None, max_length=32)
    zone: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=200)
    value: str | None = Field(default=None, max_length=64)
    public: bool = False


class Alert(AlertBase, table=True):
    __table_args__ = (
        # At most one open alert per fingerprint, enforced by the database itself. SQLAlchemy stores
        # an enum by member *name*, so the condition compares with 'RESOLVED', not the value.
        Index(
            "ux_alert_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("state != 'RESOLVED'"),
            postgresql_where=text("state != 'RESOLVED'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opened_at: datetime
    updated_at: datetime
    last_seen_at: datetime
    firing_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=64)
    occurrences: int = 1
    escalation_level: int = 0
    last_notified_at: datetime | None = None


class AlertPublic(AlertBase):
    id: int
    labels: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    last_seen_at: datetime
    firing_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    occurrences: int
    escalation_level: int


class AlertHistory(SQLModel, table=True):
    """One audit row per lifecycle move: who (a user or a rule), when, from what to what, and why."""

    __tablename__ = "alert_history"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    fingerprint: str = Field(max_length=64, index=True)
    # The readings-stream entry (or tick) that caused the move: replaying it after a crash is a no-op.
    cause: str | None = Field(default=None, max_length=64, index=True)
    at: datetime
    event: str = Field(max_length=16)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    actor: str = Field(max_length=128)
    value: str | None = Field(default=None, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)


class AlertHistoryPublic(SQLModel):
    at: datetime
    event: str
    from_state: str | None
    to_state: str
    severity: str
    actor: str
    value: str | None
    comment: str | None
