"""LoRaWAN pushes over real HTTP: registered devices give readings, the rest is dead-lettered or refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.lorawan.device import DeviceEntry
from hypervision import bus, devices
from hypervision.db import session_scope
from hypervision.models.user import Role
from tests.support import LiveServer, eventually

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lorawan"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def register(live: LiveServer, **fields: Any) -> None:
    entry = DeviceEntry.model_validate(
        {"dev_eui": "0101010101010101", "source": "waste:bin:rennes-042", "domain": "waste",
         "zone": "rennes-centre", "decoder": "milesight-em310-udl", "options": {"bin_depth_mm": 2500},
         **fields}
    )  # fmt: skip
    with session_scope(live.runtime.db) as session:
        devices.add_device(session, entry, now=NOW, replace=True)


def chirpstack_body(payload: bytes | None = None, **changes: Any) -> bytes:
    doc = json.loads((FIXTURES / "chirpstack_v4_up.json").read_text())
    if payload is not None:
        doc["data"] = base64.b64encode(payload).decode()
    doc.update(changes)
    return json.dumps(doc).encode()


async def stream_readings(live: LiveServer) -> list[dict[str, Any]]:
    out = []
    for shard in range(live.runtime.settings.reading_shards):
        for _id, fields in await live.runtime.redis.xrange(bus.readings_stream(shard)):
            out.append(json.loads(fields[bus.READING_FIELD]))
    return out


async def deadletters(live: LiveServer) -> list[dict[bytes, bytes]]:
    return [fields for _id, fields in await live.runtime.redis.xrange(bus.DEADLETTER_STREAM)]


@pytest.fixture
def feeder(make_token) -> str:
    return make_token(Role.INGEST, source="lorawan:chirpstack-rennes")


async def test_chirpstack_uplink_of_a_registered_bin_reaches_the_picture(
    live: LiveServer, feeder: str
) -> None:
    register(live)
    body = chirpstack_body(bytes([0x01, 0x75, 0x5C, 0x03, 0x82, 0x44, 0x08, 0x04, 0x00, 0x01]))
    async with live.client(feeder) as http:
        resp = await http.post("/api/ingest/chirpstack?event=up", content=body)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"status": "accepted", "devEui": "0101010101010101", "readings": 6}
    stored = await eventually(
        lambda: live.runtime.redis.hget(bus.PICTURE_KEY, "waste:bin:rennes-042|fillingLevel")
    )
    reading = json.loads(stored)
    assert reading["value"] == pytest.approx(0.1536)
    assert reading["zone"] == "rennes-centre"
    assert reading["observed_at"].startswith("2022-07-18T09:34:15")


async def test_chirpstack_sample_as_published_gives_readings(live: LiveServer, feeder: str) -> None:
    register(live)
    async with live.client(feeder) as http:
        resp = await http.post(
            "/api/ingest/chirpstack?event=up", content=(FIXTURES / "chirpstack_v4_up.json").read_bytes()
        )
    assert resp.status_code == 202
    assert resp.json()["readings"] == 2
    metrics = {r["metric"]: r["value"] for r in await stream_readings(live)}
    assert metrics == {"rssi": -36.0, "snr": 10.5}


async def test_ttn_sample_for_a_registered_device_gives_readings(live: LiveServer, make_token) -> None:
    register(
        live,
        dev_eui="0004A30B001C0530",
        source="lighting:uno:1",
        domain="lighting",
        decoder="object",
        options={},
    )
    async with live.client(make_token(Role.INGEST, source="lorawan:ttn")) as http:
        resp = await http.post(
            "/api/ingest/ttn", content=(FIXTURES / "ttn_v3_uplink_message.json").read_bytes()
        )
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] == "accepted"
    metrics = {r["metric"]: r["value"] for r in await stream_readings(live)}
    assert metrics["temperature"] == 1.0
    assert metrics["luminosity"] == 0.64


async def test_upstream_ttn_example_with_its_missing_comma_gets_400_naming_the_position(
    live: LiveServer, feeder: str
) -> None:
    body = (FIXTURES / "ttn_v3_uplink_message_upstream_broken.json").read_bytes()
    async with live.client(feeder) as http:
        resp = await http.post("/api/ingest/ttn", content=body)
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert "line 79 column 5" in detail
    broken_at = body.index(b'"received_at" :')
    assert f"position {broken_at}" in detail
    assert await stream_readings(live) == []


async def test_unknown_dev_eui_is_acknowledged_and_dead_lettered_with_a_reason(
    live: LiveServer, feeder: str
) -> None:
    body = chirpstack_body()
    async with live.client(feeder) as http:
        resp = await http.post("/api/ingest/chirpstack?event=up", content=body)
    assert resp.status_code == 202
    assert resp.json()["status"] == "unknown_device"
    [letter] = await deadletters(live)
    assert letter[b"source"] == b"lorawan:chirpstack:0101010101010101"
    assert b"unknown devEui 0101010101010101" in letter[b"reason"]
    assert json.loads(letter[b"raw"])["deviceInfo"]["devEui"] == "0101010101010101"
    assert await stream_readings(live) == []


async def test_undecodable_frame_is_dead_lettered(live: LiveServer, feeder: str) -> None:
    register(live, decoder="dingtek-df703")
    async with live.client(feeder) as http:
        resp = await http.post("/api/ingest/chirpstack?event=up", content=chirpstack_body(b"\x80\x00\x01"))
    assert resp.status_code == 202
    assert resp.json()["status"] == "refused"
    [letter] = await deadletters(live)
    assert b"undecodable uplink" in letter[b"reason"]


async def test_other_chirpstack_events_are_acknowledged_and_ignored(live: LiveServer, feeder: str) -> None:
    register(live)
    async with live.client(feeder) as http:
        resp = await http.post("/api/ingest/chirpstack?event=join", content=b'{"deviceInfo": {}}')
    assert resp.status_code == 200
    assert resp.json() == {"status": "ignored", "event": "join"}
    assert await stream_readings(live) == [] and await deadletters(live) == []


async def test_a_key_of_another_integration_cannot_speak_for_the_device(live: LiveServer, make_token) -> None:
    register(live, options={"bin_depth_mm": 2500, "integration": "lorawan:chirpstack-rennes"})
    async with live.client(make_token(Role.INGEST, source="lorawan:ttn")) as http:
        resp = await http.post("/api/ingest/chirpstack?event=up", content=chirpstack_body())
    assert resp.json()["status"] == "refused"
    assert await stream_readings(live) == []


@pytest.mark.parametrize(("role", "code"), [(None, 401), (Role.OPERATOR, 403)])
async def test_pushes_need_an_ingest_key(live: LiveServer, make_token, role, code: int) -> None:
    register(live)
    async with live.client(make_token(role) if role else None) as http:
        resp = await http.post("/api/ingest/chirpstack?event=up", content=chirpstack_body())
    assert resp.status_code == code
    assert await stream_readings(live) == []
