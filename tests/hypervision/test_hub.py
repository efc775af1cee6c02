"""The hub on real Redis without sockets: held events at subscription, coalescing order, overflow."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from hypervision import bus
from hypervision.coalesce import Coalescer
from hypervision.config import Settings
from hypervision.events import Event, Snapshot
from hypervision.hub import Hub, Subscriber
from tests.hypervision.wskit import metric
from tests.support import eventually


async def publish_alert(redis: Redis, n: int) -> str:
    fields: Any = Event("alert.changed", "alerts", {"n": n}).fields()
    entry_id: Any = await redis.xadd(bus.EVENTS_STREAM, fields)
    return str(entry_id.decode())


async def publish_delta(redis: Redis, values: dict[str, float], domain: str = "air") -> str:
    readings = [{"key": k, "domain": domain, "value": v} for k, v in values.items()]
    fields: Any = Event("picture.delta", f"picture:{domain}", {"readings": readings}).fields()
    entry_id: Any = await redis.xadd(bus.EVENTS_STREAM, fields)
    return str(entry_id.decode())


def frames(sub: Subscriber) -> list[dict[str, Any]]:
    out = [json.loads(f.text) for f in sub.frames]
    sub.frames.clear()
    return out


class SlowHub(Hub):
    """A hub whose snapshot or replay read is followed by events the reader sees before go-live."""

    def __init__(self, redis: Redis, settings: Settings, late: list[int]) -> None:
        super().__init__(redis, settings, block_ms=50)
        self.late = late

    async def _arrive_late(self) -> None:
        last = ""
        for n in self.late:
            last = await publish_alert(self.redis, n)
        await eventually(lambda: self.position == last, timeout=5, interval=0.005)

    async def _snapshot(self) -> Snapshot:
        snapshot = await super()._snapshot()
        await self._arrive_late()
        return snapshot

    async def _replay_units(self, since: str) -> Any:
        result = await super()._replay_units(since)
        await self._arrive_late()
        return result


async def run(hub: Hub) -> asyncio.Task[None]:
    task = asyncio.create_task(hub.run(asyncio.Event()))
    await hub._ready.wait()
    return task


@pytest.mark.parametrize("since_first", [False, True], ids=["snapshot", "replay"])
async def test_events_read_while_a_subscription_starts_are_held_not_lost(redis: Redis, since_first: bool):
    settings = Settings(hub_tick_ms=0)
    first = await publish_alert(redis, 0)
    hub = SlowHub(redis, settings, late=[2, 3])
    task = await run(hub)
    try:
        await publish_alert(redis, 1)
        await eventually(lambda: hub.position != first, timeout=5, interval=0.005)
        sub = hub.new_subscriber()
        await hub.subscribe(sub, ["alerts"], first if since_first else None)
        got = frames(sub)
        if since_first:
            assert got[0]["type"] == "replay"
            assert [f["data"]["n"] for f in got[1:]] == [1, 2, 3]
        else:
            assert got[0]["type"] == "snapshot"
            assert [f["data"]["n"] for f in got[1:]] == [2, 3]
        await publish_alert(redis, 4)
        await eventually(lambda: sub.frames, timeout=5, interval=0.005)
        assert [f["data"]["n"] for f in frames(sub)] == [4]
    finally:
        task.cancel()


async def test_picture_deltas_merge_per_tick_and_go_out_before_a_later_alert(redis: Redis):
    hub = Hub(redis, Settings(hub_tick_ms=300), block_ms=50)
    task = await run(hub)
    try:
        sub = hub.new_subscriber()
        await hub.subscribe(sub, ["picture", "alerts"], None)
        assert frames(sub)[0]["type"] == "snapshot"
        c1 = await publish_delta(redis, {"a": 1.0, "b": 1.0})
        c2 = await publish_delta(redis, {"a": 2.0}, domain="water")
        c3 = await publish_delta(redis, {"a": 3.0})
        alert = await publish_alert(redis, 9)
        await eventually(lambda: len(sub.frames) >= 2, timeout=5, interval=0.005)
        merged, immediate = frames(sub)
        assert merged["event"] == "picture.delta" and merged["merged"] == 3
        assert merged["cursor"] == c3 and merged["topic"] == "picture"
        assert {r["key"]: r["value"] for r in merged["data"]["readings"]} == {"a": 3.0, "b": 1.0}
        assert (immediate["event"], immediate["cursor"]) == ("alert.changed", alert)
        assert bus.stream_id_tuple(c1) < bus.stream_id_tuple(c2) < bus.stream_id_tuple(alert)
        # Without an alert to push them out, deltas wait for the tick, then go as one frame.
        c4 = await publish_delta(redis, {"b": 4.0})
        await asyncio.sleep(0.1)
        assert not sub.frames
        await eventually(lambda: sub.frames, timeout=5, interval=0.01)
        (ticked,) = frames(sub)
        assert ticked["cursor"] == c4 and "merged" not in ticked and ticked["topic"] == "picture:air"
    finally:
        task.cancel()


def test_a_client_that_joined_mid_unit_gets_only_what_follows_its_cursor():
    coalescer = Coalescer(merge=True)
    cursors = [f"100-{i}" for i in range(3)]
    for i, cursor in enumerate(cursors):
        event = Event("picture.delta", "picture:air", {"readings": [{"key": f"k{i}", "value": i}]})
        assert coalescer.add(cursor, event) == []
    (unit,) = coalescer.flush()
    whole = unit.frame_for(frozenset({"picture"}), (0, 0))
    assert whole is not None and unit.frame_for(frozenset({"picture"}), (0, 0)) is whole  # encoded once
    part = unit.frame_for(frozenset({"picture"}), (100, 1))
    assert part is not None
    assert [r["key"] for r in json.loads(part.text)["data"]["readings"]] == ["k2"]
    assert unit.frame_for(frozenset({"picture:water"}), (0, 0)) is None
    assert unit.frame_for(frozenset({"alerts"}), (0, 0)) is None


async def test_an_overflowing_client_is_emptied_and_marked_for_resync(redis: Redis):
    hub = Hub(redis, Settings(hub_tick_ms=0, hub_queue_max=5), block_ms=50)
    task = await run(hub)
    try:
        slow, fast = hub.new_subscriber(), hub.new_subscriber()
        await hub.subscribe(slow, ["alerts"], None)
        await hub.subscribe(fast, ["alerts"], None)
        before = metric("hypervision_ws_queue_overflows_total")
        last = ""
        for n in range(8):
            last = await publish_alert(redis, n)
            await eventually(lambda: hub.position == last, timeout=5, interval=0.005)  # noqa: B023
            if fast.frames:
                frames(fast)  # the fast one keeps up
        assert slow.needs_resync and not slow.live and not slow.frames
        assert not fast.needs_resync
        assert metric("hypervision_ws_queue_overflows_total") == before + 1
        await hub.subscribe(slow, slow.topics, None, resync="overflow")
        (snapshot,) = frames(slow)
        assert snapshot["resync"] is True and snapshot["cursor"] == last
        assert snapshot["reason"].startswith("send queue overflow")
    finally:
        task.cancel()
