"""Published CAP 1.2 messages: one row per Alert, Update or Cancel, its XML frozen at a stable identifier."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class CapMessage(SQLModel, table=True):
    """A public warning as it was sent; later messages of the same alert reference the earlier ones."""

    __tablename__ = "cap_message"

    id: int | None = Field(default=None, primary_key=True)
    # The CAP identifier, also the last segment of the document's URL: never reused, never rewritten.
    identifier: str = Field(max_length=128, unique=True, index=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    rule_id: str = Field(max_length=128)
    msg_type: str = Field(max_length=8)  # Alert, Update, Cancel
    severity: str = Field(max_length=16)  # the CAP severity (Minor ... Extreme)
    sent: datetime = Field(index=True)  # UTC; the document carries the territory's offset
    sent_text: str = Field(max_length=32)  # `sent` exactly as written in the document (references quote it)
    headline: str = Field(max_length=300)
    zone: str | None = Field(default=None, max_length=64)
    # What an Update or Cancel without its own texts re-uses: category, event, urgency, texts per language.
    info: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    xml: str = Field(sa_column=Column(Text, nullable=False))
