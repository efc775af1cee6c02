"""`hypervision rules check|backtest`: located errors and exit codes, replay of a readings file and of
the stored history."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from redis.asyncio import Redis

from alerts.loader import DEFAULT_RULES, load_rules
from hypervision import bus
from hypervision.cli import main
from hypervision.domain import Reading
from hypervision.history import history_ops
from hypervision.picture import picture_entry

RULES = """
rules:
  - id: test.pm10
    title: "PM10 {value} à {source}"
    select: {domain: air, metric: pm10}
    when: {op: ">", value: 50}
    for: 10m
"""
T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["rules", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _reading(value: float, minutes: float, source: str = "air:station:CLI") -> Reading:
    return Reading(
        source=source, domain="air", metric="pm10", value=value, unit="µg/m³",
        observed_at=T0 + timedelta(minutes=minutes), zone="centre",
    )  # fmt: skip


def test_check(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(RULES)
    code, out, _ = run("check", str(good), str(DEFAULT_RULES))
    shipped = len(load_rules([DEFAULT_RULES]).rules)
    assert code == 0 and out.startswith(f"ok: {shipped + 1} rules in 2 file(s), digest ")
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULES.replace("value: 50", "value: lots").replace("for: 10m", "for: later"))
    code, out, err = run("check", str(good), str(bad))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{bad}:6: rule 'test.pm10': field 'when': `>` needs a number",
        f"{bad}:7: rule 'test.pm10': field 'for': 'later' is not a duration "
        "(use seconds or text like 90s, 15m, 2h30m, 1d)",
    ]
    code, _, err = run("check", str(tmp_path / "missing.yaml"))
    assert code != 0


def test_backtest_a_readings_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    readings = tmp_path / "readings.jsonl"
    readings.write_text(
        "".join(_reading(v, 5 * i).model_dump_json() + "\n" for i, v in enumerate([20, 60, 70, 80, 30]))
    )
    code, out, err = run("backtest", str(rules), "--input", str(readings))
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines()] == ["pend", "fire", "resolve"]
    assert out.splitlines()[1].startswith("2026-11-30 09:15:00  fire")
    assert err.strip() == "5 readings, 3 changes; fired: test.pm10 x1"
    code, out, _ = run("backtest", str(rules), "--input", str(readings), "--json")
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["pend", "fire", "resolve"]

    readings.write_text(_reading(1, 0).model_dump_json() + '\n{"source": 1}\n')
    code, _, err = run("backtest", str(rules), "--input", str(readings))
    assert code == 1 and f"{readings}: line 2: " in err
    code, _, err = run("backtest", str(rules))
    assert code == 2 and "--input" in err


async def test_backtest_the_stored_history(tmp_path: Path, redis: Redis, redis_url: str, db_url: str) -> None:
    history = [_reading(v, i) for i, v in enumerate([20, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 20])]
    async with redis.pipeline(transaction=True) as pipe:
        history_ops(pipe, history, now=T0 + timedelta(minutes=13), bucket_s=60, hours=24)
        pipe.hset(bus.PICTURE_KEY, history[-1].key, bus.dumps(picture_entry(history[-1])))
        await pipe.execute()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    env = {"HV_REDIS_URL": redis_url, "HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path / "var")}
    start, end = T0.isoformat(), (T0 + timedelta(minutes=30)).isoformat()
    # The command runs its own event loop: call it from a thread, as a shell would from outside.
    code, out, err = await asyncio.to_thread(
        run, "backtest", str(rules), "--from", start, "--to", end, env=env
    )
    assert code == 0, err
    events = [line.split()[2] for line in out.splitlines()]
    assert events == ["pend", "fire", "resolve"]
    assert err.splitlines()[-1] == "13 readings, 3 changes; fired: test.pm10 x1"
    code, _, err = await asyncio.to_thread(
        run, "backtest", str(rules), "--from", "2026-11-30T08:00", "--to", end, env=env
    )
    assert code == 2 and "needs a time zone" in err
