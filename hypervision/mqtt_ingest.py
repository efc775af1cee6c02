"""ChirpStack uplinks over MQTT (`application/+/device/+/event/up`); reconnects to the broker with backoff."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiomqtt
from pydantic import SecretStr

from adapters import chirpstack
from adapters.errors import AdapterError
from adapters.link_health import SourceHealth, backoff_delay
from hypervision.runtime import Runtime
from hypervision.uplinks import Outcome, handle_uplink

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "application/+/device/+/event/up"


@dataclass(frozen=True)
class MqttConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    topic: str = DEFAULT_TOPIC
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = None
    source: str = "lorawan:mqtt"
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0


def topic_dev_eui(topic: str) -> str | None:
    """The DevEUI a ChirpStack topic names (`application/{app}/device/{devEui}/event/up`)."""
    parts = topic.split("/")
    if len(parts) == 6 and parts[0] == "application" and parts[2] == "device" and parts[4] == "event":
        return parts[3].lower()
    return None


class MqttIngest:
    """Subscribes, hands every uplink to the same path as the HTTP integration, and never gives up."""

    def __init__(self, runtime: Runtime, config: MqttConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.health = SourceHealth(source=config.source)
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        cfg = self.config
        while True:
            try:
                async with aiomqtt.Client(
                    cfg.host,
                    cfg.port,
                    username=cfg.username,
                    password=cfg.password.get_secret_value() if cfg.password else None,
                    identifier=cfg.client_id,
                    timeout=10,
                ) as client:
                    await client.subscribe(cfg.topic, qos=1)
                    self.health.succeeded(at=self.runtime.clock(), log=log)
                    self.subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        raw = payload if isinstance(payload, bytes) else str(payload).encode()
                        try:
                            await self.handle(message.topic.value, raw)
                        except Exception:  # top-level loop: one bad message must not stop the feed
                            log.exception("%s: could not ingest a message", cfg.source)
            except aiomqtt.MqttError as err:
                self.subscribed.clear()
                self.health.failed(
                    f"MQTT broker {cfg.host}:{cfg.port}: {err}", at=self.runtime.clock(), log=log
                )
                await asyncio.sleep(
                    backoff_delay(
                        self.health.consecutive_failures,
                        initial=cfg.backoff_initial_s,
                        maximum=cfg.backoff_max_s,
                        jitter=0.2,
                    )
                )

    async def handle(self, topic: str, raw: bytes) -> Outcome | None:
        """One message; nobody can be answered with a 400 here, so refusals go to the dead letters."""
        now = self.runtime.clock()
        try:
            uplink = chirpstack.parse_up(raw)
        except AdapterError as err:
            await self.runtime.ingestor.reject(
                source=f"{self.config.source}:{topic[:120]}", reason=err.describe(), raw=raw, at=now
            )
            return None
        named = topic_dev_eui(topic)
        if named is not None and named != uplink.dev_eui:
            reason = f"topic names device {named} but the event is from {uplink.dev_eui}"
            await self.runtime.ingestor.reject(
                source=f"{self.config.source}:{named}", reason=reason, raw=raw, at=now
            )
            return None
        return await handle_uplink(self.runtime, uplink, raw, received_at=now)
