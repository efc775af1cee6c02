"""Shared FastAPI dependencies: the runtime, a SQL session, and the caller's role (401/403)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from hypervision.auth import Principal, TokenRefusal, authenticate
from hypervision.models.user import Role
from hypervision.runtime import Runtime

_bearer = HTTPBearer(
    auto_error=False, description="A token from POST /api/auth/token (or a screen/ingest key)"
)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with Session(runtime.db, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    runtime: RuntimeDep,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "a bearer token is required", {"WWW-Authenticate": "Bearer"}
        )
    with Session(runtime.db) as session:
        principal = authenticate(session, credentials.credentials, secret=runtime.secret, now=runtime.clock())
    if isinstance(principal, TokenRefusal):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"{principal}: log in again or ask an administrator for a new token",
            {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{principal}"'},
        )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    allowed = frozenset(roles)

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role.value!r} may not do this (needs one of: "
                f"{', '.join(sorted(r.value for r in allowed))})",
            )
        return principal

    return check


# The RBAC matrix in one place (docs/security.md mirrors it).
Viewer = Annotated[
    Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.OPERATOR, Role.SCREEN, Role.TEAM))
]
Manager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Ingester = Annotated[Principal, Depends(require_roles(Role.INGEST, Role.ADMIN))]
Staff = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.OPERATOR, Role.TEAM))]
# Control-room staff who read the logbook (not field teams, not wall screens).
ControlRoom = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.OPERATOR))]
# Who works on tasks: field teams (their own teams' tasks only, checked per task) and managers.
TaskWorker = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.TEAM))]
