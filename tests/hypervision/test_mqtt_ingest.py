"""ChirpStack uplinks through a real Mosquitto broker; skipped with a reason when none answers."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from adapters.lorawan.device import DeviceEntry
from hypervision import bus, devices
from hypervision.db import session_scope
from hypervision.mqtt_ingest import MqttConfig, MqttIngest, topic_dev_eui
from hypervision.runtime import Runtime
from tests.support import eventually, free_port

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lorawan"
BROKER = ("127.0.0.1", 1883)
EM310 = bytes([0x01, 0x75, 0x5C, 0x03, 0x82, 0x44, 0x08, 0x04, 0x00, 0x01])


def broker_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(
    not broker_answers(*BROKER), reason="no MQTT broker answers on 127.0.0.1:1883"
)


def body(dev_eui: str = "0101010101010101", payload: bytes = EM310) -> bytes:
    doc = json.loads((FIXTURES / "chirpstack_v4_up.json").read_text())
    doc["deviceInfo"]["devEui"] = dev_eui
    doc["data"] = base64.b64encode(payload).decode()
    return json.dumps(doc).encode()


def register(runtime: Runtime) -> None:
    entry = DeviceEntry(
        dev_eui="0101010101010101", source="waste:bin:mqtt-1", domain="waste",
        decoder="milesight-em310-udl", options={"bin_depth_mm": 2500},
    )  # fmt: skip
    with session_scope(runtime.db) as session:
        devices.add_device(session, entry, now=datetime.now(UTC))


async def readings(runtime: Runtime) -> list[dict[str, Any]]:
    out = []
    for shard in range(runtime.settings.reading_shards):
        for _id, fields in await runtime.redis.xrange(bus.readings_stream(shard)):
            out.append(json.loads(fields[bus.READING_FIELD]))
    return out


async def publish(port: int, topic: str, payload: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish(topic, payload, qos=1)


def test_topic_names_the_device() -> None:
    assert topic_dev_eui("application/42/device/0101010101010101/event/up") == "0101010101010101"
    assert topic_dev_eui("gateway/0016c001f153a14c/event/up") is None


@needs_broker
async def test_uplinks_through_the_broker_become_readings_and_refusals_dead_letters(runtime: Runtime) -> None:
    register(runtime)
    app = uuid.uuid4().hex  # our own application id: other publishers on the broker stay out
    ingest = MqttIngest(runtime, MqttConfig(port=BROKER[1], topic=f"application/{app}/device/+/event/up"))
    task = asyncio.create_task(ingest.run())
    try:
        await asyncio.wait_for(ingest.subscribed.wait(), 10)
        await publish(BROKER[1], f"application/{app}/device/0101010101010101/event/up", body())
        got = await eventually(lambda: readings(runtime))
        values = {r["metric"]: r["value"] for r in got}
        assert values["fillingLevel"] == pytest.approx(0.1536)
        assert {r["source"] for r in got} == {"waste:bin:mqtt-1"}

        await publish(BROKER[1], f"application/{app}/device/0202020202020202/event/up", body())
        await publish(BROKER[1], f"application/{app}/device/0101010101010101/event/up", b'{"deviceInfo": }')
        await publish(
            BROKER[1], f"application/{app}/device/0303030303030303/event/up", body("0303030303030303")
        )
        letters = await eventually(lambda: _at_least(runtime, 3))
        reasons = [f[b"reason"].decode() for f in letters]
        assert any("topic names device 0202020202020202" in r for r in reasons)
        assert any("invalid JSON" in r and "line 1 column 16" in r for r in reasons)
        assert any("unknown devEui 0303030303030303" in r for r in reasons)
        assert len(await readings(runtime)) == len(got)
    finally:
        task.cancel()


async def _letters(runtime: Runtime) -> list[dict[bytes, bytes]]:
    return [fields for _id, fields in await runtime.redis.xrange(bus.DEADLETTER_STREAM)]


async def _at_least(runtime: Runtime, n: int) -> list[dict[bytes, bytes]] | None:
    letters = await _letters(runtime)
    return letters if len(letters) >= n else None


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[int, Any]]:
    """A Mosquitto of our own on a free port, so the test may stop and restart it."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.skip("mosquitto is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL))

    def stop() -> None:
        procs[-1].terminate()
        procs[-1].wait(5)

    start()
    yield port, (start, stop)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(5)


async def test_broker_restart_is_survived_with_backoff(runtime: Runtime, own_broker) -> None:
    port, (start, stop) = own_broker
    register(runtime)
    await eventually(lambda: broker_answers("127.0.0.1", port))
    config = MqttConfig(port=port, backoff_initial_s=0.05, backoff_max_s=0.2)
    ingest = MqttIngest(runtime, config)
    task = asyncio.create_task(ingest.run())
    try:
        await asyncio.wait_for(ingest.subscribed.wait(), 10)
        stop()
        await eventually(lambda: ingest.health.consecutive_failures >= 2)
        assert "127.0.0.1" in (ingest.health.last_error or "")
        start()
        await eventually(lambda: ingest.subscribed.is_set() and ingest.health.consecutive_failures == 0)
        await publish(port, "application/1/device/0101010101010101/event/up", body())
        got = await eventually(lambda: readings(runtime))
        assert {r["source"] for r in got} == {"waste:bin:mqtt-1"}
    finally:
        task.cancel()
