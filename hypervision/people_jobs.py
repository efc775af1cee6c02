"""Periodic jobs of the people features, ready for the scheduler: overdue-task escalation, retention."""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import Session

from hypervision import privacy, task_store
from hypervision.events import Publication
from hypervision.privacy import PurgeReport
from hypervision.runtime import Runtime
from hypervision.unit_of_work import commit_and_publish

log = logging.getLogger(__name__)


async def escalate_overdue_tasks(runtime: Runtime) -> int:
    """Escalate tasks past their due time (each once) and push it to managers; returns how many."""
    now = runtime.clock()

    def work(session: Session) -> tuple[int, Publication]:
        publication = task_store.escalate_overdue(session, now)
        count = sum(1 for e in publication.events if e.type == "task.changed")
        return count, publication

    count = await commit_and_publish(runtime, work)
    if count:
        log.warning("%d overdue task(s) escalated to managers", count)
    return count


async def purge_free_text(runtime: Runtime) -> PurgeReport:
    """The daily retention job: blank free text of items closed before HV_RETENTION_DAYS."""
    report = await asyncio.to_thread(
        privacy.purge_expired, runtime.db, now=runtime.clock(), retention_days=runtime.settings.retention_days
    )
    if report.total:
        log.info("retention purge anonymised %s", report.as_dict())
    return report
