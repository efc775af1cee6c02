"""A rules reload through the API reaches a worker in another process (it follows the digest in Redis)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from hypervision.config import Settings
from hypervision.models.alert import Alert
from hypervision.models.user import Role
from hypervision.runtime import open_runtime
from hypervision.worker import Worker
from tests.support import eventually, reading, start_server, stop_server

RULES = """
rules:
  - id: no2
    title: "NO2 {value} at {source}"
    select: {domain: air, metric: no2}
    when: {op: ">", value: LIMIT}
    severity: warning
"""


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("LIMIT", "500"))
    return settings.model_copy(update={"rules_files": [rules]})


async def test_reload_reaches_a_worker_of_another_process(runtime, make_token, settings: Settings):
    server, task, host = await start_server(runtime, run_worker=False)
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        other = await open_runtime(settings, stack)  # the worker's own process: its own rules cache
        worker = Worker(
            redis=other.redis,
            db=other.db,
            settings=settings,
            rules=other.load_rule_set,
            clock=other.clock,
            name="elsewhere",
            reload_rules=other.reload_rule_set,
        )
        worker_task = asyncio.create_task(worker.run(stop))
        headers = {"authorization": f"Bearer {make_token(Role.ADMIN)}"}
        try:
            async with httpx.AsyncClient(base_url=f"http://{host}", headers=headers, timeout=10) as http:
                assert (
                    await http.post("/api/ingest/readings", json=[reading(metric="no2", value=450.0)])
                ).status_code == 202
                await asyncio.sleep(1.0)
                assert _alert_sources(runtime) == []

                settings.rules_files[0].write_text(RULES.replace("LIMIT", "400"))
                resp = await http.post("/api/rules/reload")
                assert resp.status_code == 200 and resp.json()["changed"] is True
                await eventually(
                    lambda: worker.rule_set is not None and worker.rule_set.digest == resp.json()["digest"]
                )

                late = reading(source="air:station:LATE", metric="no2", value=450.0)
                assert (await http.post("/api/ingest/readings", json=[late])).status_code == 202
                assert await eventually(lambda: _alert_sources(runtime)) == ["air:station:LATE"]
        finally:
            stop.set()
            await asyncio.wait_for(worker_task, 10)
            await stop_server(server, task)


def _alert_sources(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(runtime.db) as session:
        return [a.source for a in session.exec(select(Alert))]
