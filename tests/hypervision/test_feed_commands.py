"""`hypervision simulate`, `poll` and `sources check` as an operator runs them: real processes, real TCP."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from redis.asyncio import Redis

from hypervision import bus
from tests.support import eventually, free_port

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypervision", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_sources_check_accepts_the_shipped_file_and_names_what_is_wrong(tmp_path: Path):
    ok = _run("sources", "check", str(ROOT / "ops/sources.yaml"))
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "sources.yaml"
    broken.write_text("sources:\n- id: air:x\n  kind: openaq\n  url: http://x\n  interval_s: -5\n")
    bad = _run("sources", "check", str(broken))
    assert bad.returncode == 1
    assert "interval_s" in bad.stderr and "air:x" in bad.stderr


async def test_simulate_then_poll_brings_every_feed_onto_the_bus(
    tmp_path: Path, redis: Redis, redis_url: str
):
    port, ami_port = free_port(), free_port()
    sources = tmp_path / "sources.yaml"
    sources.write_text((ROOT / "ops/sources.yaml").read_text().replace("simulator:8001", f"127.0.0.1:{port}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HV_")}
    env.update(
        HV_REDIS_URL=redis_url,
        HV_DATA_DIR=str(tmp_path / "var"),
        HV_SOURCES_FILE=str(sources),
        HV_READING_SHARDS="1",
    )
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypervision",
            "simulate",
            "--port",
            str(port),
            "--ami-port",
            str(ami_port),
            "--scenario",
            "pollution-peak",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    poller = None
    try:

        async def feed_answers() -> bool:
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(f"http://127.0.0.1:{port}/atmo/indice.geojson")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(feed_answers, timeout=30)
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", ami_port), 10)
        assert (await asyncio.wait_for(reader.readline(), 10)).startswith(b"Asterisk Call Manager")
        writer.close()

        poller = subprocess.Popen([sys.executable, "-m", "hypervision", "poll"], env=env)

        async def sources_on_bus() -> set[str]:
            entries = await redis.xrange(bus.readings_stream(0))
            found = {bus.decode_reading(f[bus.READING_FIELD]).source.split(":")[0] for _, f in entries}
            return (
                found if {"air", "pollen", "lighting", "waste", "mask_drive", "hospital"} <= found else set()
            )

        assert await eventually(sources_on_bus, timeout=40)

        async def most_sources_polled() -> bool:
            return int(await redis.hlen(bus.SOURCES_HEALTH_KEY)) >= 10

        assert await eventually(most_sources_polled, timeout=60)
    finally:
        for proc in (poller, simulator):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    assert poller is not None and poller.returncode == 0
