"""Staff accounts (admin only): list, create, change, deactivate.

A password is generated (and shown once) when none is given. Rows are never deleted: the audit trail
names staff by their username.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from hypervision import auth
from hypervision.api.deps import Admin, RuntimeDep, SessionDep
from hypervision.models.user import Role, User, UserPublic

router = APIRouter(prefix="/api/users", tags=["users"])

TEAM_NAME = r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$"
USERNAME = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$"
STAFF_ROLES = (Role.ADMIN, Role.MANAGER, Role.OPERATOR, Role.TEAM)


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME)
    role: Role
    teams: list[str] = Field(default_factory=list, max_length=16)
    password: str | None = Field(default=None, min_length=auth.MIN_PASSWORD_LENGTH, max_length=256)


class UserUpdate(BaseModel):
    role: Role | None = None
    teams: list[str] | None = Field(default=None, max_length=16)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=auth.MIN_PASSWORD_LENGTH, max_length=256)


class UserCreated(UserPublic):
    password: str | None = Field(description="the generated password, shown this once")


def _check_teams(teams: list[str] | None) -> None:
    for team in teams or []:
        if not re.match(TEAM_NAME, team):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid team name {team!r}")


def _check_role(role: Role | None) -> None:
    if role is not None and role not in STAFF_ROLES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "screens and ingest keys are created with POST /api/screens and /api/ingest-keys",
        )


@router.get("", response_model=list[UserPublic])
def list_users(session: SessionDep, _: Admin) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))).all())


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, runtime: RuntimeDep, _: Admin) -> Any:
    _check_role(body.role)
    _check_teams(body.teams)
    generated = auth.generate_password() if body.password is None else None
    try:
        user = auth.create_user(
            session,
            body.username,
            body.password or generated or "",
            body.role,
            teams=body.teams,
            now=runtime.clock(),
        )
    except auth.AuthError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    session.commit()
    return {**UserPublic.model_validate(user).model_dump(), "password": generated}


@router.get("/{user_id}", response_model=UserPublic)
def get_user(user_id: int, session: SessionDep, _: Admin) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")
    return user


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(
    user_id: int, body: UserUpdate, session: SessionDep, runtime: RuntimeDep, admin: Admin
) -> User:
    _check_role(body.role)
    _check_teams(body.teams)
    if admin.user_id == user_id and (body.active is False or body.role not in (None, Role.ADMIN)):
        raise HTTPException(status.HTTP_409_CONFLICT, "an admin cannot demote or deactivate themselves")
    return _update(session, user_id, body, runtime.clock())


@router.delete("/{user_id}", response_model=UserPublic)
def deactivate_user(user_id: int, session: SessionDep, runtime: RuntimeDep, admin: Admin) -> User:
    """Deactivate (the row stays for the audit trail) and revoke every token of the user."""
    if admin.user_id == user_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "an admin cannot deactivate themselves")
    return _update(session, user_id, UserUpdate(active=False), runtime.clock())


def _update(session: Session, user_id: int, body: UserUpdate, now: Any) -> User:
    try:
        user = auth.update_user(
            session,
            user_id,
            role=body.role,
            teams=body.teams,
            active=body.active,
            password=body.password,
            now=now,
        )
    except auth.AuthError as err:
        code = (
            status.HTTP_404_NOT_FOUND
            if str(err).startswith("no user")
            else status.HTTP_422_UNPROCESSABLE_CONTENT
        )
        raise HTTPException(code, str(err)) from err
    session.commit()
    return user
