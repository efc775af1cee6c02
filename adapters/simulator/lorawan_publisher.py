"""Pushes the simulated devices' uplinks like real network servers do: ChirpStack HTTP, TTN webhook, MQTT."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiomqtt
import httpx

from adapters.lorawan.device import DeviceEntry
from adapters.simulator.lorawan_devices import DEMO_DEVICES, chirpstack_up, frame_for, mqtt_topic, ttn_uplink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublisherConfig:
    api_url: str | None = None  # e.g. http://127.0.0.1:8000: posts to /api/ingest/chirpstack and /ttn
    token: str | None = None  # an ingest key
    mqtt_host: str | None = None
    mqtt_port: int = 1883
    scenario: str = "normal-day"
    interval_s: float = 10.0
    application_id: str = "valmont-sensors"


class LorawanPublisher:
    """Each round sends one frame per device: even devices by ChirpStack HTTP, odd by TTN, all by MQTT too."""

    def __init__(
        self,
        config: PublisherConfig,
        *,
        clock: Callable[[], datetime],
        is_night: Callable[[datetime], bool],
        devices: Sequence[DeviceEntry] = DEMO_DEVICES,
    ) -> None:
        self.config = config
        self.clock = clock
        self.is_night = is_night
        self.devices = devices
        self.started = clock()
        self.f_cnt = 0

    def frames(self) -> list[tuple[DeviceEntry, bytes, datetime]]:
        now = self.clock()
        self.f_cnt += 1
        elapsed: timedelta = now - self.started
        night = self.is_night(now)
        scenario = self.config.scenario
        return [
            (d, frame_for(d, elapsed=elapsed, night=night, scenario=scenario, f_cnt=self.f_cnt), now)
            for d in self.devices
        ]

    async def publish_once(self) -> int:
        """Send one round; returns how many deliveries the receivers acknowledged."""
        frames, sent = self.frames(), 0
        cfg = self.config
        if cfg.api_url:
            headers = {"authorization": f"Bearer {cfg.token}"} if cfg.token else {}
            async with httpx.AsyncClient(base_url=cfg.api_url, headers=headers, timeout=10) as http:
                for i, (device, payload, at) in enumerate(frames):
                    if i % 2 == 0:
                        body = chirpstack_up(device, payload, at=at, f_cnt=self.f_cnt)
                        resp = await http.post("/api/ingest/chirpstack", params={"event": "up"}, json=body)
                    else:
                        resp = await http.post(
                            "/api/ingest/ttn", json=ttn_uplink(device, payload, at=at, f_cnt=self.f_cnt)
                        )
                    sent += resp.status_code == 202
        if cfg.mqtt_host:
            async with aiomqtt.Client(cfg.mqtt_host, cfg.mqtt_port) as client:
                for device, payload, at in frames:
                    body = chirpstack_up(device, payload, at=at, f_cnt=self.f_cnt)
                    await client.publish(mqtt_topic(device, cfg.application_id), json.dumps(body), qos=1)
                    sent += 1
        return sent

    async def run(self) -> None:
        while True:
            try:
                await self.publish_once()
            except (httpx.HTTPError, aiomqtt.MqttError, OSError) as err:
                log.warning("simulated LoRaWAN uplinks not delivered: %s", err)
            await asyncio.sleep(self.config.interval_s)
