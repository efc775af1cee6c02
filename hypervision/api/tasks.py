"""Tasks for field teams: list, create (manager), move through the lifecycle, comment.

A team member sees and changes only their own teams' tasks (403 otherwise), and makes only the
field moves (accept, start, complete); cancelling and reassigning are a manager's decision.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from hypervision import task_store
from hypervision.api.deps import Manager, RuntimeDep, SessionDep, TaskWorker, Viewer
from hypervision.auth import Principal
from hypervision.events import Publication
from hypervision.models.alert import Alert
from hypervision.models.task import Task, TaskCreate, TaskHistoryPublic, TaskPublic
from hypervision.models.user import Role
from hypervision.tasks import TEAM_EVENTS, IllegalTaskTransition, TaskEvent
from hypervision.unit_of_work import commit_and_publish

router = APIRouter(prefix="/api/tasks", tags=["tasks"])

TEAM_NAME = r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$"


class TaskDetail(TaskPublic):
    history: list[TaskHistoryPublic]


class TransitionRequest(BaseModel):
    event: TaskEvent
    comment: str | None = Field(default=None, max_length=2000)
    team: str | None = Field(default=None, pattern=TEAM_NAME, description="reassign: the new team")
    assignee: str | None = Field(default=None, max_length=64, description="reassign: a named person")


class CommentRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class Forbidden(Exception):
    pass


def _check_team(principal: Principal, task: Task) -> None:
    if principal.role == Role.TEAM and task.team not in principal.teams:
        raise Forbidden(f"task {task.id} belongs to team {task.team!r}, not yours")


@router.get("", response_model=list[TaskPublic])
def list_tasks(
    session: SessionDep,
    principal: Viewer,
    state: Annotated[
        Literal["open", "all", "accepted", "in_progress", "done", "cancelled"], Query()
    ] = "open",
    team: Annotated[str | None, Query(pattern=TEAM_NAME)] = None,
    alert_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    teams: list[str] | None = [team] if team else None
    if principal.role == Role.TEAM:
        teams = [t for t in (teams or principal.teams) if t in principal.teams]
    rows = task_store.list_tasks(session, teams=teams, state=state, alert_id=alert_id, limit=limit)
    return [task_store.task_public(t) for t in rows]


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
async def create_task(body: TaskCreate, runtime: RuntimeDep, principal: Manager) -> Any:
    """Dispatch a task to a team; it reaches the team's channel (``tasks:{team}``) at once."""

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        if body.alert_id is not None and session.get(Alert, body.alert_id) is None:
            raise task_store.TaskNotFound(f"no alert {body.alert_id}")
        task, publication = task_store.create(session, body, actor=principal.actor, now=runtime.clock())
        return task_store.task_public(task), publication

    try:
        return await commit_and_publish(runtime, work)
    except task_store.TaskNotFound as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(task_id: int, session: SessionDep, principal: Viewer) -> dict[str, Any]:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id}")
    try:
        _check_team(principal, task)
    except Forbidden as err:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(err)) from err
    detail = task_store.task_public(task)
    detail["history"] = [TaskHistoryPublic.model_validate(h) for h in task_store.history(session, task_id)]
    return detail


async def _run(runtime: RuntimeDep, work: Any) -> Any:
    try:
        return await commit_and_publish(runtime, work)
    except task_store.TaskNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except Forbidden as err:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(err)) from err
    except IllegalTaskTransition as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err


@router.post("/{task_id}/transition", response_model=TaskPublic)
async def transition_task(
    task_id: int, body: TransitionRequest, runtime: RuntimeDep, principal: TaskWorker
) -> Any:
    """Accept, start, complete (the team), cancel or reassign (a manager)."""
    if principal.role == Role.TEAM and body.event not in TEAM_EVENTS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only a manager may {body.event.value} a task")

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        _check_team(principal, task_store.get(session, task_id))
        assignee = principal.name if body.event == TaskEvent.ACCEPT else body.assignee
        task, publication = task_store.move(
            session,
            task_id,
            body.event,
            actor=principal.actor,
            now=runtime.clock(),
            comment=body.comment,
            team=body.team,
            assignee=assignee,
        )
        return task_store.task_public(task), publication

    return await _run(runtime, work)


@router.post("/{task_id}/comments", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
async def comment_task(task_id: int, body: CommentRequest, runtime: RuntimeDep, principal: TaskWorker) -> Any:
    """Report progress; the team's screens and the managers see it at once."""

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        _check_team(principal, task_store.get(session, task_id))
        task, publication = task_store.add_comment(
            session, task_id, actor=principal.actor, text=body.text, now=runtime.clock()
        )
        return task_store.task_public(task), publication

    return await _run(runtime, work)
