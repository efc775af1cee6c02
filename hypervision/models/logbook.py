"""The crisis logbook (main courante): append-only, hash-chained entries and the chain's head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class LogbookEntry(SQLModel, table=True):
    """One line of the logbook. ``text`` is free text (a note, a comment); it may be anonymised after
    the retention period, so the chain covers ``text_hash`` rather than the text itself."""

    __tablename__ = "logbook_entry"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    at: datetime = Field(index=True)
    kind: str = Field(max_length=16)
    actor: str = Field(max_length=128)
    ref: str | None = Field(default=None, max_length=64, index=True)
    summary: str = Field(max_length=500)
    text: str | None = Field(default=None, max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    text_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)
    anonymised_at: datetime | None = None


class LogbookHead(SQLModel, table=True):
    """A single row: the last sequence number and hash. Updating it first serialises appends on
    SQLite and PostgreSQL alike, so two writers can never fork the chain."""

    __tablename__ = "logbook_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class NoteCreate(SQLModel):
    text: str = Field(min_length=1, max_length=4000)
