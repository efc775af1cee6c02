"""Helpers for tests: a hand-moved clock, a live uvicorn server, reading factories, polling."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn

from hypervision.api.app import create_app
from hypervision.runtime import Runtime


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    ws_url: str
    runtime: Runtime
    server: uvicorn.Server

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)


async def start_server(
    runtime: Runtime, *, run_worker: bool = True, port: int | None = None, **app_kwargs: Any
) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = port or free_port()
    app = create_app(runtime=runtime, run_worker=run_worker, **app_kwargs)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=True)
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    return server, task, f"127.0.0.1:{port}"


async def stop_server(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    await asyncio.wait_for(task, 10)


def reading(**overrides: Any) -> dict[str, Any]:
    """A valid reading as JSON, with fields overridden."""
    base: dict[str, Any] = {
        "source": "air:station:FR-TEST-01",
        "domain": "air",
        "metric": "pm10",
        "value": 21.0,
        "unit": "µg/m³",
        "observed_at": datetime.now(UTC).isoformat(),
        "zone": "valmont-centre",
    }
    base.update(overrides)
    return base


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Wait until ``predicate()`` (sync or async) returns a truthy value; fail with a clear message."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = predicate()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value: {last!r})")
