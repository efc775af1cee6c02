"""/readyz says what is wrong (backlog, database), /healthz stays up, and every answer has a request id."""

from __future__ import annotations

import io
import json
import logging

from hypervision import bus
from hypervision.db import make_engine
from hypervision.domain import Reading
from hypervision.logs import JsonFormatter, correlation_id
from tests.support import LiveServer, reading, start_server, stop_server


async def test_ready_when_redis_and_database_answer(live: LiveServer):
    async with live.client() as http:
        resp = await http.get("/readyz")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "ready", "checks": {"redis": "ok", "backlog": "ok", "database": "ok"}}


async def test_not_ready_when_readings_pile_up_without_a_worker(runtime, redis):
    runtime.settings.ready_max_lag = 5
    server, task, host = await start_server(runtime, run_worker=False)
    try:
        live = LiveServer(f"http://{host}", "", runtime, server)
        await runtime.ingestor.accept([Reading.model_validate(reading(value=float(i))) for i in range(3)])
        async with live.client() as http:
            assert (await http.get("/readyz")).status_code == 200
            await runtime.ingestor.accept([Reading.model_validate(reading(value=float(i))) for i in range(3)])
            resp = await http.get("/readyz")
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await stop_server(server, task)
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "not ready"
    assert body["checks"]["redis"] == "ok" and body["checks"]["database"] == "ok"
    assert "6 readings wait" in body["checks"]["backlog"]
    assert await redis.xlen(bus.readings_stream(0)) + await redis.xlen(bus.readings_stream(1)) == 6


async def test_not_ready_when_the_database_is_gone(runtime, redis):
    server, task, host = await start_server(runtime, run_worker=False)
    try:
        live = LiveServer(f"http://{host}", "", runtime, server)
        original = runtime.db.url
        runtime.db = make_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none")
        async with live.client() as http:
            resp = await http.get("/readyz")
        runtime.db = make_engine(original.render_as_string(hide_password=False))
    finally:
        await stop_server(server, task)
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"].startswith("error: OperationalError")


async def test_request_id_is_echoed_or_made_and_reaches_the_logs(live: LiveServer):
    async with live.client() as http:
        given = await http.get("/healthz", headers={"X-Request-ID": "ticket-42"})
        made = await http.get("/healthz")
        forged = await http.get("/healthz", headers={"X-Request-ID": "bad id level=error"})
        huge = await http.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert given.headers["x-request-id"] == "ticket-42"
    assert len(made.headers["x-request-id"]) == 16
    assert forged.headers["x-request-id"] != "bad id level=error"
    assert len(huge.headers["x-request-id"]) == 16

    token = correlation_id.set("ticket-42")
    try:
        record = logging.LogRecord("hv", logging.INFO, __file__, 1, "ingested %d", (3,), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert line["correlation_id"] == "ticket-42" and line["msg"] == "ingested 3"


async def test_access_lines_carry_the_request_id_and_never_the_query_string(live: LiveServer):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("hypervision.access")
    previous = access.level
    access.addHandler(handler)
    access.setLevel(logging.DEBUG)
    try:
        async with live.client() as http:
            await http.get("/healthz", params={"token": "s3cret-token"}, headers={"X-Request-ID": "req-7"})
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["msg"].split()[:3], line["correlation_id"]) for line in lines] == [
        (["GET", "/healthz", "200"], "req-7")
    ]
    assert "s3cret" not in stream.getvalue()
