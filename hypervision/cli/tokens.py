"""``hypervision token screen|ingest|list|revoke``: wall-screen tokens and per-source ingest keys."""

from __future__ import annotations

import click

from hypervision import auth, migrations
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import make_engine, session_scope
from hypervision.models.user import TokenKind
from hypervision.runtime import _local_secret, utc_now


def _secret(settings: Settings) -> str:
    """The key the server uses to check tokens (HV_SECRET_KEY, or the generated one under data_dir)."""
    return settings.secret_key.get_secret_value() if settings.secret_key else _local_secret(settings)


def _issue(kind: TokenKind, name: str, source: str | None) -> None:
    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    migrations.upgrade(engine)
    try:
        with session_scope(engine) as session:
            token = auth.issue_token(
                session,
                kind=kind,
                secret=_secret(settings),
                now=utc_now(),
                ttl=None,
                name=name,
                source=source,
            )
    finally:
        engine.dispose()
    click.echo(f"{kind.value} token for {name!r} (shown once, keep it safe):")
    click.echo(token)


@main.group("token")
def token_group() -> None:
    """Long-lived service tokens (screens, ingest keys)."""


@token_group.command("screen")
@click.argument("name")
def token_screen(name: str) -> None:
    """A read-only token for the wall screen NAME."""
    _issue(TokenKind.SCREEN, name, None)


@token_group.command("ingest")
@click.argument("name")
@click.option("--source", help="Restrict the key to this source id.")
def token_ingest(name: str, source: str | None) -> None:
    """An ingest key NAME, valid only on the ingest routes."""
    _issue(TokenKind.INGEST, name, source)


@token_group.command("list")
def token_list() -> None:
    """Screens and ingest keys, with their state."""
    engine = make_engine(Settings().sqlalchemy_url)
    migrations.upgrade(engine)
    try:
        with session_scope(engine) as session:
            rows = [
                *auth.service_tokens(session, TokenKind.SCREEN),
                *auth.service_tokens(session, TokenKind.INGEST),
            ]
            for row in rows:
                state = "revoked" if row.revoked_at else "active"
                click.echo(f"{row.id}\t{row.kind.value}\t{row.name}\t{row.source or '-'}\t{state}")
    finally:
        engine.dispose()


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke the screen token or ingest key TOKEN_ID (see `token list`)."""
    engine = make_engine(Settings().sqlalchemy_url)
    try:
        with session_scope(engine) as session:
            for kind in (TokenKind.SCREEN, TokenKind.INGEST):
                try:
                    auth.revoke_service_token(session, token_id, kind, now=utc_now())
                    break
                except auth.AuthError:
                    continue
            else:
                raise click.ClickException(f"no screen token or ingest key {token_id}")
    finally:
        engine.dispose()
    click.echo(f"token {token_id} revoked")
