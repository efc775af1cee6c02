"""The AMI client and the simulator's AMI server talk over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from adapters.ami_client import AmiClient, AmiConfig
from adapters.link_health import backoff_delay
from adapters.queue_log import parse_line
from adapters.simulator.ami_server import AmiServer, HelplineSimulation
from adapters.simulator.helpline import Helpline, helpline_surge
from hypervision.domain import Reading

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def busy_helpline() -> Helpline:
    helpline = Helpline({"allo-mairie": 2, "urgence-sociale": 1}, rate=helpline_surge, seed=3)
    helpline.advance(900)
    return helpline


def config(port: int, secret: str = "s3cret", **extra: float) -> AmiConfig:
    return AmiConfig(
        host="127.0.0.1", port=port, username="hypervision", secret=SecretStr(secret),
        source_prefix="call_line:queue", interval_s=0.05, timeout_s=2.0,
        backoff_initial_s=0.02, backoff_max_s=0.1, **extra,
    )  # fmt: skip


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def server():
    helpline = busy_helpline()
    srv = AmiServer(helpline, username="hypervision", secret="s3cret")
    port = await srv.start()
    yield srv, port
    await srv.close()


async def test_client_polls_the_server_and_readings_match_the_helpline(server) -> None:
    srv, port = server
    client = AmiClient(config(port), sink=lambda r: asyncio.sleep(0), clock=lambda: NOW)
    await client.connect()
    try:
        readings = await client.poll_once()
    finally:
        await client.close()
    queue = srv.helpline.queues["allo-mairie"]
    assert queue.waiting, "the surge should leave callers waiting"
    values = {r.metric: r.value for r in readings if r.source == "call_line:queue:allo-mairie"}
    assert values["callersWaiting"] == len(queue.waiting)
    assert values["agentsLoggedIn"] == 2
    assert values["callsAbandoned"] == queue.abandoned
    assert values["callsCompleted"] == queue.completed
    assert values["longestHoldTime"] == int(srv.helpline.now - queue.waiting[0].entered_at)
    assert {r.source for r in readings} == {"call_line:queue:allo-mairie", "call_line:queue:urgence-sociale"}
    assert all(r.observed_at == NOW for r in readings)


async def test_no_caller_number_reaches_readings_health_or_logs(server, caplog) -> None:
    srv, port = server
    caplog.set_level(logging.DEBUG)
    secrets = [c.number for q in srv.helpline.queues.values() for c in q.waiting]
    secrets += [c.name for q in srv.helpline.queues.values() for c in q.waiting]
    assert secrets
    got: list[Reading] = []

    async def sink(readings: list[Reading]) -> None:
        got.extend(readings)

    client = AmiClient(config(port), sink=sink, clock=lambda: NOW)
    task = asyncio.create_task(client.run())
    await until(lambda: len(got) > 20)
    task.cancel()
    await client.close()
    text = "".join(r.model_dump_json() for r in got) + repr(client.health) + caplog.text
    for secret in secrets:
        assert secret not in text


async def test_wrong_secret_is_a_counted_failure_retried_with_backoff(server) -> None:
    srv, port = server
    client = AmiClient(config(port, secret="wrong"), sink=lambda r: asyncio.sleep(0), clock=lambda: NOW)
    task = asyncio.create_task(client.run())
    await until(lambda: client.health.consecutive_failures >= 3)
    task.cancel()
    await client.close()
    assert "Authentication failed" in (client.health.last_error or "")
    assert client.health.last_success is None
    assert srv.connections >= 3


async def test_client_reconnects_after_the_pbx_restarts(server) -> None:
    srv, port = server
    batches: list[list[Reading]] = []

    async def sink(readings: list[Reading]) -> None:
        batches.append(readings)

    client = AmiClient(config(port), sink=sink, clock=lambda: NOW)
    task = asyncio.create_task(client.run())
    await until(lambda: len(batches) >= 2)
    await srv.close()  # the PBX goes away...
    await until(lambda: client.health.consecutive_failures >= 2)
    before = len(batches)
    restarted = AmiServer(srv.helpline, username="hypervision", secret="s3cret")
    await restarted.start(port=port)  # ...and comes back on the same port
    try:
        await until(lambda: len(batches) > before and client.health.consecutive_failures == 0)
    finally:
        task.cancel()
        await client.close()
        await restarted.close()
    assert client.health.last_success == NOW
    assert restarted.connections == 1


async def test_replies_are_matched_when_another_actions_complete_is_interleaved(server) -> None:
    srv, port = server
    assert srv.interleave
    client = AmiClient(config(port), sink=lambda r: asyncio.sleep(0), clock=lambda: NOW)
    await client.connect()
    try:
        first, second = await client.poll_once(), await client.poll_once()
    finally:
        await client.close()
    assert [r.model_dump() for r in first] == [r.model_dump() for r in second]
    assert len({r.source for r in first}) == 2


def test_backoff_doubles_and_is_capped() -> None:
    delays = [backoff_delay(n, initial=1.0, maximum=30.0) for n in range(1, 8)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert 0.8 <= backoff_delay(1, initial=1.0, maximum=30.0, jitter=0.2) <= 1.0


async def test_helpline_simulation_follows_the_clock_and_serves_ami_and_queue_log(tmp_path) -> None:
    now = [NOW]
    sim = HelplineSimulation(
        "helpline-surge", clock=lambda: now[0], username="hv", secret="pw", queue_log=tmp_path / "queue_log"
    )
    port = await sim.start()
    try:
        now[0] += timedelta(minutes=10)
        sim.step()
        cfg = dataclasses.replace(config(port, secret="pw"), username="hv")
        client = AmiClient(cfg, sink=lambda r: asyncio.sleep(0), clock=lambda: now[0])
        await client.connect()
        readings = await client.poll_once()
        await client.close()
    finally:
        await sim.close()
    queue = sim.helpline.queues["allo-mairie"]
    values = {r.metric: r.value for r in readings}
    assert values["callersWaiting"] == len(queue.waiting)
    assert values["callsAbandoned"] == queue.abandoned
    lines = (tmp_path / "queue_log").read_text().splitlines()
    events = [e for e in map(parse_line, lines) if e is not None]
    assert sum(e.event == "ABANDON" for e in events) == queue.abandoned
    assert events[-1].at <= now[0]
