"""/metrics of a live app, parsed with prometheus-client's own parser (and promtool when installed)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from hypervision import bus, metrics
from hypervision.models.user import Role
from tests.support import LiveServer, eventually, free_port, reading, start_server, stop_server


def _families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict[str, Any], name: str, **labels: str) -> float:
    total = 0.0
    for sample in families[name].samples if name in families else []:
        if sample.name in (name, f"{name}_total") and all(
            sample.labels.get(k) == v for k, v in labels.items()
        ):
            total += sample.value
    return total


def _sample(families: dict[str, Any], family: str, sample_name: str) -> float:
    return sum(s.value for s in families[family].samples if s.name == sample_name)


async def test_metrics_after_readings_have_every_family_with_plausible_values(live: LiveServer, make_token):
    admin = make_token(Role.ADMIN)
    async with live.client() as anonymous:
        before = _families((await anonymous.get("/metrics")).text)
    ingested_before = _value(before, "hypervision_readings_ingested", source_kind="push", domain="air")
    processed_before = _value(before, "hypervision_readings_processed")

    items = [reading(source=f"air:station:M{i}", metric="no2", value=450.0) for i in range(3)]
    items.append({"source": "air:station:BAD", "domain": "air"})  # refused: no metric, value, time
    async with live.client(admin) as http:
        resp = await http.post("/api/ingest/readings", json=items)
        assert resp.json()["accepted"] == 3, resp.text
        assert len(resp.json()["rejected"]) == 1

    async def scrape() -> dict[str, Any] | None:
        async with live.client() as anonymous:
            resp = await anonymous.get("/metrics")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/plain")
        fams = _families(resp.text)
        done = _value(fams, "hypervision_readings_processed") - processed_before >= 3 and all(
            _value(fams, "hypervision_consumer_pending", stream=bus.readings_stream(s)) == 0
            for s in range(live.runtime.settings.reading_shards)
        )
        firing = _value(fams, "hypervision_alerts", state="firing")
        return fams if done and firing >= 3 else None

    fams = await eventually(scrape, timeout=15)
    assert (
        _value(fams, "hypervision_readings_ingested", source_kind="push", domain="air") - ingested_before == 3
    )
    assert _value(fams, "hypervision_readings_rejected", source_kind="push") >= 1
    # Every reading was handled: nothing waits on any shard, and the streams hold what was posted.
    shards = [bus.readings_stream(s) for s in range(live.runtime.settings.reading_shards)]
    assert sum(_value(fams, "hypervision_stream_length", stream=s) for s in shards) >= 3
    assert [_value(fams, "hypervision_consumer_lag", stream=s) for s in shards] == [0] * len(shards), fams[
        "hypervision_consumer_lag"
    ]
    assert all(_value(fams, "hypervision_consumer_pending", stream=s) == 0 for s in shards)
    assert _value(fams, "hypervision_stream_length", stream=bus.EVENTS_STREAM) >= 4
    assert _value(fams, "hypervision_stream_length", stream=bus.DEADLETTER_STREAM) >= 1
    # Three sources over the no2 threshold: three open alerts, all firing.
    assert sum(s.value for s in fams["hypervision_alerts"].samples if s.labels["state"] == "firing") == 3
    assert (
        _sample(fams, "hypervision_rule_evaluation_seconds", "hypervision_rule_evaluation_seconds_count") >= 1
    )
    commit_count = _sample(
        fams, "hypervision_reading_commit_seconds", "hypervision_reading_commit_seconds_count"
    )
    assert commit_count >= 3
    commit_sum = _sample(fams, "hypervision_reading_commit_seconds", "hypervision_reading_commit_seconds_sum")
    assert 0 <= commit_sum / commit_count < 10, "bus-to-commit latency is implausible"
    for name in (
        "hypervision_adapter_fetch_seconds",
        "hypervision_adapter_failures",
        "hypervision_tasks",
        "hypervision_ws_clients",
        "hypervision_reading_to_screen_seconds",
        "hypervision_alert_moves",
    ):
        assert name in fams, f"{name} is not exposed"
    assert _value(fams, "hypervision_alert_moves", event="fire") >= 3


async def test_metrics_token_when_configured(runtime, redis):
    runtime.settings.metrics_token = SecretStr("scrape-secret")
    server, task, host = await start_server(runtime, run_worker=False)
    try:
        live = LiveServer(f"http://{host}", "", runtime, server)
        async with live.client() as anonymous:
            assert (await anonymous.get("/metrics")).status_code == 401
        async with live.client("wrong") as wrong:
            assert (await wrong.get("/metrics")).status_code == 401
        async with live.client("scrape-secret") as prometheus:
            resp = await prometheus.get("/metrics")
            assert resp.status_code == 200
            assert "hypervision_stream_length" in _families(resp.text)
    finally:
        await stop_server(server, task)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian's prometheus package (promtool) absent")
async def test_exposition_passes_promtool_lint(live: LiveServer):
    async with live.client() as anonymous:
        text = (await anonymous.get("/metrics")).text
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30
    )
    # promtool exits 1 on lint *warnings* too; what must not appear is an error about our names.
    report = (result.stdout + result.stderr).decode()
    bad = [line for line in report.splitlines() if "hypervision_" in line and "error" in line.lower()]
    assert not bad, report


async def test_open_tasks_are_counted_by_state_and_team(live: LiveServer, make_token):
    manager = make_token(Role.MANAGER)
    async with live.client(manager) as http:
        for team, title in (("helpline", "Rappeler"), ("helpline", "Renfort"), ("lighting", "Armoire C")):
            resp = await http.post("/api/tasks", json={"team": team, "title": title})
            assert resp.status_code == 201, resp.text
    async with live.client() as anonymous:
        fams = _families((await anonymous.get("/metrics")).text)
    assert _value(fams, "hypervision_tasks", state="open", team="helpline") == 2
    assert _value(fams, "hypervision_tasks", state="open", team="lighting") == 1


async def test_a_process_without_api_serves_its_metrics_on_its_own_port():
    assert metrics.start_metrics_server(None) is None
    port = free_port()
    server = metrics.start_metrics_server(port)
    assert server is not None
    try:
        async with httpx.AsyncClient() as http:
            resp = await http.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert resp.status_code == 200
        assert "hypervision_readings_processed" in _families(resp.text)
    finally:
        server.shutdown()
        server.server_close()
