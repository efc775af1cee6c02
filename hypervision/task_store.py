"""Tasks in SQL: create (by a manager or a rule action), move, comment, escalate; with audit and events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from alerts.action import TaskAction
from alerts.inhibition import is_inhibited
from alerts.lifecycle import AlertEvent
from alerts.schema import InhibitRule
from hypervision import alert_store, bus, logbook, silence_store
from hypervision.alert_store import AppliedMove
from hypervision.domain import TaskState
from hypervision.events import Event, MirrorDelete, MirrorSet, Publication
from hypervision.hooks import MoveHook
from hypervision.models.task import Task, TaskCreate, TaskHistory, TaskPublic
from hypervision.tasks import CLOSED_STATES, TaskEvent, transition

log = logging.getLogger(__name__)

_WORDS = {
    TaskEvent.ACCEPT: "accepted",
    TaskEvent.START: "started",
    TaskEvent.COMPLETE: "done",
    TaskEvent.CANCEL: "cancelled",
    TaskEvent.REASSIGN: "reassigned",
}


class TaskNotFound(LookupError):
    pass


def task_public(task: Task) -> dict[str, Any]:
    return TaskPublic.model_validate(task).model_dump(mode="json")


def get(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(f"no task {task_id}")
    return task


def list_tasks(
    session: Session,
    *,
    teams: Sequence[str] | None = None,
    state: str = "open",
    alert_id: int | None = None,
    limit: int = 200,
) -> list[Task]:
    """Tasks, newest first; ``teams`` limits them to those teams (a team member's view)."""
    query = select(Task)
    if teams is not None:
        query = query.where(col(Task.team).in_(list(teams)))
    if state == "open":
        query = query.where(col(Task.state).not_in(list(CLOSED_STATES)))
    elif state != "all":
        query = query.where(Task.state == TaskState(state))
    if alert_id is not None:
        query = query.where(Task.alert_id == alert_id)
    return list(session.exec(query.order_by(col(Task.id).desc()).limit(limit)).all())


def history(session: Session, task_id: int) -> list[TaskHistory]:
    return list(
        session.exec(
            select(TaskHistory).where(TaskHistory.task_id == task_id).order_by(col(TaskHistory.id))
        ).all()
    )


def _record(
    session: Session,
    task: Task,
    event: str,
    before: TaskState | None,
    actor: str,
    at: datetime,
    comment: str | None,
) -> None:
    assert task.id is not None
    session.add(
        TaskHistory(
            task_id=task.id,
            at=at,
            event=event,
            from_state=before.value if before else None,
            to_state=TaskState(task.state).value,
            actor=actor,
            team=task.team,
            comment=comment,
        )
    )


def _created(actor: str) -> dict[str, Any]:
    return {"event": "create", "from": None, "to": TaskState.OPEN.value, "by": actor}


def publication_for(task: Task, change: dict[str, Any], *, old_team: str | None = None) -> Publication:
    """``task.changed`` on the team's topic (and the former team's, after a reassignment) + the mirror."""
    data = task_public(task)
    data["change"] = change
    pub = Publication()
    key = str(task.id)
    if TaskState(task.state) in CLOSED_STATES:
        pub.mirror.append(MirrorDelete(bus.OPEN_TASKS_KEY, key))
    else:
        pub.mirror.append(MirrorSet(bus.OPEN_TASKS_KEY, key, task_public(task)))
    pub.events.append(Event("task.changed", f"tasks:{task.team}", data))
    if old_team is not None and old_team != task.team:
        pub.events.append(Event("task.changed", f"tasks:{old_team}", data))
    return pub


def create(
    session: Session, spec: TaskCreate, *, actor: str, now: datetime, origin: str | None = None
) -> tuple[Task, Publication]:
    now = now.astimezone(UTC)
    due_at = spec.due_at
    if due_at is None and spec.due_in_s is not None:
        due_at = now + timedelta(seconds=spec.due_in_s)
    task = Task(
        team=spec.team,
        title=spec.title,
        details=spec.details,
        zone=spec.zone,
        location=spec.location,
        priority=spec.priority,
        due_at=due_at.astimezone(UTC) if due_at else None,
        alert_id=spec.alert_id,
        origin=origin,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    _record(session, task, "create", None, actor, now, None)
    pub = publication_for(task, _created(actor))
    due = f", due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else ""
    _, entry_pub = logbook.append(
        session,
        kind=logbook.Kind.TASK,
        actor=actor,
        summary=f"Task #{task.id} dispatched to {task.team} ({task.priority}{due})",
        at=now,
        ref=f"task:{task.id}",
        # Title and details are free text: kept out of the summary so retention can blank them.
        text=f"{task.title}\n{task.details}".strip(),
        data={"event": "create", "team": task.team, "alert_id": task.alert_id},
    )
    pub.extend(entry_pub)
    return task, pub


def move(
    session: Session,
    task_id: int,
    event: TaskEvent,
    *,
    actor: str,
    now: datetime,
    comment: str | None = None,
    team: str | None = None,
    assignee: str | None = None,
) -> tuple[Task, Publication]:
    """Apply one event through the transition table; raises TaskNotFound or IllegalTaskTransition."""
    now = now.astimezone(UTC)
    task = get(session, task_id)
    before = TaskState(task.state)
    after = transition(before, event)
    old_team = task.team
    task.state = after
    task.updated_at = now
    if event == TaskEvent.ACCEPT:
        task.assignee = assignee or actor.removeprefix("user:")
    elif event == TaskEvent.REASSIGN:
        task.team = team or task.team
        task.assignee = assignee
        task.escalated_at = None  # the new team gets its own chance before escalating again
    if after in CLOSED_STATES:
        task.closed_at = now
    session.add(task)
    session.flush()
    _record(session, task, event.value, before, actor, now, comment)
    change = {"event": event.value, "from": before.value, "to": after.value, "by": actor, "comment": comment}
    pub = publication_for(task, change, old_team=old_team)
    summary = f"Task #{task.id} {_WORDS[event]} by {actor}"
    if event == TaskEvent.REASSIGN:
        summary = f"Task #{task.id} reassigned from {old_team} to {task.team} by {actor}"
    _, entry_pub = logbook.append(
        session,
        kind=logbook.Kind.TASK,
        actor=actor,
        summary=summary,
        at=now,
        ref=f"task:{task.id}",
        text=comment,
        data={"event": event.value, "from": before.value, "to": after.value, "team": task.team},
    )
    pub.extend(entry_pub)
    return task, pub


def add_comment(
    session: Session, task_id: int, *, actor: str, text: str, now: datetime
) -> tuple[Task, Publication]:
    """A comment is an audit row without a move; the team's screens see it at once."""
    now = now.astimezone(UTC)
    task = get(session, task_id)
    state = TaskState(task.state)
    task.updated_at = now
    session.add(task)
    _record(session, task, "comment", state, actor, now, text)
    session.flush()
    change = {"event": "comment", "from": state.value, "to": state.value, "by": actor, "comment": text}
    return task, publication_for(task, change)


# -- rule actions --------------------------------------------------------------------------------


def dispatch_from_moves(
    session: Session, moves: Sequence[AppliedMove], now: datetime, inhibit: Sequence[InhibitRule] = ()
) -> Publication:
    """Create the tasks a rule asks for when its alert fires: once per alert and action (a replay
    finds the ``origin`` already taken), and not while the alert is silenced or inhibited."""
    publication = Publication()
    for move in moves:
        if move.event != AlertEvent.FIRE or move.change is None:
            continue
        actions = [a for a in move.change.actions if isinstance(a, TaskAction)]
        if not actions:
            continue
        alert_id = int(move.alert["id"])
        labels = dict(move.change.labels)
        muted = silence_store.silenced_by(session, labels, now)
        if muted:
            log.info("alert %s is silenced (silence %s): no task dispatched", alert_id, muted[0].id)
            continue
        if inhibit:
            others = [dict(a.labels) for a in alert_store.open_alerts(session) if a.id != alert_id]
            if is_inhibited(labels, others, inhibit):
                log.info("alert %s is inhibited: no task dispatched", alert_id)
                continue
        at = move.change.at.astimezone(UTC)
        for index, action in enumerate(actions):
            origin = f"alert:{alert_id}:{index}"
            if session.exec(select(Task.id).where(Task.origin == origin)).first() is not None:
                continue
            spec = TaskCreate(
                team=action.team,
                title=action.title[:300],
                details=action.details[:4000],
                zone=move.alert.get("zone"),
                priority=action.priority,
                due_at=at + timedelta(seconds=action.due_in_s) if action.due_in_s else None,
                alert_id=alert_id,
            )
            _, pub = create(session, spec, actor=move.actor, now=at, origin=origin)
            publication.extend(pub)
    return publication


def stored_for_replayed(session: Session, moves: Sequence[AppliedMove]) -> Publication:
    """Replay hook: the tasks ``dispatch_from_moves`` created for these fires in a run whose Redis
    commit died, announced again with their logbook entries (never created twice: see ``origin``)."""
    publication = Publication()
    for move in moves:
        if move.event != AlertEvent.FIRE:
            continue
        prefix = f"alert:{int(move.alert['id'])}:"
        query = select(Task).where(col(Task.origin).startswith(prefix)).order_by(col(Task.id))
        for task in session.exec(query).all():
            publication.extend(publication_for(task, _created(task.created_by)))
            for entry in logbook.entries_about(session, f"task:{task.id}"):
                if entry.data.get("event") == "create":
                    publication.extend(logbook.publication_for(entry))
    return publication


def tasks_from_moves(session: Session, moves: Sequence[AppliedMove], now: datetime) -> Publication:
    """Move hook (registered in hypervision.hooks): rule task actions, checking silences."""
    return dispatch_from_moves(session, moves, now)


def make_tasks_hook(inhibit: Sequence[InhibitRule] | Callable[[], Sequence[InhibitRule]]) -> MoveHook:
    """The same hook, also skipping alerts inhibited under the rule set's inhibition rules.

    Pass a callable (e.g. ``lambda: runtime.load_rule_set().inhibit``) to follow rule reloads.
    """
    current = inhibit if callable(inhibit) else (lambda rules=tuple(inhibit): rules)

    def hook(session: Session, moves: Sequence[AppliedMove], now: datetime) -> Publication:
        return dispatch_from_moves(session, moves, now, current())

    return hook


# -- overdue tasks -------------------------------------------------------------------------------


def escalate_overdue(session: Session, now: datetime) -> Publication:
    """Mark open tasks past their due time as escalated (once each) and tell the managers.

    Managers follow every team's topic (``tasks``) and the logbook, so the ``task.changed`` event
    (with ``escalated_at`` set) and the logbook entry reach them. The caller commits, then publishes.
    """
    now = now.astimezone(UTC)
    overdue = session.exec(
        select(Task)
        .where(
            col(Task.state).not_in(list(CLOSED_STATES)),
            col(Task.due_at).is_not(None),
            col(Task.due_at) <= now,
            col(Task.escalated_at).is_(None),
        )
        .order_by(col(Task.id))
    ).all()
    publication = Publication()
    for task in overdue:
        task.escalated_at = now
        session.add(task)
        state = TaskState(task.state)
        _record(session, task, "escalate", state, "system:overdue", now, None)
        session.flush()
        change = {"event": "escalate", "from": state.value, "to": state.value, "by": "system:overdue"}
        publication.extend(publication_for(task, change))
        due = task.due_at
        _, pub = logbook.append(
            session,
            kind=logbook.Kind.TASK,
            actor="system:overdue",
            summary=f"Task #{task.id} for {task.team} overdue since {due:%Y-%m-%d %H:%M} UTC "
            f"({state.value}): escalated to managers",
            at=now,
            ref=f"task:{task.id}",
            data={"event": "escalate", "team": task.team, "state": state.value},
        )
        publication.extend(pub)
    return publication
