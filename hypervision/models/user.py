"""Staff accounts and their bearer tokens (session, wall-screen and per-source ingest keys)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    OPERATOR = "operator"
    TEAM = "team"
    SCREEN = "screen"
    INGEST = "ingest"


class TokenKind(StrEnum):
    SESSION = "session"
    SCREEN = "screen"
    INGEST = "ingest"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=256)
    role: Role = Field(max_length=16)
    teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime


class UserPublic(SQLModel):
    id: int
    username: str
    role: Role
    teams: list[str]
    active: bool


class AuthToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored, so a database leak does not leak tokens."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    kind: TokenKind = Field(max_length=16)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    name: str = Field(default="", max_length=128)
    source: str | None = Field(default=None, max_length=200)
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
