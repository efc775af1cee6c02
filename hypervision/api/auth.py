"""Sign in and out: ``POST /api/auth/token`` trades a username and password for a bearer token."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from hypervision import auth, login_limit
from hypervision.api.deps import CurrentPrincipal, RuntimeDep
from hypervision.login_limit import LoginLimit
from hypervision.models.user import Role, TokenKind
from hypervision.runtime import Runtime

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    role: Role
    username: str
    teams: list[str]


class WhoAmI(BaseModel):
    name: str
    role: Role
    teams: list[str]
    token_kind: TokenKind


def _login_limit(runtime: Runtime) -> LoginLimit:
    s = runtime.settings
    return LoginLimit(s.login_max_failures, s.login_max_failures_per_address, s.login_window_s)


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={429: {"description": "too many failures for this user or address; see Retry-After"}},
)
async def login(body: LoginRequest, runtime: RuntimeDep, request: Request) -> TokenResponse:
    """Trade a username and password for a bearer token; repeated failures are throttled."""
    limit = _login_limit(runtime)
    address = request.client.host if request.client else "unknown"
    wait = await login_limit.retry_after(runtime.redis, limit, body.username, address)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins: try again in {wait} s",
            {"Retry-After": str(wait)},
        )
    response = await asyncio.to_thread(_login, runtime, body)
    if response is None:
        await login_limit.record_failure(runtime.redis, limit, body.username, address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    await login_limit.record_success(runtime.redis, body.username, address)
    return response


def _login(runtime: Runtime, body: LoginRequest) -> TokenResponse | None:
    now = runtime.clock()
    with Session(runtime.db, expire_on_commit=False) as session:
        user = auth.check_credentials(session, body.username, body.password)
        if user is None:
            return None
        ttl = timedelta(seconds=runtime.settings.token_ttl_s)
        token = auth.issue_token(
            session, kind=TokenKind.SESSION, secret=runtime.secret, now=now, ttl=ttl, user=user
        )
        session.commit()
        return TokenResponse(
            access_token=token,
            expires_at=now + ttl,
            role=user.role,
            username=user.username,
            teams=list(user.teams),
        )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentPrincipal, runtime: RuntimeDep) -> None:
    """Revoke the token used for this request."""
    with Session(runtime.db) as session:
        auth.revoke_token(session, principal.token_id, now=runtime.clock())
        session.commit()


@router.get("/me", response_model=WhoAmI)
def whoami(principal: CurrentPrincipal) -> WhoAmI:
    return WhoAmI(
        name=principal.name, role=principal.role, teams=list(principal.teams), token_kind=principal.token_kind
    )
