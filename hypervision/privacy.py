"""Retention of free text: after HV_RETENTION_DAYS, closed items lose their free text, not their audit.

What goes: task titles, details, locations and comments of closed tasks; the text of logbook entries;
comments on the history of resolved alerts; reasons of ended silences. What stays: who did what and
when (staff identities, states, times, teams), and the logbook's hash chain, which covers a hash of
the text and so still verifies once the text is gone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hypervision.db import session_scope
from hypervision.domain import AlertState
from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.logbook import LogbookEntry
from hypervision.models.silence import Silence
from hypervision.models.task import Task, TaskHistory
from hypervision.tasks import CLOSED_STATES

ANONYMISED = "[anonymised]"


@dataclass(frozen=True)
class PurgeReport:
    tasks: int = 0
    task_comments: int = 0
    logbook_entries: int = 0
    alert_comments: int = 0
    silences: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


def purge(session: Session, *, now: datetime, retention_days: int) -> PurgeReport:
    """Anonymise, in the caller's transaction, what closed before ``now - retention_days``."""
    now = now.astimezone(UTC)
    cutoff = now - timedelta(days=retention_days)
    tasks = session.exec(
        select(Task).where(
            col(Task.state).in_(list(CLOSED_STATES)),
            col(Task.closed_at) < cutoff,
            col(Task.anonymised_at).is_(None),
        )
    ).all()
    task_comments = 0
    for task in tasks:
        task.title = ANONYMISED
        task.details = ""
        task.location = None
        task.anonymised_at = now
        session.add(task)
        for row in session.exec(
            select(TaskHistory).where(TaskHistory.task_id == task.id, col(TaskHistory.comment).is_not(None))
        ).all():
            row.comment = ANONYMISED
            session.add(row)
            task_comments += 1
    entries = session.exec(
        select(LogbookEntry).where(
            col(LogbookEntry.at) < cutoff,
            col(LogbookEntry.text).is_not(None),
            col(LogbookEntry.anonymised_at).is_(None),
        )
    ).all()
    for entry in entries:
        # The chain covers text_hash, which stays: `logbook verify` still holds.
        entry.text = None
        entry.anonymised_at = now
        session.add(entry)
    resolved_long_ago = select(Alert.id).where(
        Alert.state == AlertState.RESOLVED, col(Alert.resolved_at) < cutoff
    )
    alert_rows = session.exec(
        select(AlertHistory).where(
            col(AlertHistory.alert_id).in_(resolved_long_ago),
            col(AlertHistory.comment).is_not(None),
            AlertHistory.comment != ANONYMISED,
        )
    ).all()
    for alert_row in alert_rows:
        alert_row.comment = ANONYMISED
        session.add(alert_row)
    silences = session.exec(
        select(Silence).where(col(Silence.ends_at) < cutoff, Silence.reason != ANONYMISED)
    ).all()
    for silence in silences:
        silence.reason = ANONYMISED
        session.add(silence)
    session.flush()
    return PurgeReport(len(tasks), task_comments, len(entries), len(alert_rows), len(silences))


def purge_expired(db: Engine, *, now: datetime, retention_days: int) -> PurgeReport:
    """The daily job (the scheduler calls this in a thread): one transaction, committed."""
    with session_scope(db) as session:
        return purge(session, now=now, retention_days=retention_days)
