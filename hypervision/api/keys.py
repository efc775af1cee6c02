"""Service tokens (admin only): long-lived, revocable wall-screen tokens and per-source ingest keys."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from hypervision import auth
from hypervision.api.deps import Admin, RuntimeDep, SessionDep
from hypervision.domain import SourceId
from hypervision.models.user import AuthToken, TokenKind

router = APIRouter(prefix="/api", tags=["service tokens"])


class ScreenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128, description="where the screen hangs")


class IngestKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    source: SourceId | None = Field(
        default=None, description="the only source this key may speak for; none: an integration key"
    )


class ServiceToken(BaseModel):
    id: int
    kind: TokenKind
    name: str
    source: str | None
    created_at: datetime
    revoked_at: datetime | None


class ServiceTokenCreated(ServiceToken):
    token: str = Field(description="the bearer token, shown this once")


def _public(row: AuthToken) -> ServiceToken:
    return ServiceToken.model_validate(row, from_attributes=True)


def _issue(
    session: Session, runtime: RuntimeDep, kind: TokenKind, name: str, source: str | None
) -> ServiceTokenCreated:
    token = auth.issue_token(
        session, kind=kind, secret=runtime.secret, now=runtime.clock(), ttl=None, name=name, source=source
    )
    session.commit()
    row = session.exec(
        select(AuthToken).where(AuthToken.token_hash == auth.token_digest(token, runtime.secret))
    ).one()
    return ServiceTokenCreated(**_public(row).model_dump(), token=token)


def _revoke(session: Session, runtime: RuntimeDep, token_id: int, kind: TokenKind) -> ServiceToken:
    try:
        row = auth.revoke_service_token(session, token_id, kind, now=runtime.clock())
    except auth.AuthError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    session.commit()
    return _public(row)


@router.get("/screens", response_model=list[ServiceToken])
def list_screens(session: SessionDep, _: Admin) -> list[ServiceToken]:
    return [_public(r) for r in auth.service_tokens(session, TokenKind.SCREEN)]


@router.post("/screens", response_model=ServiceTokenCreated, status_code=status.HTTP_201_CREATED)
def create_screen(
    body: ScreenCreate, session: SessionDep, runtime: RuntimeDep, _: Admin
) -> ServiceTokenCreated:
    """A read-only token for a wall screen; it does not expire, revoke it when the screen goes."""
    return _issue(session, runtime, TokenKind.SCREEN, body.name, None)


@router.delete("/screens/{token_id}", response_model=ServiceToken)
def revoke_screen(token_id: int, session: SessionDep, runtime: RuntimeDep, _: Admin) -> ServiceToken:
    return _revoke(session, runtime, token_id, TokenKind.SCREEN)


@router.get("/ingest-keys", response_model=list[ServiceToken])
def list_ingest_keys(session: SessionDep, _: Admin) -> list[ServiceToken]:
    return [_public(r) for r in auth.service_tokens(session, TokenKind.INGEST)]


@router.post("/ingest-keys", response_model=ServiceTokenCreated, status_code=status.HTTP_201_CREATED)
def create_ingest_key(
    body: IngestKeyCreate, session: SessionDep, runtime: RuntimeDep, _: Admin
) -> ServiceTokenCreated:
    """A key valid only on the ingest routes (and, with ``source``, only for that source)."""
    return _issue(session, runtime, TokenKind.INGEST, body.name, body.source)


@router.delete("/ingest-keys/{token_id}", response_model=ServiceToken)
def revoke_ingest_key(token_id: int, session: SessionDep, runtime: RuntimeDep, _: Admin) -> ServiceToken:
    return _revoke(session, runtime, token_id, TokenKind.INGEST)
