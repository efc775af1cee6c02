"""The demo: one process with Redis, SQLite, API, hub, worker and the simulator; users printed once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

import uvicorn
from sqlmodel import select

from adapters.simulator.world import world_readings
from hypervision import auth
from hypervision.api.app import create_app
from hypervision.config import Settings
from hypervision.db import session_scope
from hypervision.models.user import Role, TokenKind, User
from hypervision.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)

DEMO_USERS: tuple[tuple[str, Role, list[str]], ...] = (
    ("admin", Role.ADMIN, []),
    ("manager", Role.MANAGER, []),
    ("operator", Role.OPERATOR, []),
    ("helpline", Role.TEAM, ["helpline"]),
    ("maskdrive", Role.TEAM, ["mask_drive"]),
)


@dataclass(frozen=True)
class DemoCredentials:
    passwords: dict[str, tuple[Role, str]]
    screen_token: str


def ensure_demo_users(runtime: Runtime) -> DemoCredentials:
    """One user per role with a fresh random password each start, and a wall-screen token."""
    now = runtime.clock()
    passwords: dict[str, tuple[Role, str]] = {}
    with session_scope(runtime.db) as session:
        for name, role, teams in DEMO_USERS:
            password = auth.generate_password()
            existing = session.exec(select(User).where(User.username == name)).first()
            if existing is None:
                auth.create_user(session, name, password, role, teams=teams, now=now)
            else:
                auth.set_password(session, name, password)
            passwords[name] = (role, password)
        screen = auth.issue_token(
            session, kind=TokenKind.SCREEN, secret=runtime.secret, now=now, ttl=None, name="demo-wall"
        )
    return DemoCredentials(passwords, screen)


async def simulate_into_bus(
    runtime: Runtime, scenario: str, stop: asyncio.Event, every_s: float = 5.0
) -> None:
    """Feed the simulated territory straight onto the bus (used when no feed coordinator runs)."""
    started = runtime.clock()
    while not stop.is_set():
        await runtime.ingestor.accept(world_readings(runtime.clock(), scenario=scenario, started_at=started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def banner(url: str, creds: DemoCredentials, scenario: str) -> str:
    lines = [
        "",
        f"Hypervision demo is running at {url}  (scenario: {scenario})",
        f"  wall screen (kiosk, no sign-in): {url}/?token={creds.screen_token}",
        f"  team view:                       {url}/team",
        f"  API docs:                        {url}/docs",
        "  users (passwords are new at every start and shown only here):",
    ]
    for name, (role, password) in creds.passwords.items():
        lines.append(f"    {name:<10} {role.value:<9} {password}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


async def run_demo(settings: Settings, *, host: str, port: int, scenario: str) -> None:
    async with AsyncExitStack() as stack:
        runtime = await open_runtime(settings, stack)
        creds = ensure_demo_users(runtime)
        app = create_app(settings, runtime=runtime, run_worker=True)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", ws_per_message_deflate=True)
        )
        stop = asyncio.Event()
        simulator = asyncio.create_task(simulate_into_bus(runtime, scenario, stop))
        print(banner(f"http://{host}:{port}", creds, scenario), flush=True)
        try:
            await server.serve()
        finally:
            stop.set()
            simulator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await simulator
