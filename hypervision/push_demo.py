"""The demo's pushed feeds, live: a simulated PBX (AMI + queue_log) and LoRaWAN devices (HTTP + MQTT)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr

from adapters.ami_client import AmiConfig
from adapters.simulator.ami_server import HelplineSimulation
from adapters.simulator.lorawan_devices import DEMO_DEVICES
from adapters.simulator.lorawan_publisher import LorawanPublisher, PublisherConfig
from adapters.simulator.world import TZ, is_night
from hypervision import auth, devices
from hypervision.call_line import QueueLogConfig, QueueLogFeed, ami_client
from hypervision.db import session_scope
from hypervision.models.user import TokenKind
from hypervision.mqtt_ingest import MqttConfig, MqttIngest
from hypervision.runtime import Runtime
from hypervision.stopping import stop_tasks

# Not `call_line:queue`: the simulated world already publishes that source straight onto the bus.
PBX_SOURCE = "call_line:pbx"
PBX_ZONE = "valmont-centre"


@dataclass
class PushDemo:
    simulation: HelplineSimulation
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        await stop_tasks(self.tasks)
        await self.simulation.close()


def _night(now: datetime) -> bool:
    return is_night(now.astimezone(TZ))


async def start_push_demo(
    runtime: Runtime,
    scenario: str,
    *,
    api_url: str,
    mqtt: tuple[str, int] | None = None,
    interval_s: float = 10.0,
) -> PushDemo:
    """Register the demo devices, start the PBX and the publishers, and the feeds that read them."""
    now = runtime.clock()
    with session_scope(runtime.db) as session:
        devices.import_entries(session, DEMO_DEVICES, now=now)
        token = auth.issue_token(
            session,
            kind=TokenKind.INGEST,
            secret=runtime.secret,
            now=now,
            ttl=None,
            name="demo-lorawan",
            source="lorawan:simulator",
        )
    secret = secrets.token_urlsafe(16)
    queue_log = runtime.settings.data_dir / "demo_queue_log"
    queue_log.parent.mkdir(parents=True, exist_ok=True)
    sim = HelplineSimulation(
        scenario, clock=runtime.clock, username="hypervision", secret=secret, queue_log=queue_log
    )
    port = await sim.start()
    ami = ami_client(
        runtime,
        AmiConfig(
            host="127.0.0.1",
            port=port,
            username="hypervision",
            secret=SecretStr(secret),
            source_prefix=PBX_SOURCE,
            zone=PBX_ZONE,
            interval_s=interval_s / 2,
        ),
    )
    tail = QueueLogFeed(
        runtime,
        QueueLogConfig(
            path=queue_log,
            source_prefix=PBX_SOURCE,
            zone=PBX_ZONE,
            interval_s=interval_s / 2,
            queues=tuple(sim.helpline.queues),
        ),
    )
    publisher = LorawanPublisher(
        PublisherConfig(
            api_url=api_url,
            token=token,
            mqtt_host=mqtt[0] if mqtt else None,
            mqtt_port=mqtt[1] if mqtt else 1883,
            scenario=scenario,
            interval_s=interval_s,
        ),
        clock=runtime.clock,
        is_night=_night,
    )
    demo = PushDemo(sim)
    runs = [sim.run(), ami.run(), tail.run(), publisher.run()]
    if mqtt:
        runs.append(MqttIngest(runtime, MqttConfig(host=mqtt[0], port=mqtt[1])).run())
    demo.tasks = [asyncio.create_task(run) for run in runs]
    return demo
