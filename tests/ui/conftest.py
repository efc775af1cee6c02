"""Browser-test fixtures: Debian's chromium driven by Playwright, a restartable live server, users."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hypervision import auth
from hypervision.db import session_scope
from hypervision.models.user import Role, TokenKind
from hypervision.runtime import Runtime
from tests.support import free_port, start_server, stop_server

CHROMIUM = os.environ.get("HV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = None
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(
            reason=f"no chromium at {CHROMIUM}: apt-get install chromium (or set HV_CHROMIUM)"
        )
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            skip = pytest.mark.skip(reason="playwright is not installed (pip install -e '.[test]')")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if skip is not None:
                item.add_marker(skip)


@dataclass
class UiServer:
    """The real app on a fixed port that a test can stop and start again (same Redis, same database)."""

    runtime: Runtime
    port: int
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server, self.task, _ = await start_server(self.runtime, port=self.port)

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            await stop_server(self.server, self.task)
        self.server = self.task = None

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)

    def user(self, role: Role, *, teams: list[str] | None = None) -> tuple[str, str]:
        """A new user of ``role``; returns (username, password) for the login page."""
        name = f"{role.value}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        with session_scope(self.runtime.db) as session:
            auth.create_user(session, name, password, role, teams=teams, now=datetime.now(UTC))
        return name, password

    def token(self, kind: TokenKind, *, name: str = "wall") -> str:
        with session_scope(self.runtime.db) as session:
            return auth.issue_token(
                session, kind=kind, secret=self.runtime.secret, now=datetime.now(UTC), ttl=None, name=name
            )

    async def login(self, username: str, password: str) -> str:
        async with self.client() as client:
            response = await client.post("/api/auth/token", json={"username": username, "password": password})
            response.raise_for_status()
            return str(response.json()["access_token"])

    async def sign_in(
        self, page: Any, path: str, role: Role, *, teams: list[str] | None = None
    ) -> tuple[str, str]:
        """Open ``path`` as nobody, get sent to the login page, sign in as a new user and come back."""
        username, password = self.user(role, teams=teams)
        await page.goto(self.url + path)
        await page.wait_for_url("**/login.html**")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_url(self.url + path)
        await page.wait_for_selector("#connection[data-status=live]")
        return username, password

    async def ingest(self, readings: list[Any]) -> None:
        """Post readings (domain objects or dicts) through the public ingest API."""
        token = self.token(TokenKind.INGEST, name="ui-test-feed")
        body = [r.model_dump(mode="json") if hasattr(r, "model_dump") else r for r in readings]
        async with self.client(token) as client:
            response = await client.post("/api/ingest/readings", json=body)
            assert response.status_code == 202, response.text


@pytest.fixture
async def ui_server(runtime: Runtime) -> AsyncIterator[UiServer]:
    server = UiServer(runtime, free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def browser(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Headless chromium; when the test fails, every open page is saved to test-artifacts/failures."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            if request.node.stash.get(FAILED, False):
                await _save_pages(chromium, request.node.name)
            await chromium.close()


async def _save_pages(chromium: Any, test_name: str) -> None:
    folder = ARTIFACTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in test_name)
    pages = [page for context in chromium.contexts for page in context.pages]
    for n, page in enumerate(pages):
        await page.screenshot(path=str(folder / f"{safe}-{n}.png"))
        state = await page.evaluate(
            "window.hv ? JSON.stringify({status: window.hv.connection.status,"
            " cursor: window.hv.connection.cursor, starts: window.hv.connection.starts}) : 'no hv'"
        )
        (folder / f"{safe}-{n}.txt").write_text(f"{page.url}\n{state}\n")


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
