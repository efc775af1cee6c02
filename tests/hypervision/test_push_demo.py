"""The demo's pushed feeds reach the wall picture: the simulated PBX (AMI, queue_log) and LoRaWAN."""

from __future__ import annotations

from hypervision import bus
from hypervision.push_demo import start_push_demo
from tests.support import LiveServer, eventually


async def test_push_demo_fills_the_picture(live: LiveServer) -> None:
    demo = await start_push_demo(live.runtime, "helpline-surge", api_url=live.url, interval_s=0.2)
    try:
        redis = live.runtime.redis
        await eventually(lambda: redis.hget(bus.PICTURE_KEY, "call_line:pbx:allo-mairie|agentsLoggedIn"))
        await eventually(lambda: redis.hget(bus.PICTURE_KEY, "call_line:pbx:allo-mairie|abandonRate15m"))
        await eventually(lambda: redis.hget(bus.PICTURE_KEY, "waste:bin:PORT-12|fillingLevel"))
        await eventually(lambda: redis.hget(bus.PICTURE_KEY, "lighting:controller:TILLEULS-01|powerState"))
    finally:
        await demo.stop()
    assert all(task.done() for task in demo.tasks)
