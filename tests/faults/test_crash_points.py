"""SIGKILL a worker inside the SQL step, or between the SQL commit and the Redis EXEC, start another.

The lead's test_worker_crash kills at a random moment; these kill at the two moments where the
SQL database and Redis disagree, and check every place an alert shows: SQL rows and their audit,
the open-alerts mirror, the events screens read, and the history counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from alerts.lifecycle import AlertEvent
from hypervision import alert_store, bus
from hypervision.db import session_scope
from hypervision.events import MirrorDelete, decode_entry
from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.task import Task
from hypervision.runtime import Runtime
from tests.faults.faultkit import RULES, alert_events, no2_readings, nothing_pending, picture_size, rules_file
from tests.hypervision.people_support import T0, change, fire, sql_engine
from tests.support import eventually

pytestmark = pytest.mark.fault

N_READINGS = 1_500
EVERY_NTH_ALERTS = 10
CRASH_AFTER = 3  # the third batch that moves an alert
HERE = Path(__file__).resolve().parent
WITH_TASK = (
    RULES
    + """    actions:
      tasks:
        - team: air
          title: "Check {source}"
"""
)


def _env(runtime: Runtime, rules: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HV_REDIS_URL=runtime.settings.redis_url or "",
        HV_DATABASE_URL=runtime.settings.sqlalchemy_url,
        HV_SECRET_KEY="crash-points",
        HV_READING_SHARDS=str(runtime.settings.reading_shards),
        HV_WORKER_BATCH="50",
        HV_LEASE_TTL_MS="1500",
        HV_DATA_DIR=str(runtime.settings.data_dir),
        HV_RULES_FILES=json.dumps([str(rules)]),
        **extra,
    )
    return env


@pytest.mark.parametrize("crash_at", ["sql", "exec"])
async def test_kill_between_sql_and_redis_keeps_every_alert_exactly_once(
    runtime: Runtime, tmp_path: Path, crash_at: str
):
    rules = rules_file(tmp_path, WITH_TASK)
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    readings = no2_readings("K", N_READINGS, start, every_nth=EVERY_NTH_ALERTS)
    await runtime.ingestor.accept(readings)

    doomed = subprocess.run(
        [sys.executable, str(HERE / "crashing_worker.py"), "--name", "doomed"],
        env=_env(runtime, rules, HV_TEST_CRASH_AT=crash_at, HV_TEST_CRASH_AFTER=str(CRASH_AFTER)),
        timeout=60,
        capture_output=True,
    )
    assert doomed.returncode == -9, doomed.stderr.decode()[-2000:]
    assert f"SIGKILL at {crash_at}".encode() in doomed.stderr
    with Session(runtime.db) as session:
        stored = len(session.exec(select(Alert)).all())
    # Two alerting batches committed, the third died: in SQL (exec) or not (sql), never acknowledged.
    assert 0 < stored < N_READINGS // EVERY_NTH_ALERTS
    assert await runtime.redis.hlen(bus.PICTURE_KEY) < N_READINGS

    survivor = subprocess.Popen(
        [sys.executable, "-m", "hypervision", "worker", "--name", "survivor"], env=_env(runtime, rules)
    )
    try:
        await eventually(lambda: picture_size(runtime, N_READINGS), timeout=90)
        await eventually(lambda: nothing_pending(runtime), timeout=30)
    finally:
        survivor.terminate()
        survivor.wait(15)

    expected = {f"air:station:K{i:05d}" for i in range(0, N_READINGS, EVERY_NTH_ALERTS)}
    with Session(runtime.db) as session:
        alerts = session.exec(select(Alert)).all()
        fires = session.exec(select(AlertHistory).where(AlertHistory.event == "fire")).all()
        tasks = session.exec(select(Task)).all()
    assert sorted(a.source or "" for a in alerts) == sorted(expected), "an alert lost or stored twice"
    assert Counter(h.fingerprint for h in fires) == Counter({a.fingerprint: 1 for a in alerts})

    mirror = {bus.loads(v)["source"] for v in await runtime.redis.hvals(bus.OPEN_ALERTS_KEY)}
    assert mirror == expected, f"{len(expected - mirror)} open alerts missing from the screens' mirror"
    fired = await alert_events(runtime)
    events = [decode_entry(i, f)[1] for i, f in await runtime.redis.xrange(bus.EVENTS_STREAM)]
    assert set(fired) == expected and set(fired.values()) == {1}, "an alert event lost or sent twice"
    # each fire's task: stored once, announced once to its team (again after the kill at exec)
    task_ids = [int(t.id or 0) for t in tasks]
    assert sorted(t.alert_id or 0 for t in tasks) == sorted(int(a.id or 0) for a in alerts)
    announced = Counter(e.data["id"] for e in events if e.type == "task.changed" and e.topic == "tasks:air")
    assert announced == Counter({i: 1 for i in task_ids}), "a task announcement lost or sent twice"
    logged = Counter(e.data["ref"] for e in events if e.type == "logbook.entry")
    assert logged == Counter({**{f"alert:{a.id}": 1 for a in alerts}, **{f"task:{i}": 1 for i in task_ids}})
    shown = Counter(r["key"] for e in events if e.type == "picture.delta" for r in e.data["readings"])
    assert len(shown) == N_READINGS and set(shown.values()) == {1}
    counted = [await runtime.redis.hvals(bus.history_key(f"{r.source}|no2")) for r in readings[:200]]
    assert all(len(h) == 1 and h[0].split()[0] == b"1" for h in counted), "history counted a reading twice"


def test_a_replayed_fire_after_a_manual_resolve_leaves_the_alert_off_the_open_mirror(db_url: str) -> None:
    """The worker died after storing a fire; a person resolved the alert before the replay: the
    replay republishes the fire event but must not put a resolved alert back among the open ones."""
    engine = sql_engine(db_url)
    try:
        with session_scope(engine) as session:
            alert_id = int(fire(session, cause="7-0").alert["id"])
        with session_scope(engine) as session:
            alert_store.apply_manual(
                session,
                alert_id,
                AlertEvent.RESOLVE,
                actor="op",
                comment="done",
                now=T0 + timedelta(minutes=5),
            )
        with session_scope(engine) as session:
            moves = alert_store.apply_engine_changes(session, [("7-0", change())])
            publication = alert_store.publication_for(moves)
    finally:
        engine.dispose()
    assert [(m.event, m.replayed) for m in moves] == [(AlertEvent.FIRE, True)]
    assert [e.type for e in publication.events] == ["alert.changed"]
    assert publication.mirror == [MirrorDelete(bus.OPEN_ALERTS_KEY, str(alert_id))]
