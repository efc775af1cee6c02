"""The simulator's LoRaWAN publisher feeds the live app over HTTP and the MQTT ingest through Mosquitto."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from adapters.simulator.lorawan_devices import DEMO_DEVICES
from adapters.simulator.lorawan_publisher import LorawanPublisher, PublisherConfig
from hypervision import bus, devices
from hypervision.db import session_scope
from hypervision.models.user import Role
from hypervision.mqtt_ingest import MqttConfig, MqttIngest
from hypervision.runtime import Runtime
from tests.hypervision.test_mqtt_ingest import BROKER, needs_broker
from tests.support import LiveServer, eventually

SOURCES = {d.source for d in DEMO_DEVICES}


def register_demo(runtime: Runtime) -> None:
    with session_scope(runtime.db) as session:
        devices.import_entries(session, DEMO_DEVICES, now=datetime.now(UTC))


async def picture_sources(runtime: Runtime) -> set[str]:
    keys = await runtime.redis.hkeys(bus.PICTURE_KEY)
    return {k.decode().split("|")[0] for k in keys}


async def test_http_round_reaches_the_picture_for_every_demo_device(live: LiveServer, make_token) -> None:
    register_demo(live.runtime)
    config = PublisherConfig(api_url=live.url, token=make_token(Role.INGEST, source="lorawan:simulator"))
    publisher = LorawanPublisher(config, clock=lambda: datetime.now(UTC), is_night=lambda _now: True)
    assert await publisher.publish_once() == len(DEMO_DEVICES)
    await eventually(lambda: _has(live.runtime, SOURCES))
    key = "lighting:controller:TILLEULS-01|powerState"
    light = json.loads(await eventually(lambda: live.runtime.redis.hget(bus.PICTURE_KEY, key)))
    assert light["value"] == "on"


async def _has(runtime: Runtime, wanted: set[str]) -> bool:
    return wanted <= await picture_sources(runtime)


@needs_broker
async def test_mqtt_round_is_ingested_by_the_subscriber(runtime: Runtime) -> None:
    register_demo(runtime)
    app = uuid.uuid4().hex
    ingest = MqttIngest(runtime, MqttConfig(port=BROKER[1], topic=f"application/{app}/device/+/event/up"))
    task = asyncio.create_task(ingest.run())
    try:
        await asyncio.wait_for(ingest.subscribed.wait(), 10)
        config = PublisherConfig(mqtt_host=BROKER[0], mqtt_port=BROKER[1], application_id=app)
        publisher = LorawanPublisher(config, clock=lambda: datetime.now(UTC), is_night=lambda _now: False)
        assert await publisher.publish_once() == len(DEMO_DEVICES)

        async def sources() -> set[str]:
            found = set()
            for shard in range(runtime.settings.reading_shards):
                for _id, fields in await runtime.redis.xrange(bus.readings_stream(shard)):
                    found.add(json.loads(fields[bus.READING_FIELD])["source"])
            return found if found == SOURCES else set()

        assert await eventually(sources) == SOURCES
    finally:
        task.cancel()
