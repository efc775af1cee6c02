"""End to end on real Redis and a real database: ingest -> stream -> worker -> picture, alerts -> /ws."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from sqlmodel import Session, select

from hypervision import bus
from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.user import Role
from tests.support import LiveServer, eventually, reading


async def _recv_until(ws: Any, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return frame

    return await asyncio.wait_for(loop(), timeout)


async def test_reading_reaches_picture_and_threshold_alert_reaches_the_screen(live: LiveServer, make_token):
    viewer = make_token(Role.OPERATOR)
    feeder = make_token(Role.INGEST, source="air:station:FR-TEST-01")
    async with websockets.connect(f"{live.ws_url}?token={viewer}") as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and hello["role"] == "operator"
        await ws.send(json.dumps({"type": "subscribe", "topics": ["picture", "alerts"]}))
        snapshot = await _recv_until(ws, lambda f: f["type"] == "snapshot")
        assert snapshot["state"]["alerts"] == []

        async with live.client(feeder) as http:
            resp = await http.post("/api/ingest/readings", json=[reading(metric="no2", value=450.0)])
            assert resp.status_code == 202, resp.text
            assert resp.json()["accepted"] == 1

        delta = await _recv_until(ws, lambda f: f["type"] == "event" and f["event"] == "picture.delta")
        assert delta["topic"] == "picture:air"
        assert delta["data"]["readings"][0]["value"] == 450.0
        alert = await _recv_until(ws, lambda f: f["type"] == "event" and f["event"] == "alert.changed")
        assert alert["data"]["rule_id"] == "air.no2.hourly"
        assert alert["data"]["state"] == "firing"
        assert alert["data"]["source"] == "air:station:FR-TEST-01"
        assert bus.stream_id_tuple(alert["cursor"]) > bus.stream_id_tuple(delta["cursor"])

    async with live.client(viewer) as http:
        picture = (await http.get("/api/picture")).json()
        air = [r for r in picture["readings"]["air"] if r["metric"] == "no2"]
        assert air and air[0]["value"] == 450.0
        assert picture["domains"]["air"]["status"] in ("warning", "critical")
        alerts = (await http.get("/api/alerts")).json()
        assert [a["rule_id"] for a in alerts] == ["air.no2.hourly"]
        history = (await http.get(f"/api/alerts/{alerts[0]['id']}/history")).json()
        assert history[0]["to_state"] == "firing" and history[0]["actor"] == "rule:air.no2.hourly"

    with Session(live.runtime.db) as session:
        assert len(session.exec(select(Alert)).all()) == 1
        assert len(session.exec(select(AlertHistory)).all()) == 1


async def test_a_late_reading_does_not_replace_a_newer_one(live: LiveServer, make_token):
    feeder = make_token(Role.ADMIN)
    async with live.client(feeder) as http:
        newer = reading(value=30.0, observed_at="2026-11-30T10:00:00+01:00")
        older = reading(value=99.0, observed_at="2026-11-30T09:00:00+01:00")
        assert (await http.post("/api/ingest/readings", json=[newer])).status_code == 202
        await eventually(lambda: live.runtime.redis.hget(bus.PICTURE_KEY, "air:station:FR-TEST-01|pm10"))
        assert (await http.post("/api/ingest/readings", json=[older])).status_code == 202
        marker = reading(source="air:station:MARKER", value=1.0)
        assert (await http.post("/api/ingest/readings", json=[marker])).status_code == 202
        await eventually(lambda: live.runtime.redis.hget(bus.PICTURE_KEY, "air:station:MARKER|pm10"))
        stored = json.loads(await live.runtime.redis.hget(bus.PICTURE_KEY, "air:station:FR-TEST-01|pm10"))
        assert stored["value"] == 30.0
