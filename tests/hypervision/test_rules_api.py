"""Rules API: list, check, atomic reload (a bad file keeps the running rules), backtest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from hypervision import logbook
from hypervision.models.user import Role
from tests.support import LiveServer, eventually, reading

GOOD = """
rules:
  - id: test.pm10
    title: "PM10 {value} à {source}"
    select: {domain: air, metric: pm10}
    when: {op: ">", value: 50}
"""
BAD = GOOD.replace("value: 50", "value: lots")


async def test_list_and_check(live: LiveServer, make_token) -> None:
    async with live.client(make_token(Role.ADMIN)) as http:
        listed = (await http.get("/api/rules")).json()
        assert listed["count"] == len(listed["rules"]) >= 20
        assert "air.pm10.daily" in {r["id"] for r in listed["rules"]}
        schema = (await http.get("/api/rules/schema")).json()
        assert {"Rule", "Compare", "Schedule"} <= set(schema["$defs"])
        ok = await http.post("/api/rules/check", content=GOOD, headers={"content-type": "application/yaml"})
        assert ok.status_code == 200 and ok.json()["count"] == 1
        bad = await http.post("/api/rules/check", content=BAD, headers={"content-type": "application/yaml"})
        assert bad.status_code == 422
        [problem] = bad.json()["detail"]["problems"]
        assert (problem["line"], problem["rule"], problem["field"]) == (6, "test.pm10", "when")
    async with live.client(make_token(Role.SCREEN)) as screen:
        assert (await screen.get("/api/rules")).status_code == 403
    async with live.client(make_token(Role.MANAGER)) as manager:
        refused = await manager.post(
            "/api/rules/check", content=GOOD, headers={"content-type": "application/yaml"}
        )
        assert refused.status_code == 403


async def test_reload_swaps_atomically_and_refuses_a_bad_file(
    live: LiveServer, make_token, tmp_path: Path
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    runtime = live.runtime
    before = runtime.load_rule_set()  # the shipped rules, in force before the files change
    runtime.settings = runtime.settings.model_copy(update={"rules_files": [path]})
    async with live.client(make_token(Role.ADMIN)) as http:
        resp = await http.post("/api/rules/reload")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["changed"] is True and [r["id"] for r in body["rules"]] == ["test.pm10"]
        loaded = runtime.rules
        assert loaded is not None and loaded.digest == body["digest"] != before.digest

        path.write_text(BAD)
        refused = await http.post("/api/rules/reload")
        assert refused.status_code == 422
        assert refused.json()["detail"]["problems"][0]["file"] == str(path)
        assert runtime.rules is loaded  # the running rules stay

        path.write_text(GOOD)
        again = (await http.post("/api/rules/reload")).json()
        assert again["changed"] is False
    # Only the reload that changed the rule set is in the crisis logbook.
    with Session(runtime.db) as session:
        recorded = [e for e in logbook.entries(session) if e.kind == "rule"]
    assert [e.data["after"] for e in recorded] == [body["digest"]]
    assert recorded[0].data["before"] == before.digest
    async with live.client(make_token(Role.MANAGER)) as manager:
        assert (await manager.post("/api/rules/reload")).status_code == 403


async def test_backtest_inline_readings(live: LiveServer, make_token) -> None:
    t0 = datetime(2026, 11, 30, 8, tzinfo=UTC)
    readings = [
        reading(value=v, observed_at=(t0 + timedelta(minutes=10 * i)).isoformat())
        for i, v in enumerate([20, 60, 70, 30])
    ]
    async with live.client(make_token(Role.MANAGER)) as http:
        resp = await http.post("/api/rules/backtest", json={"rules": GOOD, "readings": readings})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["readings"] == 4
        assert [(c["event"], c["at"]) for c in body["changes"] if c["event"] != "update"] == [
            ("fire", (t0 + timedelta(minutes=10)).isoformat()),
            ("resolve", (t0 + timedelta(minutes=30)).isoformat()),
        ]
        assert body["changes"][0]["title"] == "PM10 60 à air:station:FR-TEST-01"
        assert body["summary"]["fired"] == {"test.pm10": 1}

        bad = await http.post("/api/rules/backtest", json={"rules": BAD, "readings": readings})
        assert bad.status_code == 422 and bad.json()["detail"]["problems"][0]["rule"] == "test.pm10"
        neither = await http.post("/api/rules/backtest", json={"rules": GOOD})
        assert neither.status_code == 422
    async with live.client(make_token(Role.OPERATOR)) as operator:
        assert (await operator.post("/api/rules/backtest", json={"readings": readings})).status_code == 403


async def test_backtest_over_the_stored_history(live: LiveServer, make_token) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    items = [
        reading(
            source="air:station:BT1", value=float(v), observed_at=(now - timedelta(minutes=5 - i)).isoformat()
        )
        for i, v in enumerate([10, 20, 90, 95, 20])
    ]
    async with live.client(make_token(Role.ADMIN)) as http:
        assert (await http.post("/api/ingest/readings", json=items)).json()["accepted"] == 5

        async def recorded() -> bool:
            resp = await http.get("/api/history", params={"series": "air:station:BT1|pm10", "hours": 1})
            return sum(p["count"] for p in resp.json()["points"]) == 5

        await eventually(recorded)
        period = {"from": (now - timedelta(minutes=10)).isoformat(), "to": now.isoformat()}
        resp = await http.post("/api/rules/backtest", json={"rules": GOOD, **period})
        assert resp.status_code == 200, resp.text
        mine = [c for c in resp.json()["changes"] if c["labels"].get("source") == "air:station:BT1"]
        assert [(c["event"], c["value"]) for c in mine] == [("fire", 90.0), ("resolve", 20.0)]
