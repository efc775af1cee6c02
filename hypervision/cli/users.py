"""``hypervision user add|passwd``: staff accounts, passwords read from a prompt or from stdin."""

from __future__ import annotations

import sys

import click

from hypervision import auth, migrations
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import make_engine, session_scope
from hypervision.models.user import Role
from hypervision.runtime import utc_now


@main.group()
def user() -> None:
    """Manage staff accounts."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice([r.value for r in Role if r not in (Role.SCREEN, Role.INGEST)]), required=True
)
@click.option("--team", "teams", multiple=True, help="Team of a `team` user (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def user_add(name: str, role: str, teams: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user NAME with a role."""
    password = _read_password(password_stdin)
    engine = make_engine(Settings().sqlalchemy_url)
    migrations.upgrade(engine)
    try:
        with session_scope(engine) as session:
            auth.create_user(session, name, password, Role(role), teams=list(teams), now=utc_now())
    except auth.AuthError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"user {name} created with role {role}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME."""
    password = _read_password(password_stdin)
    engine = make_engine(Settings().sqlalchemy_url)
    try:
        with session_scope(engine) as session:
            auth.set_password(session, name, password)
    except auth.AuthError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"password of {name} changed")
