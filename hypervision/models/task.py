"""Field-team tasks and their audit trail (every move, reassignment and comment is one history row)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime
from sqlmodel import Field, SQLModel

from hypervision.domain import Severity, TaskState


class TaskBase(SQLModel):
    team: str = Field(max_length=64, index=True)
    title: str = Field(max_length=300)
    details: str = Field(default="", max_length=4000)
    zone: str | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=200)
    priority: Severity = Field(default=Severity.WARNING, max_length=16)
    due_at: datetime | None = None
    alert_id: int | None = Field(default=None, foreign_key="alert.id", index=True)


class TaskCreate(SQLModel):
    team: str = Field(min_length=1, max_length=64, regex=r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
    title: str = Field(min_length=1, max_length=300)
    details: str = Field(default="", max_length=4000)
    zone: str | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=200)
    priority: Severity = Severity.WARNING
    due_at: AwareDatetime | None = Field(default=None, description="with a time zone; or use due_in_s")
    due_in_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    alert_id: int | None = None


class Task(TaskBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    state: TaskState = Field(default=TaskState.OPEN, max_length=16, index=True)
    assignee: str | None = Field(default=None, max_length=64)
    # "alert:{id}:{n}" for a task created by a rule action: the replay of the same move is a no-op.
    origin: str | None = Field(default=None, max_length=128, unique=True)
    created_by: str = Field(max_length=128)
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = Field(default=None, index=True)
    escalated_at: datetime | None = None
    anonymised_at: datetime | None = None


class TaskPublic(TaskBase):
    id: int
    state: TaskState
    assignee: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    escalated_at: datetime | None


class TaskHistory(SQLModel, table=True):
    """One audit row per move, reassignment, escalation or comment: who, when, before/after, why."""

    __tablename__ = "task_history"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    at: datetime
    event: str = Field(max_length=16)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    actor: str = Field(max_length=128)
    team: str = Field(max_length=64)
    comment: str | None = Field(default=None, max_length=2000)


class TaskHistoryPublic(SQLModel):
    at: datetime
    event: str
    from_state: str | None
    to_state: str
    actor: str
    team: str
    comment: str | None
