"""POST /api/ingest/readings: valid items accepted, invalid ones named and dead-lettered, limits enforced."""

from __future__ import annotations

from hypervision import bus
from hypervision.models.user import Role
from tests.support import LiveServer, eventually, reading


async def test_invalid_items_are_named_and_dead_lettered_while_valid_ones_flow(live: LiveServer, make_token):
    token = make_token(Role.INGEST, source="air:station:FR-TEST-01")
    items = [
        reading(value=12.0),
        reading(domain="weather"),
        reading(observed_at="2026-11-30T09:00:00"),
        reading(value="NaN" * 30),
        reading(value=13.0, metric="pm25"),
    ]
    async with live.client(token) as http:
        resp = await http.post("/api/ingest/readings", json=items)
    assert resp.status_code == 422
    body = resp.json()
    assert body["accepted"] == 2
    rejected = {r["index"]: r for r in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3]
    assert rejected[1]["field"] == "domain"
    assert rejected[2]["field"] == "observed_at" and "timezone" in rejected[2]["reason"].lower()
    assert rejected[3]["field"].startswith("value")

    dead = await live.runtime.redis.xrange(bus.DEADLETTER_STREAM)
    assert len(dead) == 3
    assert all(fields[b"source"] == b"air:station:FR-TEST-01" for _, fields in dead)
    assert b"weather" in dead[0][1][b"raw"] and b"item 1: domain" in dead[0][1][b"reason"]

    picture = await eventually(lambda: _two_series(live))
    assert picture == {b"air:station:FR-TEST-01|pm10", b"air:station:FR-TEST-01|pm25"}


async def _two_series(live: LiveServer) -> set[bytes] | None:
    keys = set(await live.runtime.redis.hkeys(bus.PICTURE_KEY))
    return keys if len(keys) == 2 else None


async def test_bad_requests_get_clear_errors(live: LiveServer, make_token):
    token = make_token(Role.ADMIN)
    async with live.client(token) as http:
        broken = await http.post(
            "/api/ingest/readings",
            content=b'[{"source": "a" "domain": "air"}]',
            headers={"content-type": "application/json"},
        )
        assert broken.status_code == 400
        assert "line 1 column" in broken.json()["detail"]
        not_a_list = await http.post("/api/ingest/readings", json={"source": "x"})
        assert not_a_list.status_code == 400 and "list" in not_a_list.json()["detail"]
        huge = await http.post(
            "/api/ingest/readings",
            content=b"[" + b" " * 2_000_000 + b"]",
            headers={"content-type": "application/json"},
        )
        assert huge.status_code == 413


async def test_ingest_requires_a_key_for_the_right_source(live: LiveServer, make_token):
    async with live.client() as anonymous:
        assert (await anonymous.post("/api/ingest/readings", json=[reading()])).status_code == 401
    async with live.client("not-a-token") as forged:
        assert (await forged.post("/api/ingest/readings", json=[reading()])).status_code == 401
    async with live.client(make_token(Role.OPERATOR)) as operator:
        assert (await operator.post("/api/ingest/readings", json=[reading()])).status_code == 403
    async with live.client(make_token(Role.INGEST, source="air:station:OTHER")) as other:
        resp = await other.post("/api/ingest/readings", json=[reading()])
        assert resp.status_code == 403 and "air:station:OTHER" in resp.json()["detail"]
    assert (
        await live.runtime.redis.xlen(bus.readings_stream(0))
        + await live.runtime.redis.xlen(bus.readings_stream(1))
        == 0
    )
