"""Tasks: the transition table, team isolation over REST and /ws, rule actions, overdue escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import websockets
from sqlmodel import Session, select

from alerts.action import TaskAction
from alerts.schema import Matcher
from hypervision import alert_store, bus, hooks, logbook, silence_store, task_store
from hypervision.db import session_scope
from hypervision.domain import Severity, TaskState
from hypervision.models.logbook import LogbookEntry
from hypervision.models.task import Task, TaskCreate, TaskHistory
from hypervision.models.user import Role
from hypervision.tasks import TRANSITIONS, IllegalTaskTransition, TaskEvent, transition
from tests.hypervision.people_support import T0, change, event_of, fire, frame_where, sql_engine, subscribe
from tests.support import LiveServer

OP, A, P, D, C = (
    TaskState.OPEN,
    TaskState.ACCEPTED,
    TaskState.IN_PROGRESS,
    TaskState.DONE,
    TaskState.CANCELLED,
)


@pytest.mark.parametrize(
    ("state", "event", "after"),
    [
        (OP, TaskEvent.ACCEPT, A),
        (A, TaskEvent.START, P),
        (P, TaskEvent.COMPLETE, D),
        (A, TaskEvent.COMPLETE, D),
        (OP, TaskEvent.CANCEL, C),
        (P, TaskEvent.CANCEL, C),
        (P, TaskEvent.REASSIGN, OP),
    ],
)
def test_allowed_moves(state, event, after):
    assert transition(state, event) == after


def test_every_other_move_is_refused_and_closed_tasks_stay_closed():
    for state in TaskState:
        for event in TaskEvent:
            if (state, event) in TRANSITIONS:
                continue
            with pytest.raises(IllegalTaskTransition):
                transition(state, event)
    assert not [k for k in TRANSITIONS if k[0] in (D, C)]
    with pytest.raises(IllegalTaskTransition, match="'complete' is not allowed on a task that is open"):
        transition(OP, TaskEvent.COMPLETE)


def _task_action(team: str = "helpline", due_in_s: float | None = 1800) -> TaskAction:
    return TaskAction(
        team=team,
        title="Ouvrir des postes",
        details="14 en attente",
        priority=Severity.CRITICAL,
        due_in_s=due_in_s,
    )


def test_rule_task_is_created_once_per_alert_even_when_the_hook_runs_again(db_url):
    engine = sql_engine(db_url)
    with session_scope(engine) as session:
        move = fire(session, actions=(_task_action(),))
        first = task_store.tasks_from_moves(session, [move], T0)
        again = task_store.tasks_from_moves(session, [move], T0)
    assert [e.type for e in first.events] == ["task.changed", "logbook.entry"]
    assert first.events[0].topic == "tasks:helpline"
    assert not again
    with Session(engine) as session:
        (task,) = session.exec(select(Task)).all()
    assert task.alert_id == move.alert["id"] and task.priority == Severity.CRITICAL
    assert task.due_at == T0 + timedelta(minutes=30)
    assert task.created_by == "rule:call_line.test" and task.zone == "dijon-centre"


def test_a_replayed_fire_announces_its_stored_task_and_entries_again_without_storing_them_twice(db_url):
    """The worker stored a fire, its logbook entry and its task, then died before its Redis commit:
    the screens never heard of them. The replay of that batch publishes them again, nothing more."""
    engine = sql_engine(db_url)
    try:
        with session_scope(engine) as session:
            first = alert_store.apply_engine_changes(session, [("9-0", change(actions=(_task_action(),)))])
            published = hooks.publish_moves(session, first, hooks.default_move_hooks(), T0)
        with session_scope(engine) as session:
            # the replay evaluates the same reading later: its change carries a later time
            later = change(actions=(_task_action(),), at=T0 + timedelta(seconds=30))
            replayed = alert_store.apply_engine_changes(session, [("9-0", later)])
            again = hooks.publish_moves(session, replayed, hooks.default_move_hooks(), T0)
            tasks = session.exec(select(Task)).all()
            entries = session.exec(select(LogbookEntry)).all()
    finally:
        engine.dispose()
    assert [m.replayed for m in first] == [False] and [m.replayed for m in replayed] == [True]
    kinds = ["alert.changed", "logbook.entry", "task.changed", "logbook.entry"]
    assert [e.type for e in published.events] == kinds
    assert [e.type for e in again.events] == kinds
    assert [e.topic for e in again.events] == [e.topic for e in published.events]
    assert again.events[1:] == published.events[1:]  # the very entries and task, not new ones
    assert again.events[2].data["change"]["event"] == "create"
    assert len(tasks) == 1 and len(entries) == 2, "the replay stored something twice"


def test_no_rule_task_while_the_alert_is_silenced(db_url):
    engine = sql_engine(db_url)
    with session_scope(engine) as session:
        silence_store.create(
            session,
            matchers=[Matcher(label="rule", value="call_line.*")],
            duration=timedelta(hours=1),
            reason="maintenance of the call centre",
            actor="user:boss",
            now=T0 - timedelta(minutes=5),
        )
        move = fire(session, actions=(_task_action(),))
        assert not task_store.tasks_from_moves(session, [move], T0)
        # An hour later the silence is over: the next firing gets its task.
        later = fire(
            session, cause="9-0", fingerprint="fp-2", actions=(_task_action(),), at=T0 + timedelta(hours=2)
        )
        assert task_store.tasks_from_moves(session, [later], T0 + timedelta(hours=2))


def test_no_rule_task_while_a_zone_wide_alert_inhibits_it(db_url):
    from alerts.schema import InhibitRule

    inhibit = [
        InhibitRule(
            source=[Matcher(label="scope", value="zone")], target=[Matcher(label="scope", value="sensor")]
        )
    ]
    hook = task_store.make_tasks_hook(lambda: inhibit)  # a callable follows rule reloads
    engine = sql_engine(db_url)
    with session_scope(engine) as session:
        fire(session, fingerprint="zone", labels={"rule": "z", "scope": "zone", "zone": "nord"})
        sensor = fire(session, cause="2-0", fingerprint="s1", actions=(_task_action(),),
                      labels={"rule": "s", "scope": "sensor", "zone": "nord"})  # fmt: skip
        elsewhere = fire(session, cause="3-0", fingerprint="s2", actions=(_task_action(),),
                         labels={"rule": "s", "scope": "sensor", "zone": "sud"})  # fmt: skip
        pub = hook(session, [sensor, elsewhere], T0)
    assert [e.data["alert_id"] for e in pub.events if e.type == "task.changed"] == [elsewhere.alert["id"]]


def test_overdue_tasks_escalate_once_to_managers(db_url):
    engine = sql_engine(db_url)
    with session_scope(engine) as session:
        late, _ = task_store.create(
            session, TaskCreate(team="waste", title="Vider C12", due_in_s=600), actor="user:m", now=T0
        )
        task_store.create(session, TaskCreate(team="waste", title="Sans échéance"), actor="user:m", now=T0)
        done, _ = task_store.create(
            session, TaskCreate(team="waste", title="Fait", due_in_s=60), actor="user:m", now=T0
        )
        task_store.move(session, done.id, TaskEvent.ACCEPT, actor="user:w", now=T0)
        task_store.move(session, done.id, TaskEvent.COMPLETE, actor="user:w", now=T0)
        assert not task_store.escalate_overdue(session, T0 + timedelta(minutes=5))
        pub = task_store.escalate_overdue(session, T0 + timedelta(minutes=11))
        assert not task_store.escalate_overdue(session, T0 + timedelta(minutes=12))
    changed = [e for e in pub.events if e.type == "task.changed"]
    assert [e.data["id"] for e in changed] == [late.id]
    assert changed[0].data["escalated_at"] is not None and changed[0].topic == "tasks:waste"
    entries = [e.data for e in pub.events if e.type == "logbook.entry"]
    assert len(entries) == 1 and "escalated to managers" in entries[0]["summary"]
    with Session(engine) as session:
        events = [h.event for h in session.exec(select(TaskHistory).where(TaskHistory.task_id == late.id))]
        assert events == ["create", "escalate"]
        assert logbook.verify(session).ok


async def test_team_sees_and_changes_only_its_own_tasks(live: LiveServer, make_token):
    manager = make_token(Role.MANAGER)
    helpline = make_token(Role.TEAM, teams=["helpline"])
    lighting = make_token(Role.TEAM, teams=["lighting"])
    operator = make_token(Role.OPERATOR)
    async with websockets.connect(f"{live.ws_url}?token={helpline}") as ws:
        snapshot = await subscribe(ws, ["tasks:helpline"])
        assert snapshot["type"] == "snapshot" and snapshot["state"]["tasks"] == []
        async with live.client(manager) as http:
            resp = await http.post("/api/tasks", json={"team": "helpline", "title": "Rappeler le 3e étage",
                                                       "priority": "critical", "due_in_s": 900})  # fmt: skip
            assert resp.status_code == 201, resp.text
            task = resp.json()
        pushed = await frame_where(ws, event_of("task.changed", id=task["id"]))
        assert pushed["topic"] == "tasks:helpline" and pushed["data"]["state"] == "open"
        assert await live.runtime.redis.hexists(bus.OPEN_TASKS_KEY, str(task["id"]))

        async with live.client(lighting) as http:
            assert (await http.get(f"/api/tasks/{task['id']}")).status_code == 403
            move = {"event": "accept"}
            assert (await http.post(f"/api/tasks/{task['id']}/transition", json=move)).status_code == 403
            assert (
                await http.post(f"/api/tasks/{task['id']}/comments", json={"text": "x"})
            ).status_code == 403
            assert (await http.get("/api/tasks")).json() == []
            assert (await http.get("/api/tasks", params={"team": "helpline"})).json() == []
        async with live.client(operator) as http:
            assert (
                await http.post(f"/api/tasks/{task['id']}/transition", json={"event": "accept"})
            ).status_code == 403
            assert [t["id"] for t in (await http.get("/api/tasks")).json()] == [task["id"]]

        async with live.client(helpline) as http:
            assert [t["id"] for t in (await http.get("/api/tasks")).json()] == [task["id"]]
            cancel = await http.post(f"/api/tasks/{task['id']}/transition", json={"event": "cancel"})
            assert cancel.status_code == 403
            early = await http.post(f"/api/tasks/{task['id']}/transition", json={"event": "complete"})
            assert early.status_code == 409
            accepted = await http.post(f"/api/tasks/{task['id']}/transition", json={"event": "accept"})
            assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
            assert accepted.json()["assignee"].startswith("team-")
            frame = await frame_where(ws, event_of("task.changed", state="accepted"))
            assert frame["data"]["change"]["by"].startswith("user:team-")
            comment = await http.post(f"/api/tasks/{task['id']}/comments", json={"text": "En route"})
            assert comment.status_code == 201
            frame = await frame_where(ws, event_of("task.changed", id=task["id"]))
            assert frame["data"]["change"] == {
                **frame["data"]["change"],
                "event": "comment",
                "comment": "En route",
            }
            for event, state in (("start", "in_progress"), ("complete", "done")):
                resp = await http.post(f"/api/tasks/{task['id']}/transition", json={"event": event})
                assert resp.status_code == 200 and resp.json()["state"] == state
            await frame_where(ws, event_of("task.changed", state="done"))
            detail = (await http.get(f"/api/tasks/{task['id']}")).json()
            assert [h["event"] for h in detail["history"]] == [
                "create",
                "accept",
                "comment",
                "start",
                "complete",
            ]
    assert not await live.runtime.redis.hexists(bus.OPEN_TASKS_KEY, str(task["id"]))


async def test_manager_reassigns_to_another_team_and_both_teams_hear_of_it(live: LiveServer, make_token):
    manager = make_token(Role.MANAGER)
    lighting = make_token(Role.TEAM, teams=["lighting"])
    async with live.client(manager) as http:
        task = (await http.post("/api/tasks", json={"team": "helpline", "title": "Panne"})).json()
    async with websockets.connect(f"{live.ws_url}?token={lighting}") as ws:
        await subscribe(ws, ["tasks:lighting"])
        async with live.client(manager) as http:
            resp = await http.post(
                f"/api/tasks/{task['id']}/transition",
                json={"event": "reassign", "team": "lighting", "comment": "c'est l'éclairage"},
            )
            assert resp.status_code == 200 and resp.json()["team"] == "lighting"
        frame = await frame_where(ws, event_of("task.changed", id=task["id"]))
        assert frame["topic"] == "tasks:lighting" and frame["data"]["state"] == "open"
    async with live.client(lighting) as http:
        assert (await http.get(f"/api/tasks/{task['id']}")).status_code == 200
    # The helpline's channel was told too, so its screens drop the task.
    raw = await live.runtime.redis.xrange(bus.EVENTS_STREAM)
    topics = [f[b"topic"].decode() for _, f in raw if f[b"type"] == b"task.changed"]
    assert topics == ["tasks:helpline", "tasks:lighting", "tasks:helpline"]
    with Session(live.runtime.db) as session:
        assert logbook.verify(session).ok


async def test_the_escalation_job_commits_and_pushes_once(runtime):
    from datetime import UTC, datetime

    from hypervision.people_jobs import escalate_overdue_tasks

    past = datetime.now(UTC) - timedelta(hours=2)
    with session_scope(runtime.db) as session:
        task, _ = task_store.create(
            session, TaskCreate(team="lighting", title="Armoire E12", due_in_s=600), actor="user:m", now=past
        )
    assert await escalate_overdue_tasks(runtime) == 1
    assert await escalate_overdue_tasks(runtime) == 0
    entries = await runtime.redis.xrange(bus.EVENTS_STREAM)
    kinds = [(f[b"type"].decode(), f[b"topic"].decode()) for _, f in entries]
    assert kinds == [("task.changed", "tasks:lighting"), ("logbook.entry", "logbook")]
    mirrored = bus.loads(await runtime.redis.hget(bus.OPEN_TASKS_KEY, str(task.id)))
    assert mirrored["escalated_at"] is not None
