"""`hypervision demo` from a fresh data folder: all seven domains within 30 s, live /ws, clean Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

from hypervision.domain import DOMAINS
from tests.support import free_port


def _read_banner(proc: subprocess.Popen[str], deadline: float) -> dict[str, str]:
    """The passwords the demo prints once, by user name."""
    users: dict[str, str] = {}
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.match(r"\s+(\w+)\s+(admin|manager|operator|team)\s+(\S+)$", line)
        if found:
            users[found.group(1)] = found.group(3)
        if "Press Ctrl-C" in line:
            return users
    raise AssertionError(f"the demo did not print its banner (got {users})")


def _leftover_processes(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line and "ps -eo" not in line]


async def test_demo_serves_every_domain_live_and_stops_cleanly(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HV_")}
    env["HV_DATA_DIR"] = str(tmp_path / "var")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypervision", "demo", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    started = time.monotonic()
    try:
        users = await asyncio.to_thread(_read_banner, proc, started + 60)
        assert {"admin", "manager", "operator"} <= set(users)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            login = await http.post(
                "/api/auth/token", json={"username": "operator", "password": users["operator"]}
            )
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            assert (await http.get("/api/picture")).status_code == 401
            domains_seen: set[str] = set()
            while time.monotonic() - started < 30 and domains_seen != set(DOMAINS):
                picture = (
                    await http.get("/api/picture", headers={"authorization": f"Bearer {token}"})
                ).json()
                domains_seen = {d for d, items in picture["readings"].items() if items}
                await asyncio.sleep(0.5)
            assert domains_seen == set(DOMAINS), f"missing after 30 s: {set(DOMAINS) - domains_seen}"

        async with websockets.connect(f"ws://127.0.0.1:{port}/ws?token={token}") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            await ws.send(json.dumps({"type": "subscribe", "topics": ["picture", "alerts"]}))
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert snapshot["type"] == "snapshot" and len(snapshot["state"]["picture"]) > 20
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if frame["type"] == "event":
                    assert frame["cursor"] > snapshot["cursor"]
                    break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode in (0, -signal.SIGINT, 130)
    time.sleep(0.5)
    assert _leftover_processes(tmp_path) == []
