"""Passwords (Argon2) and bearer tokens: issue, authenticate, revoke. Tokens are stored as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from hypervision.db import as_utc
from hypervision.models.user import AuthToken, Role, TokenKind, User

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12


class AuthError(Exception):
    """Authentication or account management failed; the message is safe to show."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff user, a wall screen or a feed holding an ingest key."""

    role: Role
    name: str
    token_kind: TokenKind
    token_id: int
    user_id: int | None = None
    teams: tuple[str, ...] = field(default=())
    source: str | None = None

    @property
    def actor(self) -> str:
        """How this principal appears in audit rows."""
        return f"{self.token_kind.value}:{self.name}" if self.user_id is None else f"user:{self.name}"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def token_digest(token: str, secret: str) -> str:
    """Keyed so that rotating HV_SECRET_KEY invalidates every token at once."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    teams: list[str] | None = None,
    now: datetime,
) -> User:
    if session.exec(select(User).where(User.username == username)).first():
        raise AuthError(f"user {username!r} already exists")
    if role == Role.TEAM and not teams:
        raise AuthError("a team member needs at least one team (--team)")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        teams=teams or [],
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> None:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise AuthError(f"no user {username!r}")
    user.password_hash = hash_password(password)
    session.add(user)


def check_credentials(session: Session, username: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def issue_token(
    session: Session,
    *,
    kind: TokenKind,
    secret: str,
    now: datetime,
    ttl: timedelta | None,
    user: User | None = None,
    name: str = "",
    source: str | None = None,
) -> str:
    """Create a token; the clear value is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    row = AuthToken(
        token_hash=token_digest(token, secret),
        kind=kind,
        user_id=user.id if user else None,
        name=name or (user.username if user else ""),
        source=source,
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    session.add(row)
    session.flush()
    return token


class TokenRefusal(StrEnum):
    """Why a bearer token does not authenticate, in words its holder can act on.

    Saying "expired" rather than "unknown" tells nothing to someone who never held the token, and
    tells a wall screen's operator to issue a new one rather than to look for a typo.
    """

    UNKNOWN = "unknown token"
    EXPIRED = "token expired"
    REVOKED = "token revoked"
    ACCOUNT_DISABLED = "account disabled"


def authenticate(session: Session, token: str, *, secret: str, now: datetime) -> Principal | TokenRefusal:
    """The principal behind a bearer token, or why there is none."""
    if not token or len(token) > 256:
        return TokenRefusal.UNKNOWN
    row = session.exec(select(AuthToken).where(AuthToken.token_hash == token_digest(token, secret))).first()
    if row is None:
        return TokenRefusal.UNKNOWN
    if row.revoked_at is not None:
        return TokenRefusal.REVOKED
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        return TokenRefusal.EXPIRED
    if row.kind == TokenKind.SCREEN:
        return Principal(role=Role.SCREEN, name=row.name, token_kind=row.kind, token_id=row.id or 0)
    if row.kind == TokenKind.INGEST and row.user_id is None:
        return Principal(
            role=Role.INGEST, name=row.name, token_kind=row.kind, token_id=row.id or 0, source=row.source
        )
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return TokenRefusal.ACCOUNT_DISABLED
    return Principal(
        role=user.role,
        name=user.username,
        token_kind=row.kind,
        token_id=row.id or 0,
        user_id=user.id,
        teams=tuple(user.teams),
    )


def revoke_token(session: Session, token_id: int, *, now: datetime) -> None:
    row = session.get(AuthToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        session.add(row)


def update_user(
    session: Session,
    user_id: int,
    *,
    role: Role | None = None,
    teams: list[str] | None = None,
    active: bool | None = None,
    password: str | None = None,
    now: datetime,
) -> User:
    """Change a user; deactivating one also revokes their tokens at once."""
    user = session.get(User, user_id)
    if user is None:
        raise AuthError(f"no user {user_id}")
    if role is not None:
        user.role = role
    if teams is not None:
        user.teams = list(teams)
    if Role(user.role) == Role.TEAM and not user.teams:
        raise AuthError("a team member needs at least one team")
    if password is not None:
        user.password_hash = hash_password(password)
    if active is not None:
        user.active = active
        if not active:
            revoke_user_tokens(session, user_id, now=now)
    session.add(user)
    session.flush()
    return user


def revoke_user_tokens(session: Session, user_id: int, *, now: datetime) -> int:
    rows = session.exec(
        select(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at == None)  # noqa: E711
    ).all()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)


def service_tokens(session: Session, kind: TokenKind) -> list[AuthToken]:
    """Screen tokens or ingest keys (not staff sessions), newest first."""
    query = select(AuthToken).where(AuthToken.kind == kind, AuthToken.user_id == None)  # noqa: E711
    return list(session.exec(query.order_by(AuthToken.id.desc())).all())  # type: ignore[union-attr]


def revoke_service_token(session: Session, token_id: int, kind: TokenKind, *, now: datetime) -> AuthToken:
    row = session.get(AuthToken, token_id)
    if row is None or row.kind != kind or row.user_id is not None:
        raise AuthError(f"no {kind.value} token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
    return row
