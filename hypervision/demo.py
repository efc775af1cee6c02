"""The demo: one process with Redis, SQLite, API, hub, worker and the simulator; users printed once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

import uvicorn
from sqlmodel import select

from adapters.simulator.feeds import demo_sources
from adapters.simulator.server import FeedServer
from hypervision import auth
from hypervision.api.app import create_app
from hypervision.config import Settings
from hypervision.db import session_scope
from hypervision.embedded_redis import free_port
from hypervision.models.user import Role, TokenKind, User
from hypervision.poller import start_poller
from hypervision.push_demo import PushDemo, start_push_demo
from hypervision.runtime import Runtime, open_runtime
from hypervision.stopping import stop_tasks

log = logging.getLogger(__name__)

DEMO_POLL_S = 15.0

DEMO_USERS: tuple[tuple[str, Role, list[str]], ...] = (
    ("admin", Role.ADMIN, []),
    ("manager", Role.MANAGER, []),
    ("operator", Role.OPERATOR, []),
    ("helpline", Role.TEAM, ["helpline"]),
    ("maskdrive", Role.TEAM, ["mask_drive"]),
    ("lighting", Role.TEAM, ["lighting"]),
    ("waste", Role.TEAM, ["waste"]),
    ("comms", Role.TEAM, ["communication"]),
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
    """Serve the simulated feeds in their real formats and read them through the real adapters:
    pulled feeds over HTTP (coordinator), the helpline PBX over AMI and queue_log, LoRaWAN uplinks
    over the ingest API. Nothing reaches the bus by a shortcut."""
    async with AsyncExitStack() as stack:
        runtime = await open_runtime(settings, stack)
        creds = ensure_demo_users(runtime)
        app = create_app(settings, runtime=runtime, run_worker=True)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", ws_per_message_deflate=True)
        )
        feed_server = FeedServer(scenario, clock=runtime.clock)
        feed_port = free_port()
        simulator = uvicorn.Server(
            uvicorn.Config(
                feed_server.app(), host="127.0.0.1", port=feed_port, log_level="warning", lifespan="off"
            )
        )
        simulator_task = asyncio.create_task(simulator.serve(), name="simulator")
        while not simulator.started:
            await asyncio.sleep(0.02)
        sources = demo_sources(f"http://127.0.0.1:{feed_port}", interval_s=DEMO_POLL_S)
        poller = await start_poller(runtime, sources, with_push_feeds=False)
        push: PushDemo | None = None

        async def start_push_side() -> None:
            nonlocal push
            while not server.started:
                await asyncio.sleep(0.05)
            push = await start_push_demo(runtime, scenario, api_url=f"http://{host}:{port}")

        push_starter = asyncio.create_task(start_push_side())
        print(banner(f"http://{host}:{port}", creds, scenario), flush=True)
        try:
            await server.serve()
        finally:
            await stop_tasks([push_starter])
            if push is not None:
                await push.stop()
            await poller.stop()
            simulator.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await simulator_task
